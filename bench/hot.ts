import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { MiddyParsed } from './peer/middy-peer.ts';
import { createIbmSamplePeer, withAudioFilename } from './peer/ibm-sample.ts';
import { setLogSink } from '#shared/log';
import { timeSideBySide, type Subject, type Timed } from './lib/timing.ts';
import { ROOT, benchEnv, BENCH_SECRETS } from './lib/events.ts';

/**
 * The warm hot path with storage excluded. The real handler module (the one
 * Lambda runs) handles each event in this process, so every stage it runs —
 * event decoding, authentication, parsing, normalization, the WAV wrap, the
 * hashing and index-item building inside store() — is timed exactly as
 * written. Only the SDK clients' `send` is replaced by an immediate empty
 * answer: request serialization, signing and the network are storage, and the
 * issue excludes them. (The alternative, a stub HTTP server, would time the
 * SDK and loopback instead of our code.)
 *
 * The floor is what any handler must do with the same bytes: base64-decode
 * the body, SHA-256 it, and copy it once.
 */

type Send = (command: unknown) => Promise<unknown>;
const ORIGINAL_SEND = new Map<object, unknown>();
export let stubbedCalls = 0;

/** Storage excluded: every SDK client answers at once with an empty output. */
export function stubStorage(): () => void {
  const stub: Send = async () => { stubbedCalls += 1; return { $metadata: { httpStatusCode: 200 } }; };
  for (const proto of [S3Client.prototype, DynamoDBClient.prototype, DynamoDBDocumentClient.prototype]) {
    ORIGINAL_SEND.set(proto, Object.getOwnPropertyDescriptor(proto, 'send'));
    Object.defineProperty(proto, 'send', { value: stub, configurable: true, writable: true });
  }
  return () => {
    for (const [proto, desc] of ORIGINAL_SEND) {
      if (desc) Object.defineProperty(proto, 'send', desc as PropertyDescriptor);
      else Reflect.deleteProperty(proto, 'send');
    }
    ORIGINAL_SEND.clear();
  };
}

export type Handler = (event: APIGatewayProxyEventV2, context?: object) => Promise<APIGatewayProxyStructuredResultV2>;

function isHandler(v: unknown): v is Handler {
  return typeof v === 'function';
}

/** The handler of one function, imported from source (the same module esbuild bundles). */
export async function importHandler(entry: string): Promise<Handler | undefined> {
  const file = join(ROOT, entry);
  if (!existsSync(file)) return undefined;
  const mod: unknown = await import(file);
  const h: unknown = typeof mod === 'object' && mod !== null ? Reflect.get(mod, 'handler') : undefined;
  return isHandler(h) ? h : undefined;
}

/** base64-decode + SHA-256 + one copy of the same bytes. */
export function floorOf(base64Body: string): () => string {
  return () => {
    const bytes = Buffer.from(base64Body, 'base64');
    const copy = Buffer.allocUnsafe(bytes.length);
    bytes.copy(copy);
    return createHash('sha256').update(bytes).digest('hex');
  };
}

