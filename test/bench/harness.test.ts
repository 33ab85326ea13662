import { describe, expect, it } from 'vitest';
import { median, percentile, ratio, verdict, fmtRatio } from '../../bench/lib/stats.ts';
import { markdownTable, renderMarkdown, machineInfo, type Report } from '../../bench/lib/report.ts';
import { timeSideBySide } from '../../bench/lib/timing.ts';
import { contributorsOf, packageOf, FUNCTIONS, CDK_LIKE_OPTIONS } from '../../bench/bundle.ts';
import { parseChildResult } from '../../bench/cold.ts';
import { floorOf, bodyBytes, loadMiddyPeer } from '../../bench/hot.ts';
import { configFor, keptNotes, NOTES_MARKER, roundTripTable, jwtTable } from '../../bench/run.ts';
import { createIbmSamplePeer, withAudioFilename } from '../../bench/peer/ibm-sample.ts';
import { mulawAudio, watsonxEvent, watsonxBody, largestAcceptedAudioBytes, volubileEvent, engageEvent, BENCH_SECRETS } from '../../bench/lib/events.ts';
import { MAX_BODY_BYTES, decodeEvent } from '#shared/request';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The bench harness's pure pieces, quickly. No timing is asserted anywhere.

describe('statistics', () => {
  it('computes medians, nearest-rank percentiles and ratios', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(ratio(3, 2)).toBe(1.5);
    expect(Number.isNaN(ratio(1, 0))).toBe(true);
    expect(fmtRatio(1.234)).toBe('1.23×');
    expect(() => median([])).toThrow();
  });

  it('judges targets inclusively, strictly when asked, and never passes a missing number', () => {
    expect(verdict(2, 2)).toBe('met');
    expect(verdict(2, 2, true)).toBe('MISSED');
    expect(verdict(2.01, 2)).toBe('MISSED');
    expect(verdict(Number.NaN, 2)).toBe('not measured');
    expect(verdict(undefined, 2)).toBe('not measured');
  });
});

describe('report', () => {
  it('writes Markdown with the machine, the date, the targets and every table', () => {
    const report: Report = {
      title: 'Benchmarks', machine: machineInfo(), date: '2026-01-02T03:04:05Z', mode: 'quick',
      tables: [{ title: 'T', columns: ['A', 'B'], rows: [['x|y', '1']] }],
      targets: [{ target: 'load ≤ 1.15×', measured: '1.10×', verdict: 'met' }],
      findings: ['a finding'],
    };
    const md = renderMarkdown(report);
    expect(md).toContain('2026-01-02T03:04:05Z');
    expect(md).toContain(report.machine.node);
    expect(md).toContain('| load ≤ 1.15× | 1.10× | met |');
    expect(md).toContain('x\\|y');
    expect(md).toContain('## Findings');
    expect(markdownTable({ title: 't', columns: ['a', 'b'], rows: [] }).split('\n')[1]).toBe('| --- | ---: |');
  });
});

describe('bundling', () => {
  it('uses the stack function list and its esbuild options', () => {
    expect(FUNCTIONS.map((f) => f.name)).toEqual(['audio-webhook', 'call-completed', 'engage-voice']);
    expect(CDK_LIKE_OPTIONS).toMatchObject({ bundle: true, format: 'esm', platform: 'node', minify: true, sourcemap: true });
  });

  it('groups metafile inputs by package, largest first', () => {
    expect(packageOf('node_modules/@aws-sdk/client-s3/dist-es/index.js')).toBe('@aws-sdk/client-s3');
    expect(packageOf('node_modules/jose/dist/webapi/index.js')).toBe('jose');
    expect(packageOf('functions/shared/storage.ts')).toBe('(project)');
    const meta = {
      inputs: {},
      outputs: { 'index.mjs': { bytes: 60, inputs: { 'node_modules/a/x.js': { bytesInOutput: 10 }, 'node_modules/b/y.js': { bytesInOutput: 30 }, 'src/z.ts': { bytesInOutput: 20 } }, imports: [], exports: [] } },
    };
    const c = contributorsOf(meta, 2);
    expect(c.contributors.map((x) => x.input)).toEqual(['node_modules/b/y.js', 'src/z.ts']);
    expect(c.packages[0]).toEqual({ name: 'b', bytes: 30 });
  });
});

describe('cold-start child protocol', () => {
  it('reads the last BENCH_RESULT line and refuses output without one', () => {
    const out = parseChildResult('{"level":"info"}\nBENCH_RESULT {"processToMainMs":30,"loadMs":80,"firstResponseMs":12,"statusCode":200}\n');
    expect(out).toMatchObject({ loadMs: 80, firstResponseMs: 12, statusCode: 200 });
    expect(() => parseChildResult('nothing here')).toThrow(/no result/);
  });

  it('carries the warm second invocation when the child reports it', () => {
    const out = parseChildResult('BENCH_RESULT {"processToMainMs":30,"loadMs":80,"firstResponseMs":120,"secondResponseMs":60,"statusCode":200}\n');
    expect(out.secondResponseMs).toBe(60);
    expect(parseChildResult('BENCH_RESULT {"processToMainMs":30,"loadMs":80,"firstResponseMs":12}').secondResponseMs).toBeUndefined();
  });
});

