import { describe, it, expect } from 'vitest';
import { localToUtcIso, parseDurationSec, zoneOffsetMs, TimeFormatError } from '../../functions/engage-voice/time.ts';

const NY = 'America/New_York';

describe('call_start in the account zone → UTC', () => {
  it('converts a winter (EST, -05:00) time with a four-digit fraction', () => {
    expect(localToUtcIso('2026-11-20 09:12:05.4830', NY)).toBe('2026-11-20T14:12:05.483Z');
  });

  it('converts a summer (EDT, -04:00) time', () => {
    expect(localToUtcIso('2026-07-04 12:00:00', NY)).toBe('2026-07-04T16:00:00.000Z');
  });

  it('is right on both sides of the spring-forward change (2026-03-08 02:00 EST → 03:00 EDT)', () => {
    expect(localToUtcIso('2026-03-08 01:59:59.9999', NY)).toBe('2026-03-08T06:59:59.999Z');
    expect(localToUtcIso('2026-03-08 03:00:00.0000', NY)).toBe('2026-03-08T07:00:00.000Z');
    // 02:30 never happened on the wall clock: moved forward by the gap, as Temporal's 'compatible' does.
    expect(localToUtcIso('2026-03-08 02:30:00', NY)).toBe('2026-03-08T07:30:00.000Z');
  });

  it('is right on both sides of the fall-back change (2026-11-01 02:00 EDT → 01:00 EST)', () => {
    expect(localToUtcIso('2026-11-01 00:59:59', NY)).toBe('2026-11-01T04:59:59.000Z');
    // 01:30 happened twice: the first (EDT) is taken.
    expect(localToUtcIso('2026-11-01 01:30:00', NY)).toBe('2026-11-01T05:30:00.000Z');
    expect(localToUtcIso('2026-11-01 02:00:00', NY)).toBe('2026-11-01T07:00:00.000Z');
  });

  it('handles other zones (no DST, half-hour offsets, southern hemisphere)', () => {
    expect(localToUtcIso('2026-01-15 10:00:00', 'UTC')).toBe('2026-01-15T10:00:00.000Z');
    expect(localToUtcIso('2026-01-15 10:00:00', 'Asia/Kolkata')).toBe('2026-01-15T04:30:00.000Z');
    expect(localToUtcIso('2026-01-15 10:00:00', 'Australia/Sydney')).toBe('2026-01-14T23:00:00.000Z');
    expect(localToUtcIso('2026-12-31 23:30:00', 'America/Los_Angeles')).toBe('2027-01-01T07:30:00.000Z');
  });

  it('honours an explicit Z or offset instead of the configured zone', () => {
    expect(localToUtcIso('2026-11-20T09:12:05Z', NY)).toBe('2026-11-20T09:12:05.000Z');
    expect(localToUtcIso('2026-11-20 09:12:05+01:00', NY)).toBe('2026-11-20T08:12:05.000Z');
  });

  it('computes zone offsets from Intl', () => {
    expect(zoneOffsetMs(NY, Date.parse('2026-01-01T12:00:00Z'))).toBe(-5 * 3600_000);
    expect(zoneOffsetMs(NY, Date.parse('2026-07-01T12:00:00Z'))).toBe(-4 * 3600_000);
  });

  it.each(['2026-02-30 10:00:00', '2026-13-01 10:00:00', '2026-11-20 24:00:00', '20/11/2026 09:12', 'yesterday', '2026-11-20'])(
    'rejects %j', (value) => {
      expect(() => localToUtcIso(value, NY)).toThrow(TimeFormatError);
    },
  );
});

describe('duration', () => {
  it.each([
    ['205', 205], ['0', 0], ['205.25', 205.25], ['00:03:25', 205], ['01:00:00', 3600], ['3:25', 205], ['03:25', 205],
    ['26:00:01', 93601], [' 00:00:07 ', 7],
  ])('%j → %d s', (value, expected) => {
    expect(parseDurationSec(value)).toBe(expected);
  });

  it.each(['', 'abc', '-5', '00:61:00', '1:2:3:4', '1e3'])('rejects %j', (value) => {
    expect(() => parseDurationSec(value)).toThrow(TimeFormatError);
  });
});
