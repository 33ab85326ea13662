/**
 * Storage round trips, as a caller waits for them: the real handlers (from
 * source, warm, deployed configuration with the recordings queue) store each
 * delivery through HTTP proxies that hold every S3 response 40 ms and every
 * DynamoDB and SQS response 10 ms (roughly in-region latencies) in front of
 * the embedded s3rver, dynalite and the local queue. Storage wait = from the
 * delivery's first request reaching a proxy to its last response leaving one;
 * the whole invocation (CPU included) is kept beside it. For every source,
 * a new delivery and its duplicate (the same event again); the duplicate
 * twice: once with DynamoDB's ALL_OLD behaviour (the proxy adds the stored
 * item to the failed conditional put, as DynamoDB does) and once with
 * dynalite as it is (no item: the handler falls back to a GetItem). The floor
 * is one S3 PUT of the delivery's largest object plus one DynamoDB PutItem,
 * one after the other, through the same proxies, measured the same two ways
 * beside each delivery. Runs in its own process (`runRoundTrips`): the handler modules
 * build their SDK clients against the proxies at import.
 */
import '../lib/quiet-sdk.ts';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { startHttpProxy, returnOldItemOnConditionFailure, type HttpProxy } from '../lib/http-proxy.ts';
import { runChild } from './cold.ts';
import { startLocalQueues } from '../lib/local-queue.ts';
import { median } from './lib/stats.ts';
import {
  MULAW_BYTES_PER_SECOND, engageEvent, engagePayload, mulawAudio, synthflowEvent, synthflowPayload, uniqueId, uniqueUii,
  vapiEvent, vapiPayload, volubileEvent, volubilePayload, watsonxEventWithJwt, watsonxJwt,
} from './lib/events.ts';

export const S3_HOLD_MS = 40;
export const DYNAMODB_HOLD_MS = 10;
export const SQS_HOLD_MS = 10;

export interface RoundTripRow {
  source: string;
  /** new | duplicate (DynamoDB) | duplicate (dynalite) */
  kind: string;
  /** Storage wait: from the delivery's first storage request reaching a proxy to its last response leaving one. */
  waitMs: number;
  /** The same span for the floor's two requests. */
  floorMs: number;
  /** The handler's whole invocation (its CPU included), and the floor's two calls, seen by the caller. */
  invocationMs: number;
  floorCallMs: number;
  s3Requests: number;
  dynamoRequests: string;
  sqsRequests: number;
  statuses: number[];
}

const WATSONX_WAV_HEADER = 44;

interface Case {
  source: string;
  entry: string;
  make: (i: number) => APIGatewayProxyEventV2;
  /** Bytes of the largest object the delivery writes to S3 (for the floor). */
  largestObject: (e: APIGatewayProxyEventV2) => number;
}

function bodyLength(e: APIGatewayProxyEventV2): number {
  return e.isBase64Encoded ? Buffer.from(e.body ?? '', 'base64').length : Buffer.byteLength(e.body ?? '');
}

/** First request in to last response out, across the proxies: the time storage held the caller. */
function span(proxies: readonly HttpProxy[]): number {
  const seen = proxies.flatMap((p) => p.requests);
  return Math.max(...seen.map((r) => r.respondedAt ?? Number.NaN)) - Math.min(...seen.map((r) => r.arrivedAt));
}

function count(proxy: HttpProxy): { n: number; ops: string } {
  const byOp = new Map<string, number>();
  for (const r of proxy.requests) byOp.set(r.operation, (byOp.get(r.operation) ?? 0) + 1);
  return { n: proxy.requests.length, ops: [...byOp].map(([op, n]) => `${op}${n > 1 ? ` ×${n}` : ''}`).join(' + ') };
}

