import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Secrets } from '#shared/config';
import { setLogSink } from '#shared/log';
import { INDEX_PROJECTION, INDEX_ROLES, LEGACY_INDEX_NAMES, TABLE_SCHEMA, type IndexRole } from '#shared/table';
import { ensureBucketAndTable, sdkEnvironment, startEmbeddedStorage } from '../embedded.ts';
import { toApiGatewayEvent, type FunctionName } from '../api-gateway.ts';
import { requestTarget, volubileRequest, type OutgoingRequest } from '../requests.ts';
import { PAYLOADS_DIR, SAMPLES, SAMPLE_NAMES } from '../samples.ts';
import { loadHandler } from '../handlers.ts';
import { decideSecrets } from '../local-secrets.ts';

/**
 * `npm run index-sizes`: what one call costs in each index, before (ByDay,
 * ByPhone, ByReceived projecting ALL attributes) and after (the slim indexes:
 * keys + INDEX_PROJECTION). Every sample of every source, and a long-transcript
 * call, goes through the real handler into an embedded dynalite of its own;
 * the stored items are read back and sized by DynamoDB's rules:
 *   attribute name bytes (UTF-8) + value bytes; S: UTF-8 bytes; N: 1 byte per
 *   two significant digits + 1; B: bytes; BOOL/NULL: 1; M/L: 3 + per element
 *   (its name, for M) + its size + 1;
 *   an index item: its projected attributes + 100 bytes of overhead.
 * Prints a Markdown table (docs/deploy.md, "Index costs").
 */

const INDEX_ITEM_OVERHEAD = 100;

export function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S, 'utf8');
  if (v.N !== undefined) return numberBytes(v.N);
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.L !== undefined) return v.L.reduce((n, e) => n + valueBytes(e) + 1, 3);
  if (v.M !== undefined) return Object.entries(v.M).reduce((n, [k, e]) => n + Buffer.byteLength(k, 'utf8') + valueBytes(e) + 1, 3);
  if (v.SS !== undefined) return v.SS.reduce((n, s) => n + Buffer.byteLength(s, 'utf8'), 0);
  if (v.NS !== undefined) return v.NS.reduce((n, s) => n + numberBytes(s), 0);
  if (v.BS !== undefined) return v.BS.reduce((n, b) => n + b.byteLength, 0);
  throw new Error('unknown attribute value type');
}

