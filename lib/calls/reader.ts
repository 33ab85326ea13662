import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import * as v from 'valibot';
import { SOURCES, type Source } from '#shared/model';
import { LEGACY_INDEX_NAMES, TABLE_SCHEMA, callPk, dayPk, phonePk, readableIndex, receivedPk, type IndexRole } from '#shared/table';
import { parseItem, mergeItems, callKey, type GroupedCall } from './model.ts';

/**
 * Reads calls back from the storage the handlers write: Query on the table's
 * key and on its day / received / phone indexes, never a Scan, and GetObject
 * for audio. An index item carries only which call it belongs to
 * (INDEX_PROJECTION); every call listed is then read whole by its key.
 */

/** What a listing reads from an index item. */
const IndexRefSchema = v.object({ source: v.picklist(SOURCES), callId: v.string() });
type CallRef = v.InferOutput<typeof IndexRefSchema>;

/** How long a reader trusts what DescribeTable said about the indexes (a migration step may drop one). */
const INDEX_STATE_TTL_MS = 60_000;

export interface CallReaderOptions {
  bucketName: string;
  tableName: string;
  s3?: S3Client;
  ddb?: DynamoDBDocumentClient;
}

export interface ListOptions {
  /** UTC day, YYYY-MM-DD: only calls that started that day. */
  day?: string;
  /** E.164 customer number (use toE164 on user input first). */
  phone?: string;
  source?: Source;
  /** Number of calls (not items). */
  limit: number;
  /** Without day or phone: how many days to walk back from `today`. */
  days?: number;
  today?: Date;
}

export interface ListResult {
  calls: GroupedCall[];
  /** Days (or partitions) queried, for the user to see how far back the list looked. */
  searched: string[];
  /** Queries sent, to keep the tool honest about its cost. */
  queries: number;
  /**
   * Without day or phone the window is "started or received in those days":
   * false when the table has no ByReceived index (created before it existed),
   * so only start days were searched.
   */
  receivedSearched?: boolean;
}

export const DEFAULT_DAYS = 30;
const PAGE = 100;
/** Days queried at once while walking back; results are still consumed newest first. */
const DAY_BATCH = 7;

export function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function daysBack(today: Date, count: number): string[] {
  const start = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  return Array.from({ length: count }, (_, i) => isoDay(new Date(start - i * 86_400_000)));
}

export class CallReader {
  readonly bucketName: string;
  readonly tableName: string;
  /** Also what `calls forget` and `calls hold` act through (lib/calls/erasure.ts). */
  readonly s3: S3Client;
  readonly ddb: DynamoDBDocumentClient;
  queries = 0;
  private indexNames: { at: number; names: Promise<Partial<Record<IndexRole, string>>> } | undefined;

