import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { createVerifier } from 'fast-jwt';
import jsonwebtoken from 'jsonwebtoken';
import { verifyJwt, JWT_ALGORITHMS, CLOCK_TOLERANCE_SECONDS } from '../functions/audio-webhook/jwt.ts';
import { runChild } from './cold.ts';
import { median } from './lib/stats.ts';
import { timeSideBySide, type Timed } from './lib/timing.ts';
import { ROOT } from './lib/events.ts';

/**
 * JWT verification, the one library choice the audio hot path has: jose (what
 * functions/audio-webhook/jwt.ts uses; HMAC on WebCrypto, so each verify hops
 * to the libuv pool and back) against two synchronous node:crypto verifiers,
 * fast-jwt (fastify's) and jsonwebtoken (IBM's sample's), configured alike
 * (HS256/384/512, 30 s tolerance). Warm: one verify of the same token, side by
 * side, wall and CPU. Cold: what each adds to a bundle (esbuild, minified, the
 * stack's target) and the time to import that bundle in a fresh process.
 */

export interface JwtCandidate {
  name: string;
  warm: Timed;
  bundleBytes: number;
  importMs: number;
}

const SOURCES: Record<string, string> = {
  'nothing (import baseline)': 'export const v = 0;',
  'jose (current)': "import { jwtVerify } from 'jose'; export const v = jwtVerify;",
  'fast-jwt': "import { createVerifier } from 'fast-jwt'; export const v = createVerifier;",
  'jsonwebtoken': "import jwt from 'jsonwebtoken'; export const v = jwt.verify;",
};

const IMPORT_CHILD = `const t = performance.now(); await import(process.argv[1]); process.stdout.write('IMPORT_MS ' + (performance.now() - t));`;

export async function jwtCandidates(token: string, secret: string, opts: { rounds: number; coldRuns: number; workDir: string }): Promise<JwtCandidate[]> {
  const auth = `Bearer ${token}`;
  const algorithms = [...JWT_ALGORITHMS];
  const warm = await timeSideBySide([
    { name: 'jose (current)', run: () => verifyJwt(auth, secret) },
    { name: 'fast-jwt', run: () => createVerifier({ key: secret, algorithms, clockTolerance: CLOCK_TOLERANCE_SECONDS * 1000 })(token) },
    { name: 'jsonwebtoken', run: () => jsonwebtoken.verify(token, secret, { algorithms, clockTolerance: CLOCK_TOLERANCE_SECONDS }) },
  ], { batch: 400, rounds: opts.rounds, warmup: 400 });

  const files: Record<string, { file: string; bytes: number }> = {};
  for (const [name, contents] of Object.entries(SOURCES)) {
    const out = await build({
      stdin: { contents, resolveDir: ROOT }, bundle: true, minify: true, platform: 'node', format: 'esm', target: 'node24', write: false,
      banner: { js: "import { createRequire as __cr } from 'module';const require = __cr(import.meta.url);" }, logLevel: 'silent',
    });
    const code = out.outputFiles[0]?.contents ?? new Uint8Array();
    const file = join(opts.workDir, `jwt-${name.replace(/\W+/g, '-')}.mjs`);
    writeFileSync(file, code);
    files[name] = { file, bytes: code.length };
  }
  const imports: Record<string, number[]> = {};
  for (let r = 0; r < opts.coldRuns; r++) {
    for (const [name, f] of Object.entries(files)) {
      const out = await runChild(IMPORT_CHILD, [f.file], {}, ['--input-type=module', '-e']);
      const ms = Number(/IMPORT_MS (\S+)/.exec(out.stdout)?.[1]);
      (imports[name] ??= []).push(ms);
    }
  }
  const base = median(imports['nothing (import baseline)'] ?? [Number.NaN]);
  // Import time above an empty module's (Node's loader start is not the library's).
  return warm.map((w) => ({ name: w.name, warm: w, bundleBytes: files[w.name]?.bytes ?? Number.NaN, importMs: median(imports[w.name] ?? [Number.NaN]) - base }));
}