function numberBytes(n: string): number {
  const digits = n.replace(/^-/, '').replace('.', '').replace(/e.*$/i, '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

export function itemBytes(item: Record<string, AttributeValue>, only?: readonly string[]): number {
  return Object.entries(item)
    .filter(([k]) => !only || only.includes(k))
    .reduce((n, [k, v]) => n + Buffer.byteLength(k, 'utf8') + valueBytes(v), 0);
}

export interface IndexSizes {
  /** The base table item. */
  table: number;
  /** Per role: bytes of the item in the ALL index and in the slim index (undefined: the item is not in that index, e.g. no valid phone number). */
  indexes: Record<IndexRole, { all: number; slim: number } | undefined>;
}

/** Bytes one table item takes in the table and in each index it has keys for. */
export function indexSizes(item: Record<string, AttributeValue>): IndexSizes {
  const table = itemBytes(item);
  const indexes = Object.fromEntries(INDEX_ROLES.map((role) => {
    const { partitionKey, sortKey } = TABLE_SCHEMA.indexes[role];
    if (!item[partitionKey] || !item[sortKey]) return [role, undefined];
    const slimAttrs = [TABLE_SCHEMA.partitionKey, TABLE_SCHEMA.sortKey, partitionKey, sortKey, ...INDEX_PROJECTION];
    return [role, { all: table + INDEX_ITEM_OVERHEAD, slim: itemBytes(item, slimAttrs) + INDEX_ITEM_OVERHEAD }];
  })) as IndexSizes['indexes'];
  return { table, indexes };
}

/** A Volubile call of `turns` transcript turns (an hour-long conversation at 1,500). */
function longTranscriptRequest(secrets: Secrets, turns: number): OutgoingRequest {
  const sample = JSON.parse(readFileSync(join(PAYLOADS_DIR, 'volubile', 'call-completed.json'), 'utf8')) as Record<string, unknown>;
  const sentence = 'Je vous confirme que la commande a bien été expédiée, vous recevrez un e-mail de suivi dans la journée. ';
  const transcript = Array.from({ length: turns }, (_, i) => ({ role: i % 2 ? 'user' : 'agent', text: sentence.repeat(1 + (i % 2)) }));
  const body = Buffer.from(JSON.stringify({ ...sample, id: randomUUID(), duration: 3600, transcript }));
  return volubileRequest(body, { secret: secrets.VOLUBILE_WEBHOOK_SECRET, token: secrets.VOLUBILE_WEBHOOK_TOKEN });
}

interface Row { label: string; items: number; sizes: IndexSizes[] }

export async function measure(): Promise<Row[]> {
  // The handlers' log and metric lines would interleave with the table on stdout.
  setLogSink(() => {});
  const dataDir = mkdtempSync(join(tmpdir(), 'index-sizes-'));
  const storage = await startEmbeddedStorage({ dataDir });
  const bucketName = 'index-sizes';
  const tableName = 'index-sizes';
  // The secrets `npm start` generates on a fresh clone, which the samples sign with.
  const secrets: Secrets = decideSecrets({}, {}).apply;
  try {
    await ensureBucketAndTable(storage, bucketName, tableName);
    Object.assign(process.env, sdkEnvironment(storage), secrets, {
      BUCKET_NAME: bucketName, TABLE_NAME: tableName, ENGAGE_VOICE_TIMEZONE: 'UTC', DEFAULT_PHONE_REGION: 'US',
    });
    const ddb = new DynamoDBClient({});
    const seen = new Set<string>();
    const rows: Row[] = [];
    const deliver = async (label: string, functionName: FunctionName, request: OutgoingRequest) => {
      const handler = await loadHandler(functionName);
      const res = await handler(toApiGatewayEvent({ method: request.method, target: requestTarget(request), headers: request.headers, body: request.body }));
      const status = typeof res === 'object' && res && 'statusCode' in res ? res.statusCode : undefined;
      if (status !== 200) throw new Error(`${label}: the handler answered ${String(status)}`);
      const items: Record<string, AttributeValue>[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        // The tool's own private table: a scan finds what this delivery added.
        const out = await ddb.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
      const added = items.filter((i) => !seen.has(`${i.PK?.S}|${i.SK?.S}`));
      for (const i of added) seen.add(`${i.PK?.S}|${i.SK?.S}`);
      rows.push({ label, items: added.length, sizes: added.map(indexSizes) });
    };
    for (const name of SAMPLE_NAMES) {
      const sample = SAMPLES[name];
      await deliver(name, sample.functionName, await sample.build({ secrets, fresh: true }));
    }
    await deliver('volubile, 1,500-turn transcript', 'call-completed', longTranscriptRequest(secrets, 1500));
    ddb.destroy();
    return rows;
  } finally {
    await storage.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const kb = (n: number) => (n >= 10_240 ? `${(n / 1024).toFixed(0)} KB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KB` : `${n} B`);
const wcu = (n: number) => Math.ceil(n / 1024);

export function table(rows: Row[]): string {
  const head = ['Delivery', 'Items', 'Table item', ...INDEX_ROLES.map((r) => `${LEGACY_INDEX_NAMES[r]} → ${TABLE_SCHEMA.indexes[r].indexName}`), 'Index write units per delivery (before → after)'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i ? '---:' : '---')).join('|')}|`];
  for (const row of rows) {
    if (!row.items) {
      lines.push(`| ${row.label} | 0 | (archived, no call item) | ${INDEX_ROLES.map(() => '–').join(' | ')} | – |`);
      continue;
    }
    const sum = (f: (s: IndexSizes) => number) => row.sizes.reduce((n, s) => n + f(s), 0);
    const cells = INDEX_ROLES.map((r) => {
      const present = row.sizes.filter((s) => s.indexes[r]);
      if (!present.length) return 'not indexed';
      return `${kb(present.reduce((n, s) => n + (s.indexes[r]?.all ?? 0), 0))} → ${kb(present.reduce((n, s) => n + (s.indexes[r]?.slim ?? 0), 0))}`;
    });
    // Write units: 1 per KB of each index item written (its projected bytes, without the storage overhead).
    const units = (k: 'all' | 'slim') => sum((s) => INDEX_ROLES.reduce((n, r) => n + (s.indexes[r] ? wcu(s.indexes[r][k] - INDEX_ITEM_OVERHEAD) : 0), 0));
    lines.push(`| ${row.label} | ${row.items} | ${kb(sum((s) => s.table))} | ${cells.join(' | ')} | ${units('all')} → ${units('slim')} |`);
  }
  return lines.join('\n');
}

export async function main(): Promise<number> {
  try {
    console.log(table(await measure()));
    return 0;
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    return 1;
  }
}
