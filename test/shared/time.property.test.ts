import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseLocalDateTime } from '#shared/time';

/** Wall clock of an instant in a zone, formatted as Engage Voice sends call_start. */
const formats = new Map<string, Intl.DateTimeFormat>();
function wallClock(ms: number, zone: string): string {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formats.set(zone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const frac = String(ms % 1000).padStart(3, '0');
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}.${frac}0`;
}

describe('call_start conversion, property-based', () => {
  it.each(['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'America/St_Johns', 'Asia/Tehran'])(
    'every instant survives wall clock in %s → UTC (the earlier instant when the wall clock repeats)',
    (zone) => {
      fc.assert(
        fc.property(fc.integer({ min: Date.parse('1990-01-01T00:00:00Z'), max: Date.parse('2060-01-01T00:00:00Z') }), (ms) => {
          const wall = wallClock(ms, zone);
          const back = parseLocalDateTime(wall, zone) ?? Number.NaN;
          // Same wall clock, and never later than the original instant (overlaps resolve to the first).
          expect(wallClock(back, zone)).toBe(wall);
          expect(back).toBeLessThanOrEqual(ms);
          expect(ms - back).toBeLessThanOrEqual(2 * 3600_000);
        }),
        { numRuns: 2000 },
      );
    },
  );
});
