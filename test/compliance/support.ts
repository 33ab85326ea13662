import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { main, type Io } from '../../lib/commands/calls.ts';

/** Everything one bucket and one table hold, for before/after comparisons. */
export interface Snapshot {
  /** `key` (unversioned) or `key@versionId` / `key@versionId (marker)` (versioned), sorted. */
  objects: string[];
  /** `PK|SK`, sorted. */
  items: string[];
  rawItems: Record<string, unknown>[];
}

export async function snapshot(s3: S3Client, ddb: DynamoDBDocumentClient, bucket: string, table: string, versioned: boolean): Promise<Snapshot> {
  const objects: string[] = [];
  if (versioned) {
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
      for (const v of out.Versions ?? []) objects.push(`${v.Key}@${v.VersionId}`);
      for (const m of out.DeleteMarkers ?? []) objects.push(`${m.Key}@${m.VersionId} (marker)`);
      keyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
      versionMarker = out.IsTruncated ? out.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
  } else {
    let token: string | undefined;
    do {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const o of out.Contents ?? []) if (o.Key) objects.push(o.Key);
      token = out.NextContinuationToken;
    } while (token);
  }
  const rawItems: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    rawItems.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return { objects: objects.sort(), items: rawItems.map((i) => `${String(i.PK)}|${String(i.SK)}`).sort(), rawItems };
}

/** What `before` had that `after` lacks, and the reverse. */
export function difference(before: Snapshot, after: Snapshot) {
  const gone = (a: string[], b: string[]) => a.filter((x) => !b.includes(x));
  return {
    objectsGone: gone(before.objects, after.objects),
    objectsNew: gone(after.objects, before.objects),
    itemsGone: gone(before.items, after.items),
    itemsNew: gone(after.items, before.items),
  };
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'compliance-data-'));
}

export interface CliRun { code: number; out: string; err: string; asked: string[] }

/** The calls command as a user runs it, with an answer for its confirmation question (or none: no terminal). */
export async function cli(env: Record<string, string | undefined>, argv: string[], answer?: string): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  const io: Io = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    ask: async (q) => { asked.push(q); return answer; },
  };
  const code = await main(argv, io, env);
  return { code, out: out.join('\n'), err: err.join('\n'), asked };
}
