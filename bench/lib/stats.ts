/** Small statistics over timing samples. No timing is ever asserted; these only summarize. */

export function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** Nearest-rank percentile (p in 0..100) of a non-empty sample. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) throw new Error('percentile of an empty sample');
  const s = sorted(xs);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank] ?? Number.NaN;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of an empty sample');
  const s = sorted(xs);
  const mid = Math.floor(s.length / 2);
  const hi = s[mid] ?? Number.NaN;
  return s.length % 2 === 1 ? hi : ((s[mid - 1] ?? hi) + hi) / 2;
}

export function ratio(value: number, base: number): number {
  return base > 0 ? value / base : Number.NaN;
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(3)} ms`;
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a';
}

export function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/**
 * Verdict of a target: met, missed, or not measured. `limit` is inclusive for
 * "≤" targets; `lessThan` makes it strict ("faster than the peer").
 */
export type Verdict = 'met' | 'MISSED' | 'not measured';

export function verdict(value: number | undefined, limit: number, strict = false): Verdict {
  if (value === undefined || !Number.isFinite(value)) return 'not measured';
  return (strict ? value < limit : value <= limit) ? 'met' : 'MISSED';
}
