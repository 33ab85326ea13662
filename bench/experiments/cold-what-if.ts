/**
 * What each package costs at cold start: builds each function as CDK does and
 * again with one package replaced by an empty stub (or with a changed esbuild
 * option), then times module load of all variants side by side (fresh
 * processes, interleaved). The stubbed bundles are not runnable; only their
 * load is timed. `npx tsx bench/experiments/cold-what-if.ts [runs] [variant name part]`
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plugin } from 'esbuild';
import { bundle, BASELINE, CDK_LIKE_OPTIONS, FUNCTIONS, LAMBDA_NODE_OPTIONS } from '../bundle.ts';
import { coldStarts, type ColdSubject } from '../cold.ts';
import { volubileEvent } from '../lib/events.ts';
import { fmtBytes, fmtMs, fmtRatio } from '../lib/stats.ts';

function stub(pattern: RegExp): Plugin {
  return {
    name: 'stub',
    setup(build) {
      build.onResolve({ filter: pattern }, (args) => ({ path: args.path, namespace: 'stub' }));
      build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
        contents: 'export const parsePhoneNumberFromString = () => undefined; export class SecretsManagerClient {}; export class GetSecretValueCommand {}; export const Busboy = () => undefined; export class Dicer {}; export class Logger { debug() {} info() {} warn() {} error() {} }; export class Metrics { addDimensions() {} addMetric() {} addMetadata() {} serializeMetrics() { return {}; } clearMetrics() {} clearDimensions() {} clearMetadata() {} }; export const MetricUnit = {}; export default {};',
        loader: 'js',
      }));
    },
  };
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 15);
  // Optional: only the variants whose name contains this (beside "as shipped"), e.g. Powertools.
  const only = process.argv[3];
  const dir = mkdtempSync(join(tmpdir(), 'cold-what-if-'));
  const variants: { name: string; fnName: string; plugins?: Plugin[]; sourcesContent?: boolean }[] = [
    { name: 'as shipped', fnName: 'all' },
    { name: 'without @aws-sdk/client-secrets-manager', fnName: 'all', plugins: [stub(/^@aws-sdk\/client-secrets-manager$/)] },
    { name: 'without libphonenumber-js', fnName: 'call-completed', plugins: [stub(/^libphonenumber-js/)] },
    { name: 'without libphonenumber-js + secrets-manager', fnName: 'call-completed', plugins: [stub(/^(libphonenumber-js|@aws-sdk\/client-secrets-manager)/)] },
    { name: 'without @fastify/busboy + secrets-manager', fnName: 'audio-webhook', plugins: [stub(/^(@fastify\/busboy|@aws-sdk\/client-secrets-manager)$/)] },
    { name: 'source map without sourcesContent', fnName: 'all', sourcesContent: false },
    { name: 'without Powertools Logger + Metrics', fnName: 'all', plugins: [stub(/^@aws-lambda-powertools\/(logger|metrics)$/)] },
  ].filter((v) => v.name === 'as shipped' || !only || v.name.includes(only));
  const subjects: ColdSubject[] = [];
  const sizes = new Map<string, number>();
  for (const v of variants) {
    for (const fn of [BASELINE, ...FUNCTIONS]) {
      const isBase = fn === BASELINE;
      if (isBase && v.sourcesContent === undefined && v.name !== 'as shipped') continue;
      if (!isBase && v.fnName !== 'all' && v.fnName !== fn.name) continue;
      const name = `${fn.name} — ${v.name}`;
      const b = await bundle({ ...fn, name: `${fn.name}-${subjects.length}` }, dir, {
        ...CDK_LIKE_OPTIONS,
        ...(v.plugins ? { plugins: v.plugins } : {}),
        ...(v.sourcesContent !== undefined ? { sourcesContent: v.sourcesContent } : {}),
      });
      sizes.set(name, b.bytes + b.mapBytes * 0);
      sizes.set(`${name}#map`, b.mapBytes);
      subjects.push({ name, bundleFile: b.file, event: volubileEvent() });
    }
  }
  const env = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_SDK_JS_SUPPRESS_NODEJS_VERSION_WARNING: '1', BUCKET_NAME: 'b', TABLE_NAME: 't' };
  const out = await coldStarts(subjects, runs, env, dir, LAMBDA_NODE_OPTIONS);
  const base = out[0]?.loadMs ?? Number.NaN;
  const baseNoSc = out.find((r) => r.name.startsWith(BASELINE.name) && r.name.includes('sourcesContent'))?.loadMs ?? Number.NaN;
  console.log(`| Bundle | Minified | Map | Module load | ÷ baseline as shipped | ÷ baseline same options |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const r of out) {
    const same = r.name.includes('sourcesContent') ? baseNoSc : base;
    console.log(`| ${r.name} | ${fmtBytes(sizes.get(r.name) ?? 0)} | ${fmtBytes(sizes.get(`${r.name}#map`) ?? 0)} | ${fmtMs(r.loadMs)} | ${fmtRatio(r.loadMs / base)} | ${fmtRatio(r.loadMs / same)} |`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
