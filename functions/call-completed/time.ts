/**
 * Vendor timestamps to ISO-8601 UTC. Pure and strict: anything that is not
 * one of the documented shapes yields undefined (the raw body keeps it), never
 * a guess and never the receive time.
 *
 * Accepted:
 *   - ISO-8601 with `Z` or an offset (`+01:00`, `+0100`), optional fraction of
 *     1–9 digits (Synthflow sends microseconds; they are truncated to ms);
 *   - epoch milliseconds, as a number or a string of 12–14 digits (Synthflow).
 * A date-time without zone is refused: its meaning would depend on the server.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/** Epoch ms of a vendor timestamp, or undefined. */
export function parseInstant(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 1e11 && value < 1e14 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  if (/^\d{12,14}$/.test(s)) return Number(s);
  const m = ISO.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac = '', z, sign, oh = '0', om = '0'] = m;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(sec);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (Number(oh) > 23 || Number(om) > 59) return undefined;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 31 February over into March: refuse instead.
  if (new Date(local).getUTCDate() !== day) return undefined;
  const offsetMin = z ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const t = local - offsetMin * 60_000;
  return Number.isFinite(t) ? t : undefined;
}

export function toIso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Seconds as a non-negative finite number (numbers or numeric strings), else undefined. */
export function parseSeconds(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 && n < 10_000_000 ? n : undefined;
}
