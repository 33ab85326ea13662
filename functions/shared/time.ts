/**
 * Vendor timestamps, one parser per format, each pure and strict: anything that is not its
 * format (or is not a real calendar date) yields undefined, never a guess and never the
 * receive time; the raw body keeps what was sent.
 *
 * - `parseIsoInstant`: ISO-8601 with `Z` or an offset (watsonx, Volubile, Synthflow, Vapi);
 * - `parseEpochMs`: epoch milliseconds, a number or a string of 12–14 digits (Synthflow);
 * - `parseEpochSeconds`: a string of 9–11 digits (Vapi's signature timestamp);
 * - `parseLocalDateTime`: `YYYY-MM-DD HH:MM:SS(.ffff)` with no zone, in an IANA zone (Engage Voice).
 *
 * Durations: `parseSeconds` (JSON numbers or numeric strings) and `parseClockDuration` (Engage
 * Voice's seconds, `HH:MM:SS` or `MM:SS`). Zone conversion uses only Intl.DateTimeFormat.
 */

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?$/;
const DAY_MS = 86_400_000;
/** Offsets beyond ±18:00 exist nowhere. */
const MAX_OFFSET_MIN = 18 * 60;

/** The wall-clock fields as epoch ms read as UTC, or undefined unless they name a real date and time. */
function wallClockMs(y: string, mo: string, d: string, h: string, mi: string, s: string, frac: string): number | undefined {
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  if (year < 1970 || year > 2200 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  // Date.UTC rolls 31 February over into March: refuse instead.
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, Number(frac.padEnd(3, '0').slice(0, 3)));
}

/** `2024-03-28T18:17:46.205134+01:00` → epoch ms (fractions beyond ms truncated); a date-time without zone is refused. */
export function parseIsoInstant(value: string): number | undefined {
  const m = ISO_INSTANT.exec(value.trim());
  if (!m) return undefined;
  const [, y = '', mo = '', d = '', h = '', mi = '', s = '', frac = '', z, sign, oh = '0', om = '0'] = m;
  const wall = wallClockMs(y, mo, d, h, mi, s, frac);
  if (wall === undefined || Number(om) > 59) return undefined;
  const offsetMin = z ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  return Math.abs(offsetMin) > MAX_OFFSET_MIN ? undefined : wall - offsetMin * 60_000;
}

/** Epoch milliseconds (2001–5138), as a number or a string of digits. */
export function parseEpochMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 1e11 && value < 1e14 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  return /^\d{12,14}$/.test(s) ? Number(s) : undefined;
}

/** Epoch seconds (1973–5138) as a string of digits → epoch ms. */
export function parseEpochSeconds(value: string): number | undefined {
  const s = value.trim();
  return /^\d{9,11}$/.test(s) ? Number(s) * 1000 : undefined;
}

/** `2026-03-08 01:59:59.5` in `America/New_York` → epoch ms of `2026-03-08T06:59:59.500Z`. */
export function parseLocalDateTime(value: string, zone: string): number | undefined {
  const m = LOCAL_DATE_TIME.exec(value.trim());
  if (!m) return undefined;
  const [, y = '', mo = '', d = '', h = '', mi = '', s = '0', frac = ''] = m;
  const wall = wallClockMs(y, mo, d, h, mi, s, frac);
  if (wall === undefined) return undefined;
  const ms = wall % 1000;
  return wallClockToUtcMs(wall - ms, zone) + ms;
}

export function toIso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

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

/**
 * The UTC instant of a wall-clock time in `zone`, with the same choice as
 * Temporal's `disambiguation: 'compatible'`: in the autumn overlap the earlier
 * instant (the first 01:30), in the spring gap the time moved forward by the
 * gap (02:30 that never happened in New York becomes 03:30 EDT).
 */
function wallClockToUtcMs(wallAsUtcMs: number, zone: string): number {
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

/** Seconds as a non-negative finite number (numbers or numeric strings), else undefined. */
export function parseSeconds(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 && n < 10_000_000 ? n : undefined;
}

/** Whole or decimal seconds (`205`, `205.3`), `HH:MM:SS` (`00:03:25`, hours may exceed 24) or `MM:SS`, else undefined. */
export function parseClockDuration(value: string): number | undefined {
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
  return undefined;
}

/** A JSON vendor's time field: an ISO-8601 instant or epoch milliseconds (Synthflow sends either; Vapi's `timestamp` is ms). */
export function parseInstant(value: unknown): number | undefined {
  return parseEpochMs(value) ?? (typeof value === 'string' ? parseIsoInstant(value) : undefined);
}