async function child(runs: number): Promise<RoundTripRow[]> {
  const s3Upstream = process.env.ROUND_TRIP_S3_UPSTREAM ?? '';
  const ddbUpstream = process.env.ROUND_TRIP_DYNAMODB_UPSTREAM ?? '';
  const s3Proxy = await startHttpProxy(() => s3Upstream, S3_HOLD_MS);
  const ddbProxy = await startHttpProxy(() => ddbUpstream, DYNAMODB_HOLD_MS);
  // The deployed stack queues linked recordings (SQS): the product's local queue, behind its own proxy.
  const queues = await startLocalQueues({ host: '127.0.0.1', port: 0, specs: [{ name: 'recordings', visibilityTimeoutSec: 30 }] });
  const sqsProxy = await startHttpProxy(() => queues.endpoint, SQS_HOLD_MS);
  const proxies = [s3Proxy, ddbProxy, sqsProxy];
  const direct = new DynamoDBClient({ endpoint: ddbUpstream });
  let modelDynamo = true;
  const addOldItem = returnOldItemOnConditionFailure(async (TableName, Key) =>
    (await direct.send(new GetItemCommand({ TableName, Key: Key as Record<string, AttributeValue>, ConsistentRead: true }))).Item);
  ddbProxy.rewrite = (req, res) => (modelDynamo ? addOldItem(req, res) : res);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: s3Proxy.endpoint, AWS_ENDPOINT_URL_DYNAMODB: ddbProxy.endpoint, AWS_ENDPOINT_URL_SQS: sqsProxy.endpoint,
    // The SQS client sends to the queue URL's host: the proxy's.
    RECORDINGS_QUEUE_URL: `${sqsProxy.endpoint}${new URL(queues.url('recordings')).pathname}`,
  });
  const { importHandler, quietLogs } = await import('./hot.ts');
  quietLogs();
  const bucket = process.env.BUCKET_NAME ?? '';
  const table = process.env.TABLE_NAME ?? '';
  const floorS3 = new S3Client({ expectContinueHeader: false });
  const floorDdb = new DynamoDBClient({});

  const jwt = await watsonxJwt();
  const audio30 = mulawAudio(30 * MULAW_BYTES_PER_SECOND, 30);
  const cases: Case[] = [
    {
      source: 'watsonx 30 s', entry: 'functions/audio-webhook/handler.ts',
      make: () => watsonxEventWithJwt({ audio: audio30, sessionId: uniqueId('rt-session'), recordingId: uniqueId('rt-rec') }, jwt),
      largestObject: () => audio30.length + WATSONX_WAV_HEADER,
    },
    { source: 'Volubile', entry: 'functions/call-completed/handler.ts', make: () => volubileEvent(volubilePayload(uniqueId('rt-volubile'))), largestObject: bodyLength },
    { source: 'Synthflow', entry: 'functions/call-completed/handler.ts', make: () => synthflowEvent(synthflowPayload(uniqueId('rt-synthflow'))), largestObject: bodyLength },
    { source: 'Vapi', entry: 'functions/call-completed/handler.ts', make: () => vapiEvent(vapiPayload(uniqueId('rt-vapi'))), largestObject: bodyLength },
    { source: 'Engage Voice', entry: 'functions/engage-voice/handler.ts', make: (i) => engageEvent('json', engagePayload(uniqueUii(i))), largestObject: bodyLength },
  ];

  const reset = () => { for (const p of proxies) p.reset(); };
  const floor = async (bytes: number): Promise<{ span: number; call: number }> => {
    const body = Buffer.alloc(bytes, 1);
    reset();
    const t0 = performance.now();
    await floorS3.send(new PutObjectCommand({ Bucket: bucket, Key: `floor/${uniqueId('f')}`, Body: body, ContentLength: bytes }));
    await floorDdb.send(new PutItemCommand({ TableName: table, Item: { PK: { S: `FLOOR#${uniqueId('f')}` }, SK: { S: 'FLOOR' } } }));
    return { call: performance.now() - t0, span: span(proxies) };
  };

  const rows: RoundTripRow[] = [];
  let uii = 0;
  for (const c of cases) {
    const handler = await importHandler(c.entry);
    if (!handler) continue;
    interface Samples { wait: number[]; floor: number[]; invocation: number[]; floorCall: number[]; s3: number; ddb: string; sqs: number; statuses: Set<number> }
    const samples = new Map<string, Samples>();
    const record = async (kind: string, event: APIGatewayProxyEventV2) => {
      const f = await floor(c.largestObject(event));
      reset();
      const t0 = performance.now();
      const res = await handler(event);
      const invocation = performance.now() - t0;
      const s = samples.get(kind) ?? { wait: [], floor: [], invocation: [], floorCall: [], s3: 0, ddb: '', sqs: 0, statuses: new Set<number>() };
      s.wait.push(span(proxies));
      s.floor.push(f.span);
      s.invocation.push(invocation);
      s.floorCall.push(f.call);
      s.s3 = count(s3Proxy).n;
      s.ddb = count(ddbProxy).ops;
      s.sqs = count(sqsProxy).n;
      s.statuses.add(res.statusCode ?? 0);
      samples.set(kind, s);
    };
    // Run 0 warms the handler, the clients and their connections; it is discarded.
    for (let r = 0; r <= runs; r++) {
      const event = c.make(uii++);
      modelDynamo = true;
      await record('new', event);
      await record('duplicate (DynamoDB)', event);
      modelDynamo = false;
      await record('duplicate (dynalite)', event);
      if (r === 0) samples.clear();
    }
    for (const [kind, s] of samples) {
      rows.push({
        source: c.source, kind, waitMs: median(s.wait), floorMs: median(s.floor), invocationMs: median(s.invocation), floorCallMs: median(s.floorCall),
        s3Requests: s.s3, dynamoRequests: s.ddb, sqsRequests: s.sqs, statuses: [...s.statuses],
      });
    }
  }
  floorS3.destroy();
  floorDdb.destroy();
  direct.destroy();
  for (const p of proxies) await p.close();
  await queues.close();
  return rows;
}

/** Runs the section in a child process against the given (embedded) storage; returns its rows. */
export async function runRoundTrips(env: Record<string, string>, storage: { s3Endpoint: string; dynamoEndpoint: string }, runs: number): Promise<RoundTripRow[]> {
  const script = new URL(import.meta.url).pathname;
  const out = await runChild(script, [String(runs)], {
    ...env, ROUND_TRIP_S3_UPSTREAM: storage.s3Endpoint, ROUND_TRIP_DYNAMODB_UPSTREAM: storage.dynamoEndpoint,
  }, ['--import', 'tsx']);
  const line = out.stdout.split('\n').find((l) => l.startsWith('ROUND_TRIPS '));
  if (out.code !== 0 || !line) throw new Error(`round-trip child failed (${out.code}): ${out.stderr.slice(-2000)}`);
  return JSON.parse(line.slice('ROUND_TRIPS '.length)) as RoundTripRow[];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await child(Number(process.argv[2] ?? '10'));
  process.stdout.write(`\nROUND_TRIPS ${JSON.stringify(rows)}\n`);
  process.exit(0);
}
