import { randomUUID } from 'node:crypto';
import { CreateTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createTableInput } from '#shared/table';
import { ddb, getItems } from './storage.ts';

/**
 * Two tables on the shared dynalite holding the very items the handlers stored
 * for some calls: one with the ALL-projection indexes of tables created before
 * the slim ones (`legacy`), one with the slim indexes. Read through both, the
 * product must answer the same.
 */
export async function legacyAndSlimTables(calls: readonly (readonly [source: string, callId: string])[]): Promise<{ legacy: string; slim: string; items: number }> {
  const legacy = `legacy-${randomUUID()}`;
  const slim = `slim-${randomUUID()}`;
  for (const [name, kind] of [[legacy, 'legacy'], [slim, 'slim']] as const) {
    await ddb.send(new CreateTableCommand(createTableInput(name, kind)));
    await waitUntilTableExists({ client: ddb, maxWaitTime: 60, minDelay: 0.05, maxDelay: 1 }, { TableName: name });
  }
  const items = (await Promise.all(calls.map(([source, id]) => getItems(source, id)))).flat();
  for (const TableName of [legacy, slim]) for (const Item of items) await ddb.send(new PutCommand({ TableName, Item }));
  return { legacy, slim, items: items.length };
}
