import { describe, it, expect } from 'vitest';
import { runLoad } from '../../lib/commands/loadtest.ts';

/**
 * The bounded version of `npm run loadtest` (which sends 2,000): the same code
 * path over loopback HTTP through the local server, smaller and with shorter
 * recordings so npm test stays quick. Zero loss, zero 5xx.
 */
describe('load through the local server (bounded)', () => {
  it('300 mixed requests, 25 concurrent, 10% duplicates: all 2xx and every 2xx is in storage', async () => {
    const report = await runLoad({ requests: 300, concurrency: 25, duplicates: 0.1, audioSeconds: [1, 5], quiet: true });
    console.log(`[measure] bounded load: ${JSON.stringify({ seconds: report.seconds, rps: report.throughputPerSec, latencyMs: report.latencyMs })}`);
    expect(report.status).toEqual({ 200: 300 });
    expect(report.serverErrors).toBe(0);
    expect(report.lost).toBe(0);
    // 3 warm-up requests re-send uniques, so they count as duplicates in the measured run.
    expect(report.outcomes).toEqual({ stored: 270 - 3, duplicate: 30 + 3 });
  }, 120_000);
});
