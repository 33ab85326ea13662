import { describe, it, expect, beforeAll, inject } from 'vitest';
import { CreateTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { TABLE_SCHEMA, LEGACY_INDEX_NAMES, createTableInput, dayPk, readableIndex, type IndexState } from '#shared/table';
import { main, type Io } from '../../lib/commands/calls.ts';
import { CallReader } from '../../lib/calls/reader.ts';
import { ddb } from '../support/storage.ts';
import { legacyAndSlimTables } from '../support/index-tables.ts';
import { configureHandlers, scenario, invoke, type Scenario } from './support.ts';

/**
 * The slim indexes (keys + source + callId) against the ALL-projection ones
 * they replace, on the real dynalite: the same stored calls, copied into a
 * table of each kind, give byte-identical `calls list` output (table and
 * --json, `calls show`; the inbox's list API in test/inbox/slim-index.test.ts);
 * and a query on a slim index really returns no transcript.
 */

let LEGACY: string;
let SLIM: string;
let s: Scenario;
/** The scenario's day, known only after beforeAll: a placeholder the cases swap for it. */
const DAY = '<day>';

function envFor(tableName: string): Record<string, string | undefined> {
  const { s3Endpoint, dynamoEndpoint } = inject('storage');
  return {
    BUCKET_NAME: process.env.BUCKET_NAME, TABLE_NAME: tableName, DEFAULT_PHONE_REGION: 'US',
    LOCAL_S3_PORT: new URL(s3Endpoint).port, LOCAL_DYNAMODB_PORT: new URL(dynamoEndpoint).port,
  };
}

async function run(tableName: string, ...argv: string[]): Promise<{ code: number; out: string; err?: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t) };
  const code = await main(argv, io, envFor(tableName));
  return { code, out: out.join('\n'), ...(code ? { err: err.join('\n') } : {}) };
}

beforeAll(async () => {
  configureHandlers();
  s = await scenario();
  for (const r of s.requests) expect((await invoke(r)).statusCode).toBe(200);
  const tables = await legacyAndSlimTables([['watsonx', s.watsonx.sessionId], ['volubile', s.volubile.callId], ['synthflow', s.synthflow.callId], ['engage-voice', s.engage.uii]]);
  expect(tables.items).toBe(6); // two watsonx recordings, two Engage Voice segments
  ({ legacy: LEGACY, slim: SLIM } = tables);
});

describe('a slim index holds no call content', () => {
  it('a query on ByDaySlim returns the keys, source and callId only: no record, no transcript', async () => {
    const query = (TableName: string, IndexName: string) => ddb.send(new QueryCommand({
      TableName, IndexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE_SCHEMA.indexes.byDay.partitionKey },
      ExpressionAttributeValues: { ':pk': dayPk(s.day) },
    }));
    const slim = (await query(SLIM, TABLE_SCHEMA.indexes.byDay.indexName)).Items ?? [];
    expect(slim).toHaveLength(6);
    for (const item of slim) {
      expect(Object.keys(item).sort()).toEqual(['GSI1PK', 'GSI1SK', 'PK', 'SK', 'callId', 'source']);
      expect(JSON.stringify(item)).not.toContain('transcript');
    }
    // The same query on the ALL index carries each item whole: the comparison can fail.
    const legacy = (await query(LEGACY, LEGACY_INDEX_NAMES.byDay)).Items ?? [];
    expect(legacy).toHaveLength(6);
    expect(legacy.some((i) => JSON.stringify(i).includes('"transcript"'))).toBe(true);
  });
});

describe('the same output from the slim indexes as from the ALL ones', () => {
  const cases: [string, string[]][] = [
    ['list --day (table)', ['list', '--day', DAY]],
    ['list --day --json', ['list', '--day', DAY, '--json']],
    ['list --day --json --reveal', ['list', '--day', DAY, '--json', '--reveal']],
    ['list --phone --json', ['list', '--phone', '+33612345678', '--json', '--reveal']],
    ['list --phone --day', ['list', '--phone', '(617) 555-0142', '--day', DAY]],
    ['list --source --json', ['list', '--day', DAY, '--source', 'engage-voice', '--json']],
    ['list (received window) --json', ['list', '--json']],
    ['list --limit 2 --json', ['list', '--limit', '2', '--json']],
  ];
  for (const [label, argv] of cases) {
    it(`calls ${label}`, async () => {
      const args = argv.map((a) => (a === DAY ? s.day : a));
      const before = await run(LEGACY, ...args);
      const after = await run(SLIM, ...args);
      expect(before.code).toBe(0);
      expect(before.out.length).toBeGreaterThan(20);
      expect(after).toEqual(before);
    });
  }

  it('calls show, for every source', async () => {
    for (const [source, id] of [['watsonx', s.watsonx.sessionId], ['engage-voice', s.engage.uii]] as const) {
      const before = await run(LEGACY, 'show', source, id, '--json');
      expect(before.code).toBe(0);
      expect(await run(SLIM, 'show', source, id, '--json')).toEqual(before);
    }
  });
});

