import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { ESBUILD_OPTIONS, WEBHOOK_FUNCTIONS } from '../infra/functions.ts';
import { ROOT } from './lib/events.ts';

/**
 * Bundles each function exactly as CDK's NodejsFunction ships it: the function
 * list and the esbuild options come from infra/functions.ts, the same data the
 * stack builds its NodejsFunctions from (ESM, node24 target, minified, source
 * maps, everything bundled including the AWS SDK, createRequire banner).
 * The stack also sets NODE_OPTIONS=--enable-source-maps; cold starts run with it.
 */

export interface FunctionEntry {
  /** Short name used in tables. */
  name: string;
  /** Entry file, relative to the repository root. */
  entry: string;
  /** Sample event files in events/ meant for this function. */
  events?: readonly string[];
}

export const FUNCTIONS: readonly FunctionEntry[] = WEBHOOK_FUNCTIONS.map((f) => ({ name: f.name, entry: f.entry, events: f.events }));

export const BASELINE: FunctionEntry = { name: 'baseline (SDK clients only)', entry: 'bench/baseline/handler.ts' };

/** esbuild options NodejsFunction is given for these functions (the stack's own list). */
export const CDK_LIKE_OPTIONS: BuildOptions = { ...ESBUILD_OPTIONS, mainFields: [...ESBUILD_OPTIONS.mainFields], external: [...ESBUILD_OPTIONS.external], logLevel: 'silent' };

/** NODE_OPTIONS the stack gives every function. */
export const LAMBDA_NODE_OPTIONS = ['--enable-source-maps'];

export interface Bundled {
  fn: FunctionEntry;
  /** Absolute path of the bundled index.mjs. */
  file: string;
  bytes: number;
  gzipBytes: number;
  mapBytes: number;
  /** Largest inputs by bytes in the output, from the metafile. */
  contributors: { input: string; bytes: number }[];
  /** The same, grouped by npm package (or `(project)`). */
  packages: { name: string; bytes: number }[];
}

export function present(fn: FunctionEntry): boolean {
  return existsSync(join(ROOT, fn.entry));
}

export function packageOf(input: string): string {
  const i = input.lastIndexOf('node_modules/');
  if (i < 0) return '(project)';
  const rest = input.slice(i + 'node_modules/'.length).split('/');
  const [a = '', b = ''] = rest;
  return a.startsWith('@') ? `${a}/${b}` : a;
}

export function contributorsOf(meta: Metafile, top: number): Pick<Bundled, 'contributors' | 'packages'> {
  const inputs = new Map<string, number>();
  for (const out of Object.values(meta.outputs)) {
    for (const [input, info] of Object.entries(out.inputs)) inputs.set(input, (inputs.get(input) ?? 0) + info.bytesInOutput);
  }
  const packages = new Map<string, number>();
  for (const [input, bytes] of inputs) packages.set(packageOf(input), (packages.get(packageOf(input)) ?? 0) + bytes);
  const byBytes = <T extends { bytes: number }>(a: T, b: T) => b.bytes - a.bytes;
  return {
    contributors: [...inputs].map(([input, bytes]) => ({ input, bytes })).sort(byBytes).slice(0, top),
    packages: [...packages].map(([name, bytes]) => ({ name, bytes })).sort(byBytes).slice(0, top),
  };
}

export async function bundle(fn: FunctionEntry, outRoot: string, options: BuildOptions = CDK_LIKE_OPTIONS): Promise<Bundled> {
  const outdir = join(outRoot, fn.name.replace(/[^a-z0-9-]+/gi, '-'));
  mkdirSync(outdir, { recursive: true });
  const file = join(outdir, 'index.mjs');
  const result = await build({
    ...options,
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, fn.entry)],
    outfile: file,
    metafile: true,
    write: false,
  });
  let bytes = 0;
  let gzipBytes = 0;
  let mapBytes = 0;
  for (const out of result.outputFiles) {
    writeFileSync(out.path, out.contents);
    if (out.path.endsWith('.map')) mapBytes = out.contents.length;
    else {
      bytes = out.contents.length;
      gzipBytes = gzipSync(out.contents).length;
    }
  }
  writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  return { fn, file, bytes, gzipBytes, mapBytes, ...contributorsOf(result.metafile, 8) };
}