describe('IBM sample peer', () => {
  it('takes the audio as a file only with a filename, refuses a bad JWT, and hashes what it got', async () => {
    const audio = mulawAudio(20_000, 5);
    const event = await watsonxEvent({ audio });
    const peer = createIbmSamplePeer(BENCH_SECRETS.WATSONX_AUDIO_SECRET);
    const named = await peer(withAudioFilename(event));
    expect(named.status).toBe(200);
    expect(named.audio?.equals(audio)).toBe(true);
    expect(named.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await peer(event)).status).toBe(500);
    expect((await peer({ ...event, headers: { ...event.headers, authorization: 'Bearer a.b.c' } })).status).toBe(400);
    expect(bodyBytes(withAudioFilename(event)).indexOf(audio)).toBeGreaterThan(0);
  });
});

describe('round-trip and JWT tables', () => {
  it('one row per measured delivery and per library, with the ratio column', () => {
    const cfg = configFor(['--quick']);
    const trips = roundTripTable([{
      source: 'Volubile', kind: 'new', waitMs: 55, floorMs: 50, invocationMs: 72, floorCallMs: 60, s3Requests: 1, dynamoRequests: 'PutItem', sqsRequests: 1, statuses: [200],
    }], cfg);
    expect(trips.rows).toEqual([['Volubile', 'new', expect.any(String), expect.any(String), '1.10×', expect.any(String), expect.any(String), '1.20×', '1', 'PutItem', '1', '200']]);
    expect(trips.columns).toHaveLength(trips.rows[0]?.length ?? 0);
    const t = { name: 'jose (current)', ms: 0.1, rounds: [0.1], cpuMs: 0.05 };
    const jwt = jwtTable([{ name: 'jose (current)', warm: t, bundleBytes: 14_000, importMs: 3 }], cfg);
    expect(jwt.rows[0]?.[0]).toBe('jose (current)');
    expect(jwt.columns).toHaveLength(jwt.rows[0]?.length ?? 0);
  });
});

describe('events', () => {
  it('builds a watsonx event whose decoded body carries the audio byte-exact', async () => {
    const audio = mulawAudio(8000);
    const event = await watsonxEvent({ audio });
    const req = decodeEvent(event);
    expect(req.headers.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(req.body.indexOf(audio)).toBeGreaterThan(0);
    expect(bodyBytes(event).equals(req.body)).toBe(true);
  });

  it('sizes the largest accepted recording to exactly the body limit', () => {
    const ids = { recordingId: 'memory-000-1234567890123' };
    const audio = Buffer.alloc(largestAcceptedAudioBytes(ids));
    expect(watsonxBody({ audio, ...ids }).length).toBe(MAX_BODY_BYTES);
  });

  it('signs JSON sources and puts the tokens where the handlers read them', () => {
    const v = volubileEvent();
    expect(v.headers['x-webhook-signature']).toMatch(/^[0-9a-f]{64}$/);
    expect(v.isBase64Encoded).toBe(false);
    const form = engageEvent('form');
    expect(form.isBase64Encoded).toBe(true);
    expect(form.rawQueryString).toMatch(/^token=/);
    expect(engageEvent('get').requestContext.http.method).toBe('GET');
  });
});

describe('floor, peer and side-by-side timing', () => {
  it('the floor hashes the decoded bytes', () => {
    const bytes = Buffer.from('hello world');
    expect(floorOf(bytes.toString('base64'))()).toBe('b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
  });

  it('times every subject in the same rounds', async () => {
    let a = 0;
    let b = 0;
    const timed = await timeSideBySide([{ name: 'a', run: () => { a += 1; } }, { name: 'b', run: () => { b += 1; } }], { batch: 3, rounds: 4, warmup: 1 });
    expect(timed.map((t) => t.name)).toEqual(['a', 'b']);
    expect(timed.every((t) => t.rounds.length === 4)).toBe(true);
    expect(timed.every((t) => Number.isFinite(t.cpuMs) && t.cpuMs >= 0)).toBe(true);
    expect(a).toBe(13);
    expect(b).toBe(13);
  });

  it('the middy peer, configured with isPartAFile, returns the audio intact', async () => {
    const audio = mulawAudio(20_000, 3);
    const peer = await loadMiddyPeer(mkdtempSync(join(tmpdir(), 'bench-test-')));
    const parsed = await peer(await watsonxEvent({ audio }));
    expect(parsed.audio?.equals(audio)).toBe(true);
    expect(typeof parsed.metadata).toBe('string');
  });
});

describe('configuration', () => {
  it('quick runs are smaller, full runs take at least 15 cold starts', () => {
    expect(configFor([]).coldRuns).toBeGreaterThanOrEqual(15);
    expect(configFor(['--quick']).quick).toBe(true);
    expect(configFor(['--quick']).e2eDeliveries).toBeLessThan(configFor([]).e2eDeliveries);
    expect(configFor(['--quick']).roundTripRuns).toBeLessThan(configFor([]).roundTripRuns);
  });
});

describe('docs/benchmarks.md', () => {
  it('keeps the hand-written notes under the marker and nothing above it', () => {
    expect(keptNotes(`# Benchmarks\n| a |\n${NOTES_MARKER}\n## Notes\nkept`)).toBe(`${NOTES_MARKER}\n## Notes\nkept`);
    expect(keptNotes('# Benchmarks\nno notes')).toBeUndefined();
  });
});
