import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app.ts';
import { PINNED_LOGICAL_IDS } from '../../infra/stack.ts';
import { LAST_INDEX_MIGRATION_STEP } from '../../infra/table-indexes.ts';

/**
 * The GSIs of the table at each step of `-c indexMigration=N` (docs/deploy.md,
 * "Index costs"), as synthesized: CloudFormation changes no GSI's projection in
 * place and adds or drops only one GSI per update, so each step may differ from
 * the one before by one creation or one deletion, and never redefine an index
 * that stays. Synths skip bundling: only the template matters here.
 */

type Json = Record<string, unknown>;
interface Gsi { IndexName: string; KeySchema: Json[]; Projection: Json }

const KEYS = {
  ByDay: ['GSI1PK', 'GSI1SK'], ByPhone: ['GSI2PK', 'GSI2SK'], ByReceived: ['GSI3PK', 'GSI3SK'],
  ByDaySlim: ['GSI1PK', 'GSI1SK'], ByPhoneSlim: ['GSI2PK', 'GSI2SK'], ByReceivedSlim: ['GSI3PK', 'GSI3SK'],
} as const;
const ALL = { ProjectionType: 'ALL' };
const SLIM = { ProjectionType: 'INCLUDE', NonKeyAttributes: ['source', 'callId'] };

function table(context: Record<string, unknown>): { t: Template; props: Json } {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-gsi-')), context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const t = Template.fromStack(buildApp(app).stack);
  const resources = (t.toJSON() as { Resources: Record<string, { Type: string; Properties: Json }> }).Resources;
  const props = resources[PINNED_LOGICAL_IDS.table]?.Properties;
  if (!props) throw new Error('no table under its pinned logical id');
  return { t, props };
}

const gsis = (props: Json) => props.GlobalSecondaryIndexes as Gsi[];
const byName = (list: Gsi[]) => new Map(list.map((g) => [g.IndexName, g]));
const expected = (name: keyof typeof KEYS, projection: Json): Gsi => ({
  IndexName: name,
  KeySchema: [{ AttributeName: KEYS[name][0], KeyType: 'HASH' }, { AttributeName: KEYS[name][1], KeyType: 'RANGE' }],
  Projection: projection,
});

const steps = [...Array.from({ length: LAST_INDEX_MIGRATION_STEP + 1 }, (_, i) => ({ label: `indexMigration=${i}`, context: { indexMigration: i } as Json })), { label: 'no context', context: {} }];
const synthesized = steps.map((s) => ({ ...s, props: table(s.context).props }));

describe('moving a deployed table to the slim indexes, one GSI per deploy', () => {
  it('step 0 is the table as deployed before the slim indexes: ByDay, ByPhone, ByReceived projecting ALL', () => {
    expect(gsis(synthesized[0]!.props)).toEqual([expected('ByDay', ALL), expected('ByPhone', ALL), expected('ByReceived', ALL)]);
  });

  it('each step differs from the one before by exactly one GSI created or deleted, and redefines none that stays', () => {
    for (let i = 1; i < synthesized.length; i++) {
      const before = byName(gsis(synthesized[i - 1]!.props));
      const after = byName(gsis(synthesized[i]!.props));
      const created = [...after.keys()].filter((n) => !before.has(n));
      const deleted = [...before.keys()].filter((n) => !after.has(n));
      expect(created.length + deleted.length, `${synthesized[i - 1]!.label} → ${synthesized[i]!.label}: created ${created.join()} deleted ${deleted.join()}`).toBe(1);
      for (const [name, g] of after) if (before.has(name)) expect(g, `${name} in ${synthesized[i]!.label}`).toEqual(before.get(name));
      // Nothing else of the table moves in an index step (CloudFormation's advice for GSI updates).
      const rest = (p: Json) => JSON.stringify({ ...p, GlobalSecondaryIndexes: undefined });
      expect(rest(synthesized[i]!.props)).toBe(rest(synthesized[i - 1]!.props));
    }
  });

  it('builds every slim index before dropping any ALL one, so a reader always has a complete index per role', () => {
    const names = synthesized.map((s) => gsis(s.props).map((g) => g.IndexName));
    for (const list of names) {
      for (const [legacy, slim] of [['ByDay', 'ByDaySlim'], ['ByPhone', 'ByPhoneSlim'], ['ByReceived', 'ByReceivedSlim']]) {
        expect(list.includes(legacy!) || list.includes(slim!), list.join()).toBe(true);
      }
    }
    expect(names[3]).toEqual(['ByDay', 'ByDaySlim', 'ByPhone', 'ByPhoneSlim', 'ByReceived', 'ByReceivedSlim']);
  });

  it('the final step, which is also a new stack without context, has only the slim indexes', () => {
    const last = synthesized.at(-1)!;
    expect(last.label).toBe('no context');
    expect(gsis(last.props)).toEqual([expected('ByDaySlim', SLIM), expected('ByPhoneSlim', SLIM), expected('ByReceivedSlim', SLIM)]);
    expect(last.props.AttributeDefinitions).toEqual(['PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'GSI3PK', 'GSI3SK'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })));
  });

  it('refuses a step that does not exist, naming the setting', () => {
    expect(() => table({ indexMigration: LAST_INDEX_MIGRATION_STEP + 1 })).toThrow(/indexMigration must be between 0 and 5, got 6/);
    expect(() => table({ indexMigration: 'two' })).toThrow(/indexMigration must be a whole number/);
  });
});

describe('the erasure operator during and after the migration', () => {
  it('may describe the table and query both phone indexes, so `calls forget --phone` works at every step', () => {
    const { t } = table({ indexMigration: 4 });
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'IndexItems',
          Action: Match.arrayWith(['dynamodb:Query', 'dynamodb:DescribeTable']),
          Resource: Match.arrayWith([
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [PINNED_LOGICAL_IDS.table, 'Arn'] }, '/index/ByPhoneSlim']] },
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [PINNED_LOGICAL_IDS.table, 'Arn'] }, '/index/ByPhone']] },
          ]),
        })]),
      },
    });
  });
});
