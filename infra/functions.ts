import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { eventsOf, pathsOf, writePrefixesOf, type HandlerName, type Registry } from '#shared/sources';

/**
 * The webhook functions and how they are bundled, as plain data: the stack
 * declares its NodejsFunctions from this list, and other tools (benchmarks,
 * the artifact test) bundle with exactly these esbuild options.
 *
 * Memory and timeouts. Lambda gives CPU in proportion to memory, so memory is
 * chosen for latency as much as for space. The storage calls are bounded by
 * functions/shared/storage.ts: S3 1 s connect + 2.5 s hard request limit,
 * 2 attempts; DynamoDB 0.5 s + 1 s, 3 attempts. A fully stalled store ends in
 * a 503 within about 5 s (measured, docs/reliability.md).
 * A stalled dependency therefore turns into a 503 from the handler before the
 * function times out in the common case; the timeout is the backstop.
 */

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export type FunctionName = HandlerName;

export interface WebhookFunctionSpec {
  /** Folder under functions/ and the construct id base. */
  name: FunctionName;
  /** Construct id and stable CloudFormation logical id prefix (sam local invoke uses it). */
  id: 'AudioWebhook' | 'CallCompleted' | 'EngageVoice';
  /** Entry file, relative to the repository root. */
  entry: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** API routes (HTTP API route keys are `ANY <path>`; the handler answers 405 for other methods). */
  paths: readonly string[];
  /** The only S3 prefixes this function may write. */
  writePrefixes: readonly string[];
  /** The sample event files in events/ meant for this function. */
  events: readonly string[];
}

type Sizing = Omit<WebhookFunctionSpec, 'paths' | 'writePrefixes' | 'events'>;

/**
 * Each function's routes, write prefixes and sample events come from the
 * sources it serves (functions/shared/sources.ts); only its sizing is its own.
 */
export function webhookFunctions(registry?: Registry): WebhookFunctionSpec[] {
  return FUNCTION_SIZING.map((f) => ({
    ...f,
    paths: pathsOf(f.name, registry),
    writePrefixes: writePrefixesOf(f.name, registry),
    events: eventsOf(f.name, registry),
  }));
}

const FUNCTION_SIZING: readonly Sizing[] = [
  {
    name: 'audio-webhook',
    id: 'AudioWebhook',
    entry: 'functions/audio-webhook/handler.ts',
    // Up to a 6 MB event: base64 decode, multipart parse, SHA-256, WAV wrap;
    // several copies of the body live at once. 512 MB also doubles the CPU
    // share of 256 MB, which shortens the time the caller waits on the line.
    memoryMb: 512,
    // watsonx hangs up after its configured 1-30 s. Two objects (audio, raw)
    // plus the index write normally take well under a second; 20 s leaves a
    // margin under API Gateway's 30 s integration limit and the vendor's
    // maximum, while letting one slow S3 retry finish.
    timeoutSeconds: 20,
  },
  {
    name: 'call-completed',
    id: 'CallCompleted',
    entry: 'functions/call-completed/handler.ts',
    // JSON bodies of a few KB to a few hundred KB (transcripts): 256 MB is
    // ample and keeps the JSON parse + HMAC fast.
    memoryMb: 256,
    // One S3 put (<= 14 s worst case) + one conditional put and maybe a get.
    // Volubile and Synthflow retry on failure, so a 503 is better than a hang
    // (Vapi does not retry: a stalled store still ends in a 503 it logs).
    timeoutSeconds: 15,
  },
  {
    name: 'engage-voice',
    id: 'EngageVoice',
    entry: 'functions/engage-voice/handler.ts',
    // Small flat string maps (JSON, form or query): the smallest sensible size.
    memoryMb: 256,
    timeoutSeconds: 15,
  },
];

export const WEBHOOK_FUNCTIONS: readonly WebhookFunctionSpec[] = webhookFunctions();

/** Node.js major of the Lambda runtime (Runtime.NODEJS_24_X); esbuild targets it. */
export const NODE_MAJOR = 24;

/**
 * ESM needs `require` for the few CommonJS dependencies that call it
 * (e.g. Node built-ins required from bundled CJS code).
 */
export const ESM_REQUIRE_BANNER = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

/**
 * Plain esbuild options, identical to what NodejsFunction passes (see
 * cdkBundling below): `esbuild.build({ ...ESBUILD_OPTIONS, entryPoints, outfile })`.
 * Everything is bundled, the AWS SDK included: the version we test is the
 * version that runs, and tree shaking keeps only the clients used.
 */
export const ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: `node${NODE_MAJOR}`,
  format: 'esm',
  minify: true,
  sourcemap: true,
  // Stack traces map to file:line without shipping every source file inside the
  // map: maps shrink from 2.0–2.8 MiB to 0.8–1.0 MiB and each cold start that
  // reads them (--enable-source-maps) loads ≈8–12 ms sooner.
  sourcesContent: false,
  treeShaking: true,
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  external: [],
  tsconfig: join(REPO_ROOT, 'tsconfig.json'),
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
} satisfies BuildOptions;

/** The bundled file name inside the asset directory (NodejsFunction writes index.mjs for ESM). */
export const BUNDLE_FILE = 'index.mjs';
