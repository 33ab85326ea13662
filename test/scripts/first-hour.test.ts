import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as v from 'valibot';
import { resetConfiguration } from '#shared/handler';
import { ensureBucketAndTable } from '../../lib/embedded.ts';
import { createLocalServer, type LocalServer } from '../../lib/local-server.ts';
import { replay } from '../../lib/commands/replay.ts';
import { SAMPLE_NAMES } from '../../lib/samples.ts';
import { sampleEnvironment } from '../../lib/traffic.ts';

/**
 * A new user's first hour: the committed sample events work on a clone made
 * any day (their watsonx JWT has no `exp`; it is signed with the fake sample
 * secret of events/env.json only), through the real handler on the suite's
 * s3rver and dynalite.
 */

const EventFile = v.looseObject({ headers: v.record(v.string(), v.string()) });
const WATSONX_EVENTS = ['events/watsonx-recording.json', 'events/watsonx-recording-2.json', 'events/watsonx-recording-wav.json'];

function jwtPayload(file: string): Record<string, unknown> {
  const event = v.parse(EventFile, JSON.parse(readFileSync(file, 'utf8')));
  const token = (event.headers.authorization ?? '').replace(/^Bearer /, '');
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

beforeAll(async () => {
  const { BUCKET_NAME, TABLE_NAME } = process.env;
  Object.assign(process.env, sampleEnvironment(), { BUCKET_NAME, TABLE_NAME });
  (await import('#shared/log')).setLogSink(() => undefined);
});

describe('committed watsonx sample events', () => {
  it.each(WATSONX_EVENTS)('%s carries a JWT without exp, so it never expires on a fresh clone', (file) => {
    const payload = jwtPayload(file);
    expect(payload).toHaveProperty('iat');
    expect(payload).not.toHaveProperty('exp');
  });

  it('the committed event answers 2xx through the real handler', async () => {
    const { handler } = await import('../../functions/audio-webhook/handler.ts');
    const event = JSON.parse(readFileSync('events/watsonx-recording.json', 'utf8')) as Parameters<typeof handler>[0];
    const res = await handler(event);
    expect(res.statusCode, String(res.body)).toBe(200);
    expect(['stored', 'duplicate']).toContain(JSON.parse(String(res.body)).outcome);
  });
});

describe('npm run replay on a fresh data store, as a new user runs it', () => {
  // A bucket and table of this test alone: the committed fixtures' ids, as the user has them.
  const own = `first-hour-${randomUUID().slice(0, 8)}`;
  let server: LocalServer;
  const saved = { BUCKET_NAME: process.env.BUCKET_NAME, TABLE_NAME: process.env.TABLE_NAME };
  beforeAll(async () => {
    await ensureBucketAndTable(inject('storage'), own, own);
    Object.assign(process.env, { BUCKET_NAME: own, TABLE_NAME: own });
    resetConfiguration();
    server = await createLocalServer({ host: '127.0.0.1', port: 0, log: () => {} });
  });
  afterAll(async () => {
    await server.close();
    Object.assign(process.env, saved);
    resetConfiguration();
  });

  it('every sample is stored on its first replay (none answers stale) and is a duplicate on the second', async () => {
    const secrets = sampleEnvironment();
    const outcomes = async () => {
      const out: Record<string, unknown> = {};
      for (const sample of SAMPLE_NAMES) {
        const r = await replay({ sample, baseUrl: server.url, secrets });
        expect(r.status, `${sample}: ${r.body}`).toBe(200);
        out[sample] = JSON.parse(r.body).outcome;
      }
      return out;
    };
    const expected = (outcome: string) => Object.fromEntries(SAMPLE_NAMES.map((n) => [n, n === 'vapi-status-update' ? 'not-a-call' : outcome]));
    expect(await outcomes()).toEqual(expected('stored'));
    expect(await outcomes()).toEqual(expected('duplicate'));
  });
});

describe('the repository explains itself', () => {
  const ROOT = join(import.meta.dirname, '..', '..');
  const SKIP = new Set(['node_modules', '.git', '.data', 'cdk.out', 'coverage']);
  function* files(dir: string): Generator<string> {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (SKIP.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) yield* files(path);
      else if (/\.(md|ts|js|json|ya?ml)$/.test(entry.name)) yield path;
    }
  }

  it('cites no design or style file that is not in it (docs, code comments, messages)', () => {
    // Built from parts so that this file does not match itself.
    const outside = new RegExp(['DESIGN', 'STYLE'].map((name) => `\\b${name}\\.md`).join('|'));
    const citing = [...files(ROOT)].filter((f) => outside.test(readFileSync(f, 'utf8'))).map((f) => relative(ROOT, f));
    expect(citing).toEqual([]);
  });

  it("documents sam local invoke only after a synth with -c localInvoke=true (without it the env file's secrets are dropped)", () => {
    let blocks = 0;
    for (const doc of ['README.md', 'docs/deploy.md']) {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      for (const block of text.split(/^```/m).filter((_, i) => i % 2 === 1)) {
        if (!/sam local invoke -t /.test(block)) continue;
        blocks++;
        const synth = /npx cdk synth[^\n]*/.exec(block)?.[0] ?? '';
        expect(synth, `${doc}: ${block.slice(0, 120)}`).toMatch(/-c localInvoke=true/);
        expect(block.indexOf(synth)).toBeLessThan(block.indexOf('sam local invoke -t '));
      }
    }
    expect(blocks).toBeGreaterThanOrEqual(2);
  });
});