/** Bytes a body stands for: base64 is decoded, text is UTF-8. */
export function bodyBytes(event: APIGatewayProxyEventV2): Buffer {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

/** Bundles and loads the middy peer (see peer/middy-peer.ts for why it is bundled). */
export async function loadMiddyPeer(workDir: string): Promise<(event: APIGatewayProxyEventV2) => Promise<MiddyParsed>> {
  const outfile = join(workDir, 'middy-peer.mjs');
  await build({
    entryPoints: [join(ROOT, 'bench/peer/middy-peer.ts')],
    outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    banner: { js: "import { createRequire as __peer_cr } from 'module';const require = __peer_cr(import.meta.url);" },
    logLevel: 'silent',
  });
  const mod: unknown = await import(pathToFileURL(outfile).href);
  const create: unknown = typeof mod === 'object' && mod !== null ? Reflect.get(mod, 'createMiddyPeer') : undefined;
  if (typeof create !== 'function') throw new Error('the middy peer bundle exports no createMiddyPeer');
  const peer: unknown = create();
  if (typeof peer !== 'function') throw new Error('createMiddyPeer returned no function');
  return async (event) => {
    const out: unknown = await Reflect.apply(peer, undefined, [event]);
    const audio: unknown = typeof out === 'object' && out !== null ? Reflect.get(out, 'audio') : undefined;
    const metadata: unknown = typeof out === 'object' && out !== null ? Reflect.get(out, 'metadata') : undefined;
    return { audio: Buffer.isBuffer(audio) ? audio : undefined, metadata };
  };
}

export interface HotCase {
  name: string;
  event: APIGatewayProxyEventV2;
  handler: Handler;
  /** Audio cases are held to the ≤2× target and get the middy peer. */
  audio?: Buffer;
  /** More subjects timed side by side with this case (e.g. one stage on its own). */
  extras?: Subject[];
}

export interface HotResult {
  name: string;
  bodyBytes: number;
  statusCode: number;
  handler: Timed;
  floor: Timed;
  middy?: Timed;
  /** middy + SHA-256 of the audio (we hash the audio too): the like-for-like peer. */
  middyHashed?: Timed;
  middyIntact?: boolean;
  /** IBM's sample path (bench/peer/ibm-sample.ts) and our handler, both on the event with a filename on the audio part. */
  ibm?: Timed;
  oursOnIbmBytes?: Timed;
  ibmIntact?: boolean;
  /** What the sample answers to the documented (filename-less) audio part. */
  ibmDocumentedStatus?: number;
  extras: Timed[];
}

/** Silence the handlers' log lines while timing (they are still formatted). */
export function quietLogs(): () => void {
  const previous = setLogSink(() => {});
  return () => { setLogSink(previous); };
}

/**
 * The watsonx handler, warm-path ready for a single-process tool (stages,
 * profile): the bench's environment, storage answered at once, logs silenced.
 */
export async function audioHandlerForTiming(): Promise<Handler> {
  Object.assign(process.env, benchEnv('bench', 'bench'), { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench' });
  stubStorage();
  quietLogs();
  const handler = await importHandler('functions/audio-webhook/handler.ts');
  if (!handler) throw new Error('functions/audio-webhook/handler.ts is missing');
  return handler;
}

export async function hotPath(cases: HotCase[], plan: { rounds: number; targetBatchMs: number; workDir: string }): Promise<HotResult[]> {
  const results: HotResult[] = [];
  const peer = await loadMiddyPeer(plan.workDir);
  const ibm = createIbmSamplePeer(BENCH_SECRETS.WATSONX_AUDIO_SECRET);
  for (const c of cases) {
    const first = await c.handler(c.event);
    const b64 = c.event.isBase64Encoded ? c.event.body ?? '' : bodyBytes(c.event).toString('base64');
    const subjects: Subject[] = [
      { name: 'handler', run: () => c.handler(c.event) },
      { name: 'floor', run: floorOf(b64) },
    ];
    let middyIntact: boolean | undefined;
    let ibmIntact: boolean | undefined;
    let ibmDocumentedStatus: number | undefined;
    if (c.audio) {
      const ibmEvent = withAudioFilename(c.event);
      const sample = await ibm(ibmEvent);
      ibmIntact = sample.status === 200 && sample.audio !== undefined && sample.audio.equals(c.audio);
      ibmDocumentedStatus = (await ibm(c.event)).status;
      subjects.push({ name: 'ibm', run: () => ibm(ibmEvent) });
      subjects.push({ name: 'ours-on-ibm-bytes', run: () => c.handler(ibmEvent) });
      const parsed = await peer(c.event);
      middyIntact = parsed.audio !== undefined && parsed.audio.equals(c.audio);
      subjects.push({ name: 'middy', run: () => peer(c.event) });
      subjects.push({
        name: 'middy+sha256',
        run: async () => {
          const p = await peer(c.event);
          return p.audio ? createHash('sha256').update(p.audio).digest('hex') : '';
        },
      });
    }
    for (const e of c.extras ?? []) subjects.push(e);
    // Size batches so each lasts ~targetBatchMs for the slowest subject.
    const t0 = performance.now();
    await c.handler(c.event);
    const once = Math.max(performance.now() - t0, 0.01);
    const batch = Math.max(3, Math.min(2000, Math.round(plan.targetBatchMs / once)));
    const timed = await timeSideBySide(subjects, { batch, rounds: plan.rounds, warmup: Math.min(batch, 20) });
    const get = (n: string) => timed.find((t) => t.name === n);
    const handler = get('handler');
    const floor = get('floor');
    if (!handler || !floor) throw new Error('timing lost a subject');
    const middyT = get('middy');
    const middyHashed = get('middy+sha256');
    const ibmT = get('ibm');
    const oursOnIbmBytes = get('ours-on-ibm-bytes');
    results.push({
      name: c.name,
      bodyBytes: bodyBytes(c.event).length,
      statusCode: first.statusCode ?? 0,
      handler,
      floor,
      ...(middyT ? { middy: middyT } : {}),
      ...(middyHashed ? { middyHashed } : {}),
      ...(middyIntact !== undefined ? { middyIntact } : {}),
      ...(ibmT ? { ibm: ibmT } : {}),
      ...(oursOnIbmBytes ? { oursOnIbmBytes } : {}),
      ...(ibmIntact !== undefined ? { ibmIntact } : {}),
      ...(ibmDocumentedStatus !== undefined ? { ibmDocumentedStatus } : {}),
      extras: (c.extras ?? []).map((e) => get(e.name)).filter((t): t is Timed => t !== undefined),
    });
  }
  return results;
}
