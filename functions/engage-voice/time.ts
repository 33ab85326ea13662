/**
 * Engage Voice times: `call_start` arrives as `YYYY-MM-DD HH:MM:SS(.ffff)` in the
 * account's local time with no offset; `duration` as seconds or `HH:MM:SS`.
 * The zone conversion uses only Intl.DateTimeFormat (no tz library): the
 * offset of a zone at an instant is "wall clock in that zone minus UTC".
 */

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Offset of `zone` from UTC at the instant `utcMs`, in milliseconds (New York in winter: -5 h). */
export function zoneOffsetMs(zone: string, utcMs: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(zone).formatToParts(new Date(utcMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const wall = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  const whole = Math.floor(utcMs / 1000) * 1000;
  return wall - whole;
}

const DAY_MS = 86_400_000;

/**
 * The UTC instant of a wall-clock time in `zone`, with the same choice as
 * Temporal's `disambiguation: 'compatible'`: in the autumn overlap the earlier
 * instant (the first 01:30), in the spring gap the time moved forward by the
 * gap (02:30 that never happened in New York becomes 03:30 EDT).
 */
export function wallClockToUtcMs(wallAsUtcMs: number, zone: string): number {
  const before = zoneOffsetMs(zone, wallAsUtcMs - DAY_MS);
  const after = zoneOffsetMs(zone, wallAsUtcMs + DAY_MS);
  const candidates = [...new Set([before, after])]
    .map((offset) => wallAsUtcMs - offset)
    .filter((t) => wallAsUtcMs - zoneOffsetMs(zone, t) === t)
    .sort((a, b) => a - b);
  const first = candidates[0];
  if (first !== undefined) return first;
  return wallAsUtcMs - before;
}

export class TimeFormatError extends Error {
  override name = 'TimeFormatError';
}

/**
 * `2026-03-08 01:59:59.5` in `America/New_York` → `2026-03-08T06:59:59.500Z`.
 * A value that does carry `Z` or an offset is honoured as such. Fractions
 * beyond milliseconds are truncated. Throws TimeFormatError on anything else.
 */
export function localToUtcIso(value: string, zone: string): string {
  const m = LOCAL_TIME.exec(value.trim());
  if (!m) throw new TimeFormatError('expected YYYY-MM-DD HH:MM:SS[.ffff]');
  const [, y, mo, d, h, mi, s = '0', frac = '', tz] = m;
  const year = Number(y), month = Number(mo), day = Number(d);
  const hour = Number(h), minute = Number(mi), second = Number(s);
  if (year < 1970 || year > 2200 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    throw new TimeFormatError('date or time out of range');
  }
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) throw new TimeFormatError('date out of range');
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  let utc: number;
  if (tz === undefined) {
    utc = wallClockToUtcMs(wall - ms, zone) + ms;
  } else if (tz === 'Z') {
    utc = wall;
  } else {
    const sign = tz.startsWith('-') ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
    if (offsetMin > 18 * 60) throw new TimeFormatError('offset out of range');
    utc = wall - sign * offsetMin * 60_000;
  }
  return new Date(utc).toISOString();
}

/**
 * `duration` as Engage Voice sends it: whole or decimal seconds (`205`, `205.3`),
 * `HH:MM:SS` (`00:03:25`, hours may exceed 24) or `MM:SS`. Throws TimeFormatError otherwise.
 */
export function parseDurationSec(value: string): number {
  const v = value.trim();
  if (/^\d{1,9}(\.\d{1,6})?$/.test(v)) return Math.round(Number(v) * 1000) / 1000;
  const hms = /^(\d{1,5}):([0-5]?\d):([0-5]\d)(?:\.(\d{1,6}))?$/.exec(v);
  if (hms) {
    const [, h, m, s, frac = ''] = hms;
    return Number(h) * 3600 + Number(m) * 60 + Number(s) + (frac ? Math.round(Number(`0.${frac}`) * 1000) / 1000 : 0);
  }
  const ms = /^(\d{1,7}):([0-5]\d)$/.exec(v);
  if (ms) {
    const [, m, s] = ms;
    return Number(m) * 60 + Number(s);
  }
  throw new TimeFormatError('expected seconds, HH:MM:SS or MM:SS');
}
