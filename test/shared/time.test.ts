import { describe, it, expect } from 'vitest';
import { parseClockDuration, parseEpochMs, parseEpochSeconds, parseInstant, parseIsoInstant, parseLocalDateTime, parseSeconds, toIso, zoneOffsetMs } from '#shared/time';

/** One parser per format (functions/shared/time.ts); each answers undefined for anything that is not its format. */

const NY = 'America/New_York';
const localToUtcIso = (value: string, zone: string) => toIso(parseLocalDateTime(value, zone));

describe('parseLocalDateTime: Engage Voice\'s call_start in the account zone → UTC', () => {
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

  it('is not the ISO parser: a value with Z or an offset is not a wall-clock time', () => {
    expect(localToUtcIso('2026-11-20T09:12:05Z', NY)).toBeUndefined();
    expect(localToUtcIso('2026-11-20 09:12:05+01:00', NY)).toBeUndefined();
  });

  it('computes zone offsets from Intl', () => {
    expect(zoneOffsetMs(NY, Date.parse('2026-01-01T12:00:00Z'))).toBe(-5 * 3600_000);
    expect(zoneOffsetMs(NY, Date.parse('2026-07-01T12:00:00Z'))).toBe(-4 * 3600_000);
  });

  it.each(['2026-02-30 10:00:00', '2026-02-29 10:00:00', '2026-13-01 10:00:00', '2026-00-10 10:00:00', '2026-11-20 24:00:00',
    '2026-11-20 10:60:00', '2026-11-20 10:00:60', '1969-12-31 23:59:59', '2201-01-01 00:00:00', '20/11/2026 09:12', 'yesterday',
    '2026-11-20', '', ' ', '#call_start#', '2026-11-20 10:00:00.1234567890', '+02026-11-20 10:00:00', '２０２６-11-20 10:00:00',
    '2026-11-20\n10:00:00', '2026-11-20 10:00:00 extra', '9'.repeat(10_000)])(
    'rejects %j', (value) => {
      expect(parseLocalDateTime(value, NY)).toBeUndefined();
    },
  );
  it('takes 2028-02-29 (a leap day) and a trimmed value', () => {
    expect(localToUtcIso(' 2028-02-29 10:00 ', 'UTC')).toBe('2028-02-29T10:00:00.000Z');
  });
});

describe('parseIsoInstant: ISO-8601 with Z or an offset', () => {
  it.each([
    ['2026-11-20T10:15:02.123Z', '2026-11-20T10:15:02.123Z'],
    ['2026-11-20t10:15:02z', '2026-11-20T10:15:02.000Z'],
    ['2024-03-28T18:17:46.205134+01:00', '2024-03-28T17:17:46.205Z'],
    ['2024-03-28 18:17:46,999999-05:30', '2024-03-28T23:47:46.999Z'],
    ['2024-03-28T00:10:00+0200', '2024-03-27T22:10:00.000Z'],
    ['2024-03-28T00:10:00-18:00', '2024-03-28T18:10:00.000Z'],
    ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
  ])('%j → %s', (value, iso) => {
    expect(toIso(parseIsoInstant(value))).toBe(iso);
  });

  it.each(['2026-11-20T10:15:02', '2026-11-20T10:15Z', '2026-02-31T10:00:00Z', '2026-02-29T10:00:00Z', '2026-11-20T24:00:00Z',
    '2026-11-20T10:15:60Z', '2026-11-20T10:15:02+18:01', '2026-11-20T10:15:02+05:60', '2026-11-20T10:15:02+5', '1969-12-31T23:59:59Z',
    '2201-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '2026-11-20T10:15:02.Z', '2026-11-20T10:15:02.1234567890Z', 'Fri, 20 Nov 2026 10:15:02 GMT',
    '1711646266205', '', 'Z', '2026-11-20T10:15:02Z\u0000', '2026-11-20T10:15:02Z; drop', '２０２６-11-20T10:15:02Z', '9'.repeat(10_000)])('refuses %j', (value) => {
    expect(parseIsoInstant(value)).toBeUndefined();
  });
});

describe('parseEpochMs and parseEpochSeconds', () => {
  it('reads epoch milliseconds as a number or a digit string, and seconds as a digit string', () => {
    expect(toIso(parseEpochMs(1711646266205))).toBe('2024-03-28T17:17:46.205Z');
    expect(toIso(parseEpochMs(' 1711646266205 '))).toBe('2024-03-28T17:17:46.205Z');
    expect(toIso(parseEpochSeconds('1711646266'))).toBe('2024-03-28T17:17:46.000Z');
  });

  it.each([1711646266, 1711646266205.5, -1711646266205, Number.NaN, Number.POSITIVE_INFINITY, 1e14, '1711646266', '-1711646266205', '1711646266205.0',
    '0x18e8666b5dd', '1e12', '', null, true, {}, [1711646266205]])('parseEpochMs refuses %j', (value) => {
    expect(parseEpochMs(value)).toBeUndefined();
  });

  it.each(['1711646266205', '17116462', '-1711646266', '1711646266.5', '1e9', '', 'now'])('parseEpochSeconds refuses %j', (value) => {
    expect(parseEpochSeconds(value)).toBeUndefined();
  });

  it('parseInstant (a JSON vendor\'s time field) is epoch ms or ISO-8601, nothing else', () => {
    expect(parseInstant(1711646266205)).toBe(parseIsoInstant('2024-03-28T17:17:46.205Z'));
    expect(parseInstant('2024-03-28T17:17:46.205Z')).toBe(1711646266205);
    expect(parseInstant('1711646266')).toBeUndefined();
    expect(parseInstant('2024-03-28 17:17:46')).toBeUndefined();
    expect(parseInstant({ toString: () => '2024-03-28T17:17:46.205Z' })).toBeUndefined();
  });
});

describe('parseSeconds', () => {
  it.each([[205, 205], ['205.5', 205.5], [' 7 ', 7], [0, 0]])('%j → %d', (value, expected) => {
    expect(parseSeconds(value)).toBe(expected);
  });
  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, 1e7, '-1', '1e3', '0x10', '', '1.', null, [5]])('refuses %j', (value) => {
    expect(parseSeconds(value)).toBeUndefined();
  });
});

describe('parseClockDuration: Engage Voice\'s duration', () => {
  it.each([
    ['205', 205], ['0', 0], ['205.25', 205.25], ['00:03:25', 205], ['01:00:00', 3600], ['3:25', 205], ['03:25', 205],
    ['26:00:01', 93601], [' 00:00:07 ', 7],
  ])('%j → %d s', (value, expected) => {
    expect(parseClockDuration(value)).toBe(expected);
  });

  it.each(['', 'abc', '-5', '00:61:00', '00:00:60', '1:2:3:4', '1e3', '#duration#', '9'.repeat(10_000)])('rejects %j', (value) => {
    expect(parseClockDuration(value)).toBeUndefined();
  });
});
