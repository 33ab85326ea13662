/**
 * The single-table key schema: one source of truth for the CDK stack, the local
 * DynamoDB server, the handlers and the read-back tools.
 *
 * Items (one per natural key):
 *   PK = CALL#<source>#<callId>
 *   SK = CALL                      Volubile and Synthflow calls
 *        REC#<recording_id>        a watsonx recording of a session
 *        SEG#<segment id>          an Engage Voice agent segment
 * Indexes:
 *   ByDay    GSI1PK = DAY#<yyyy-mm-dd> (UTC day the call started), GSI1SK = <startedAt>#<source>#<callId>#<SK>
 *   ByPhone  GSI2PK = PHONE#<customer E.164>,                     GSI2SK = same as GSI1SK
 *   ByReceived GSI3PK = RECEIVED#<yyyy-mm-dd> (UTC day of the delivery), GSI3SK = <receivedAt>#<source>#<callId>#<SK>
 *            (so a call delivered today is listed even when it started long ago)
 */

export const TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  indexes: {
    byDay: { indexName: 'ByDay', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    byPhone: { indexName: 'ByPhone', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
    byReceived: { indexName: 'ByReceived', partitionKey: 'GSI3PK', sortKey: 'GSI3SK' },
  },
} as const;

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

/** The same table, as a CreateTable input (used by local mode and tests). */
export function createTableInput(tableName: string) {
  const { partitionKey, sortKey, indexes } = TABLE_SCHEMA;
  const attrs = [partitionKey, sortKey, ...Object.values(indexes).flatMap((i) => [i.partitionKey, i.sortKey])];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: attrs.map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' as const },
      { AttributeName: sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: Object.values(indexes).map((i) => ({
      IndexName: i.indexName,
      KeySchema: [
        { AttributeName: i.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: i.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}