  constructor(opts: CallReaderOptions) {
    this.bucketName = opts.bucketName;
    this.tableName = opts.tableName;
    // Path-style only against a custom endpoint (the embedded s3rver); virtual-hosted in AWS.
    this.s3 = opts.s3 ?? new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL) });
    this.ddb = opts.ddb ?? DynamoDBDocumentClient.from(new DynamoDBClient({}));
  }

  destroy(): void {
    this.s3.destroy();
    this.ddb.destroy();
  }

  /** Every item of one call (Query on its partition key). */
  async getCall(source: Source, callId: string): Promise<GroupedCall | undefined> {
    const raw: Record<string, unknown>[] = [];
    await this.queryPages({
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE_SCHEMA.partitionKey },
      ExpressionAttributeValues: { ':pk': callPk(source, callId) },
    }, (page) => { raw.push(...page); return false; });
    const items = raw.map(parseItem).filter((i) => i !== undefined);
    return items.length ? mergeItems(items) : undefined;
  }

  /**
   * The index this table offers for a role (DescribeTable, cached a minute):
   * the slim one once ACTIVE and backfilled, else its legacy ALL-projection
   * name, else undefined (readableIndex in functions/shared/table.ts).
   */
  async indexFor(role: IndexRole): Promise<string | undefined> {
    if (!this.indexNames || Date.now() - this.indexNames.at > INDEX_STATE_TTL_MS) {
      const names = this.ddb.send(new DescribeTableCommand({ TableName: this.tableName })).then((out) => {
        const described = out.Table?.GlobalSecondaryIndexes ?? [];
        const roles = Object.keys(TABLE_SCHEMA.indexes) as IndexRole[];
        return Object.fromEntries(roles.map((r) => [r, readableIndex(r, described)]));
      });
      this.indexNames = { at: Date.now(), names };
      names.catch(() => { this.indexNames = undefined; });
    }
    return (await this.indexNames.names)[role];
  }

  private async requireIndex(role: IndexRole): Promise<string> {
    const name = await this.indexFor(role);
    if (name) return name;
    throw new Error(`table ${this.tableName} has no readable ${TABLE_SCHEMA.indexes[role].indexName} index (nor ${LEGACY_INDEX_NAMES[role]}): one is still being built; retry when DescribeTable shows it ACTIVE (docs/deploy.md, "Index costs")`);
  }

  /** Calls newest first (by start time), each merged from all its items. */
  async listCalls(opts: ListOptions): Promise<ListResult> {
    const before = this.queries;
    const order: { source: Source; callId: string }[] = [];
    const seen = new Set<string>();
    const searched: string[] = [];
    const take = (refs: CallRef[]): boolean => {
      for (const ref of refs) {
        const key = callKey(ref.source, ref.callId);
        if (seen.has(key)) continue;
        seen.add(key);
        order.push(ref);
        if (order.length >= opts.limit) return true;
      }
      return false;
    };

    if (opts.phone !== undefined) {
      const { partitionKey, sortKey } = TABLE_SCHEMA.indexes.byPhone;
      searched.push(phonePk(opts.phone));
      const indexName = await this.requireIndex('byPhone');
      await this.queryRefs(this.indexQuery(indexName, partitionKey, phonePk(opts.phone), opts, opts.day ? { name: sortKey, prefix: opts.day } : undefined), take);
    } else if (opts.day) {
      searched.push(opts.day);
      await this.walkDays('byDay', dayPk, [opts.day], opts, take);
    } else {
      // The window: calls that started in those days, and calls received in them whatever their start
      // (an old export replayed today, a vendor clock far off): a call just received is always listed.
      const days = daysBack(opts.today ?? new Date(), opts.days ?? DEFAULT_DAYS);
      searched.push(...await this.walkDays('byDay', dayPk, days, opts, take));
      const seenReceived = new Set<string>();
      const takeReceived = (refs: CallRef[]): boolean => {
        for (const ref of refs) {
          const key = callKey(ref.source, ref.callId);
          if (seenReceived.has(key)) continue;
          seenReceived.add(key);
          if (!seen.has(key)) { seen.add(key); order.push(ref); }
          if (seenReceived.size >= opts.limit) return true;
        }
        return false;
      };
      // A table created before the received-day index has neither name: only start days are searched.
      const received = await this.indexFor('byReceived') !== undefined;
      if (received) await this.walkDays('byReceived', receivedPk, days, opts, takeReceived);
      const calls = (await Promise.all(order.map((c) => this.getCall(c.source, c.callId)))).filter((c) => c !== undefined);
      // Newest delivery first, so what just arrived is on top whatever its start time.
      calls.sort((a, b) => b.call.receivedAt.localeCompare(a.call.receivedAt));
      return { calls: calls.slice(0, Math.max(opts.limit, 0)), searched, queries: this.queries - before, receivedSearched: received };
    }

    const calls = await Promise.all(order.map((c) => this.getCall(c.source, c.callId)));
    return {
      calls: calls.filter((c) => c !== undefined),
      searched,
      queries: this.queries - before,
    };
  }

  /** Walks day partitions of an index newest first, a week of first pages at a time, until `take` has enough; returns the days searched. */
  private async walkDays(role: IndexRole, pk: (day: string) => string, days: string[], opts: ListOptions, take: (refs: CallRef[]) => boolean): Promise<string[]> {
    const { partitionKey } = TABLE_SCHEMA.indexes[role];
    const indexName = await this.requireIndex(role);
    const searched: string[] = [];
    for (let i = 0; i < days.length; i += DAY_BATCH) {
      const batch = days.slice(i, i + DAY_BATCH);
      const results = await Promise.all(batch.map((day) => this.firstPages(indexName, partitionKey, pk(day), opts)));
      for (const [j, day] of batch.entries()) {
        searched.push(day);
        const result = results[j];
        if (!result) continue;
        if (take(result.items.map(refOf).filter((r) => r !== undefined))) return searched;
        if (result.next && await this.queryRefs({ ...this.indexQuery(indexName, partitionKey, pk(day), opts), ExclusiveStartKey: result.next }, take)) return searched;
      }
    }
    return searched;
  }

  /** The bytes of an object in our bucket. */
  async getObject(key: string): Promise<{ body: Uint8Array; contentType: string | undefined }> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucketName, Key: key }));
    if (!out.Body) throw new Error(`object ${key} has no body`);
    return { body: await out.Body.transformToByteArray(), contentType: out.ContentType };
  }

  private indexQuery(indexName: string, pkName: string, pk: string, opts: ListOptions, sortPrefix?: { name: string; prefix: string }): QueryCommandInput {
    const names: Record<string, string> = { '#pk': pkName };
    const values: Record<string, unknown> = { ':pk': pk };
    let condition = '#pk = :pk';
    if (sortPrefix) {
      names['#sk'] = sortPrefix.name;
      values[':prefix'] = sortPrefix.prefix;
      condition += ' AND begins_with(#sk, :prefix)';
    }
    const input: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: indexName,
      KeyConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
      Limit: PAGE,
    };
    if (opts.source) {
      names['#source'] = 'source';
      values[':source'] = opts.source;
      input.FilterExpression = '#source = :source';
    }
    return input;
  }

  private async firstPages(indexName: string, pkName: string, pk: string, opts: ListOptions) {
    return this.queryOnce(this.indexQuery(indexName, pkName, pk, opts));
  }

  private async queryOnce(input: QueryCommandInput): Promise<{ items: Record<string, unknown>[]; next: Record<string, unknown> | undefined }> {
    this.queries++;
    const out = await this.ddb.send(new QueryCommand(input));
    return { items: out.Items ?? [], next: out.LastEvaluatedKey };
  }

  /** Pages through an index query, handing `take` the calls its items belong to. */
  private async queryRefs(input: QueryCommandInput, take: (refs: CallRef[]) => boolean): Promise<boolean> {
    return this.queryPages(input, (items) => take(items.map(refOf).filter((r) => r !== undefined)));
  }

  /** Pages through a query until `take` says it has enough; true when it did. */
  private async queryPages(input: QueryCommandInput, take: (items: Record<string, unknown>[]) => boolean): Promise<boolean> {
    let next: Record<string, unknown> | undefined;
    do {
      const page = await this.queryOnce({ ...input, ...(next ? { ExclusiveStartKey: next } : {}) });
      if (take(page.items)) return true;
      next = page.next;
    } while (next);
    return false;
  }
}

function refOf(item: Record<string, unknown>): CallRef | undefined {
  const parsed = v.safeParse(IndexRefSchema, item);
  return parsed.success ? parsed.output : undefined;
}