describe('which index a reader queries', () => {
  const ACTIVE = 'ACTIVE';
  it('the slim index once ACTIVE and backfilled; the legacy one while the slim one builds; none when neither is complete', () => {
    const both: IndexState[] = [{ IndexName: 'ByDay', IndexStatus: ACTIVE }, { IndexName: 'ByDaySlim', IndexStatus: ACTIVE }];
    expect(readableIndex('byDay', both)).toBe('ByDaySlim');
    expect(readableIndex('byDay', [{ IndexName: 'ByDay', IndexStatus: ACTIVE }, { IndexName: 'ByDaySlim', IndexStatus: 'CREATING', Backfilling: true }])).toBe('ByDay');
    expect(readableIndex('byDay', [{ IndexName: 'ByDay', IndexStatus: ACTIVE }, { IndexName: 'ByDaySlim', IndexStatus: ACTIVE, Backfilling: true }])).toBe('ByDay');
    expect(readableIndex('byDay', [{ IndexName: 'ByDaySlim', IndexStatus: 'CREATING' }])).toBeUndefined();
    expect(readableIndex('byReceived', [{ IndexName: 'ByDay', IndexStatus: ACTIVE }])).toBeUndefined();
    expect(readableIndex('byPhone', [{ IndexName: 'ByPhone', IndexStatus: 'DELETING' }, { IndexName: 'ByPhoneSlim', IndexStatus: ACTIVE }])).toBe('ByPhoneSlim');
  });

  it('on dynalite: the slim names on a slim table, the legacy names on a table created before them', async () => {
    for (const [table, names] of [[SLIM, ['ByDaySlim', 'ByPhoneSlim', 'ByReceivedSlim']], [LEGACY, ['ByDay', 'ByPhone', 'ByReceived']]] as const) {
      const reader = new CallReader({ bucketName: process.env.BUCKET_NAME ?? '', tableName: table, ddb });
      expect([await reader.indexFor('byDay'), await reader.indexFor('byPhone'), await reader.indexFor('byReceived')]).toEqual(names);
    }
  });
});

describe('a table whose index for a listing is not complete', () => {
  it('refuses the listing and says which index to wait for, instead of listing from nothing; a table without the received-day index lists by start day and says so', async () => {
    const bare = `bare-${randomUUID()}`;
    const { GlobalSecondaryIndexes, AttributeDefinitions, ...keysOnly } = createTableInput(bare, 'legacy');
    const received = `no-received-${randomUUID()}`;
    const noReceived = { ...createTableInput(received, 'legacy'), GlobalSecondaryIndexes: GlobalSecondaryIndexes.slice(0, 2), AttributeDefinitions: AttributeDefinitions.slice(0, 6) };
    for (const input of [{ ...keysOnly, AttributeDefinitions: AttributeDefinitions.slice(0, 2) }, noReceived]) {
      await ddb.send(new CreateTableCommand(input));
      await waitUntilTableExists({ client: ddb, maxWaitTime: 60, minDelay: 0.05, maxDelay: 1 }, { TableName: input.TableName });
    }
    const refused = await run(bare, 'list', '--day', s.day);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/no readable ByDaySlim index \(nor ByDay\)/);
    const phone = await run(bare, 'list', '--phone', '+33612345678');
    expect(phone.err).toMatch(/no readable ByPhoneSlim index \(nor ByPhone\)/);

    const out: string[] = [];
    const err: string[] = [];
    expect(await main(['list'], { out: (t) => out.push(t), err: (t) => err.push(t) }, envFor(received))).toBe(0);
    expect(err.join('\n')).toMatch(/this table has no ByReceived index/);
  });
});
