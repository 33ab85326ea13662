import { median } from './stats.ts';

/**
 * Side-by-side timing in one process: subjects run in short batches, in
 * rotating order, for several rounds; each subject's per-operation time is the
 * median over rounds of (batch time / batch size). Ratios are taken between
 * subjects of the same run only.
 */

export interface Subject {
  name: string;
  run: () => unknown;
}

export interface Timed {
  name: string;
  /** Median per-operation time, ms. */
  ms: number;
  /** Per-round per-operation times, ms. */
  rounds: number[];
  /** Median per-operation CPU time (user + system, whole process), ms: wall minus waiting. */
  cpuMs: number;
}

export interface TimingPlan {
  /** Operations per batch. */
  batch: number;
  rounds: number;
  warmup: number;
}

export async function timeSideBySide(subjects: readonly Subject[], plan: TimingPlan): Promise<Timed[]> {
  for (const s of subjects) for (let i = 0; i < plan.warmup; i++) await s.run();
  const rounds: number[][] = subjects.map(() => []);
  const cpu: number[][] = subjects.map(() => []);
  for (let r = 0; r < plan.rounds; r++) {
    for (let k = 0; k < subjects.length; k++) {
      const i = (r + k) % subjects.length;
      const s = subjects[i];
      if (!s) continue;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let n = 0; n < plan.batch; n++) await s.run();
      rounds[i]?.push((performance.now() - t0) / plan.batch);
      const c = process.cpuUsage(c0);
      cpu[i]?.push((c.user + c.system) / 1000 / plan.batch);
    }
  }
  return subjects.map((s, i) => ({ name: s.name, ms: median(rounds[i] ?? []), rounds: rounds[i] ?? [], cpuMs: median(cpu[i] ?? []) }));
}

/** Batch size that makes one batch last about `targetMs`, from one probe run. */
export async function batchFor(run: () => unknown, targetMs: number, max = 2000): Promise<number> {
  const t0 = performance.now();
  await run();
  const once = Math.max(performance.now() - t0, 0.005);
  return Math.max(1, Math.min(max, Math.round(targetMs / once)));
}
