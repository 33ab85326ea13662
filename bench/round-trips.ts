/**
 * Storage round trips, as a caller waits for them: the real handlers (from
 * source, warm) store each delivery through HTTP proxies that hold every S3
 * response 40 ms and every DynamoDB response 10 ms (roughly in-region
 * latencies) in front of the embedded s3rver and dynalite. For every source,
 * a new delivery and its duplicate (the same event again); the duplicate
 * twice: once with DynamoDB's ALL_OLD behaviour (the proxy adds the stored
 * item to the failed conditional put, as DynamoDB does) and once with
 * dynalite as it is (no item: the handler falls back to a GetItem). The floor
 * is one S3 PUT of the delivery's largest object plus one DynamoDB PutItem,
 * one after the other, through the same proxies, measured beside each
 * delivery. Runs in its own process (`runRoundTrips`): the handler modules
 * build their SDK clients against the proxies at import.
 */
import '../lib/quiet-sdk.ts';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { startHttpProxy, returnOldItemOnConditionFailure, type HttpProxy } from '../lib/http-proxy.ts';
import { runChild } from './cold.ts';
import { median } from './lib/stats.ts';
import {
  MULAW_BYTES_PER_SECOND, engageEvent, engagePayload, mulawAudio, synthflowEvent, synthflowPayload, uniqueId, uniqueUii,
  vapiEvent, vapiPayload, volubileEvent, volubilePayload, watsonxEventWithJwt, watsonxJwt,
} from './lib/events.ts';

export const S3_HOLD_MS = 40;
export const DYNAMODB_HOLD_MS = 10;

export interface RoundTripRow {
  source: string;
  /** new | duplicate (DynamoDB) | duplicate (dynalite) */
  kind: string;
  waitMs: number;
  floorMs: number;
  s3Requests: number;
  dynamoRequests: string;
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
  const direct = new DynamoDBClient({ endpoint: ddbUpstream });
  let modelDynamo = true;
  const addOldItem = returnOldItemOnConditionFailure(async (TableName, Key) =>
    (await direct.send(new GetItemCommand({ TableName, Key: Key as Record<string, AttributeValue>, ConsistentRead: true }))).Item);
  ddbProxy.rewrite = (req, res) => (modelDynamo ? addOldItem(req, res) : res);
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: s3Proxy.endpoint, AWS_ENDPOINT_URL_DYNAMODB: ddbProxy.endpoint });
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

  const floor = async (bytes: number): Promise<number> => {
    const body = Buffer.alloc(bytes, 1);
    const t0 = performance.now();
    await floorS3.send(new PutObjectCommand({ Bucket: bucket, Key: `floor/${uniqueId('f')}`, Body: body, ContentLength: bytes }));
    await floorDdb.send(new PutItemCommand({ TableName: table, Item: { PK: { S: `FLOOR#${uniqueId('f')}` }, SK: { S: 'FLOOR' } } }));
    return performance.now() - t0;
  };

  const rows: RoundTripRow[] = [];
  let uii = 0;
  for (const c of cases) {
    const handler = await importHandler(c.entry);
    if (!handler) continue;
    const samples = new Map<string, { wait: number[]; floor: number[]; s3: number; ddb: string; statuses: Set<number> }>();
    const record = async (kind: string, event: APIGatewayProxyEventV2) => {
      const f = await floor(c.largestObject(event));
      s3Proxy.reset();
      ddbProxy.reset();
      const t0 = performance.now();
      const res = await handler(event);
      const wait = performance.now() - t0;
      const s = samples.get(kind) ?? { wait: [], floor: [], s3: 0, ddb: '', statuses: new Set<number>() };
      s.wait.push(wait);
      s.floor.push(f);
      s.s3 = count(s3Proxy).n;
      s.ddb = count(ddbProxy).ops;
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
      rows.push({ source: c.source, kind, waitMs: median(s.wait), floorMs: median(s.floor), s3Requests: s.s3, dynamoRequests: s.ddb, statuses: [...s.statuses] });
    }
  }
  floorS3.destroy();
  floorDdb.destroy();
  direct.destroy();
  await s3Proxy.close();
  await ddbProxy.close();
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
