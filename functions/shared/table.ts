/**
 * The single-table key schema: one source of truth for the CDK stack, the local
 * DynamoDB server, the handlers and the read-back tools.
 *
 * Items (one per natural key):
 *   PK = CALL#<source>#<callId>
 *   SK = CALL                      Volubile and Synthflow calls
 *        REC#<recording_id>        a watsonx recording of a session
 *        SEG#<segment id>          an Engage Voice agent segment
 * Indexes (each projects the table keys, its own keys and INDEX_PROJECTION only):
 *   ByDaySlim    GSI1PK = DAY#<yyyy-mm-dd> (UTC day the call started), GSI1SK = <startedAt>#<source>#<callId>#<SK>
 *   ByPhoneSlim  GSI2PK = PHONE#<customer E.164>,                     GSI2SK = same as GSI1SK
 *   ByReceivedSlim GSI3PK = RECEIVED#<yyyy-mm-dd> (UTC day of the delivery), GSI3SK = <receivedAt>#<source>#<callId>#<SK>
 *            (so a call delivered today is listed even when it started long ago)
 * A reader finds calls on an index and reads each call by its key (docs/deploy.md, "Index costs").
 * Tables created before these had the same keys on ByDay / ByPhone / ByReceived, projecting ALL
 * attributes (transcripts included): LEGACY_INDEX_NAMES, read until a stack's migration drops them.
 */

export const TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  indexes: {
    byDay: { indexName: 'ByDaySlim', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    byPhone: { indexName: 'ByPhoneSlim', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
    byReceived: { indexName: 'ByReceivedSlim', partitionKey: 'GSI3PK', sortKey: 'GSI3SK' },
  },
} as const;

export type IndexRole = keyof typeof TABLE_SCHEMA.indexes;
export const INDEX_ROLES = Object.keys(TABLE_SCHEMA.indexes) as IndexRole[];

/**
 * What every index projects beyond the keys: exactly what a listing reads from
 * an index item (which call it belongs to, and the source for `--source`).
 */
export const INDEX_PROJECTION = ['source', 'callId'] as const;

/** The same keys under the names they had when each index projected ALL attributes. */
export const LEGACY_INDEX_NAMES: Readonly<Record<IndexRole, string>> = {
  byDay: 'ByDay',
  byPhone: 'ByPhone',
  byReceived: 'ByReceived',
};

/** An index as DescribeTable reports it. */
export interface IndexState {
  IndexName?: string | undefined;
  IndexStatus?: string | undefined;
  Backfilling?: boolean | undefined;
}

const complete = (i: IndexState | undefined) => i?.IndexStatus === 'ACTIVE' && i.Backfilling !== true;

/**
 * The index a reader queries for a role, given the table's indexes: the slim
 * one once it is ACTIVE and backfilled, else the legacy one (a stack part way
 * through its migration, or an old local table), else none. A new index is
 * never read while it backfills: it would miss calls.
 */
export function readableIndex(role: IndexRole, indexes: readonly IndexState[]): string | undefined {
  const find = (name: string) => indexes.find((i) => i.IndexName === name);
  const slim = TABLE_SCHEMA.indexes[role].indexName;
  if (complete(find(slim))) return slim;
  const legacy = LEGACY_INDEX_NAMES[role];
  if (complete(find(legacy))) return legacy;
  return undefined;
}

export const CALL_SK = 'CALL';

/** SK of a watsonx recording of a session. */
export function recordingSk(recordingId: string): string {
  return `REC#${recordingId}`;
}

/** SK of an Engage Voice agent segment. */
export function segmentSk(segmentId: string): string {
  return `SEG#${segmentId}`;
}

/** GSI1SK / GSI2SK / GSI3SK: `<time>#<source>#<callId>#<SK>`, so a listing sorts by time. */
export function listingSk(at: string, source: string, callId: string, sk: string): string {
  return `${at}#${source}#${callId}#${sk}`;
}

/**
 * Compliance attributes (docs/compliance.md): the table's TTL attribute (epoch
 * seconds, set from RETENTION_DAYS) and the legal-hold mark `calls hold` puts
 * on a call's items. A held item keeps no TTL, and storage never replaces it.
 */
export const TTL_ATTRIBUTE = 'expiresAt';
export const HOLD_ATTRIBUTE = 'legalHold';

export function callPk(source: string, callId: string): string {
  return `CALL#${source}#${callId}`;
}

export function dayPk(isoDay: string): string {
  return `DAY#${isoDay}`;
}

export function receivedPk(isoDay: string): string {
  return `RECEIVED#${isoDay}`;
}

export function phonePk(e164: string): string {
  return `PHONE#${e164}`;
}

/**
 * The same table, as a CreateTable input (used by local mode and tests): the
 * slim indexes, or `legacy` for a table as created before them (tests).
 */
export function createTableInput(tableName: string, indexes: 'slim' | 'legacy' = 'slim') {
  const { partitionKey, sortKey } = TABLE_SCHEMA;
  const all = Object.entries(TABLE_SCHEMA.indexes) as [IndexRole, (typeof TABLE_SCHEMA.indexes)[IndexRole]][];
  const attrs = [partitionKey, sortKey, ...all.flatMap(([, i]) => [i.partitionKey, i.sortKey])];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: attrs.map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' as const },
      { AttributeName: sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: all.map(([role, i]) => ({
      IndexName: indexes === 'slim' ? i.indexName : LEGACY_INDEX_NAMES[role],
      KeySchema: [
        { AttributeName: i.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: i.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: indexes === 'slim'
        ? { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...INDEX_PROJECTION] }
        : { ProjectionType: 'ALL' as const },
    })),
  };
}
