import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { TTL_ATTRIBUTE } from '#shared/table';
import { readSettings } from '#shared/config';
import { buildApp } from '../../infra/app.ts';
import { readStackConfig } from '../../infra/config.ts';
import { WEBHOOK_FUNCTIONS } from '../../infra/functions.ts';

/**
 * Retention, Object Lock and least privilege for erasure, as synthesized
 * (docs/compliance.md). Synths skip bundling: only the template matters here.
 */

type Json = Record<string, unknown>;
interface Resource { Type: string; Properties?: Json }

function synth(context: Record<string, unknown>): { t: Template; resources: [string, Resource][]; outputs: Record<string, Json> } {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-compliance-')), context: { 'aws:cdk:bundling-stacks': [], alarmEmail: 'ops@example.com', ...context } });
  const t = Template.fromStack(buildApp(app).stack);
  const json = t.toJSON() as { Resources: Record<string, Resource>; Outputs: Record<string, Json> };
  return { t, resources: Object.entries(json.Resources), outputs: json.Outputs };
}

const ofType = (resources: [string, Resource][], type: string) => resources.filter(([, r]) => r.Type === type);
const rulesOf = (resources: [string, Resource][]) => {
  const [, bucket] = ofType(resources, 'AWS::S3::Bucket')[0]!;
  return ((bucket.Properties?.LifecycleConfiguration as Json).Rules as Json[]);
};
const functionEnvs = (resources: [string, Resource][]) =>
  ofType(resources, 'AWS::Lambda::Function')
    .filter(([id]) => WEBHOOK_FUNCTIONS.some((f) => id.startsWith(f.id)))
    .map(([, r]) => ((r.Properties?.Environment as Json | undefined)?.Variables ?? {}) as Json);

describe('retention is a choice a non-dev stage must make', () => {
  it('refuses to synthesize prod without retentionDays, naming the setting and both kinds of value', () => {
    expect(() => synth({ stage: 'prod' })).toThrow(/stage prod needs an explicit retention: set context retentionDays to a number of days .*or to forever/);
    expect(() => readStackConfig((k) => ({ stage: 'staging' } as Json)[k])).toThrow(/retentionDays/);
    expect(() => readStackConfig((k) => ({ stage: 'prod', retentionDays: 'a year' } as Json)[k])).toThrow(/retentionDays must be a whole number of days or forever, got "a year"/);
    expect(() => readStackConfig((k) => ({ stage: 'prod', retentionDays: 0 } as Json)[k])).toThrow(/retentionDays must be between 1/);
  });

  it('with retentionDays=365: raw/ and audio/ expire current versions at 365 days and what that leaves a day later, items get a TTL of 365 days', () => {
    const { t, resources, outputs } = synth({ stage: 'prod', retentionDays: 365 });
    const rules = rulesOf(resources);
    for (const prefix of ['raw/', 'audio/']) {
      expect(rules).toContainEqual(expect.objectContaining({
        Prefix: prefix, Status: 'Enabled', ExpirationInDays: 365, NoncurrentVersionExpiration: { NoncurrentDays: 1 },
        Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }],
      }));
    }
    // Nothing else expires: receipts/ (and any other prefix) only loses noncurrent versions and stale delete markers.
    const expiring = rules.filter((r) => 'ExpirationInDays' in r || 'ExpirationDate' in r);
    expect(expiring.map((r) => r.Prefix).sort()).toEqual(['audio/', 'raw/']);
    expect(rules.every((r) => typeof r.Prefix !== 'string' || !r.Prefix.startsWith('receipts'))).toBe(true);
    t.hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } });
    const envs = functionEnvs(resources);
    expect(envs).toHaveLength(WEBHOOK_FUNCTIONS.length);
    for (const env of envs) expect(env.RETENTION_DAYS).toBe('365');
    // The handlers read it as the same number the lifecycle uses.
    expect(readSettings({ BUCKET_NAME: 'b', TABLE_NAME: 't', RETENTION_DAYS: String(envs[0]!.RETENTION_DAYS) }).retentionDays).toBe(365);
    expect(outputs.RetentionDays).toMatchObject({ Value: '365' });
  });

  it('a retention shorter than the Standard-IA transition skips the transition; per-prefix days may only shorten it', () => {
    const short = rulesOf(synth({ stage: 'prod', retentionDays: 20 }).resources);
    for (const prefix of ['raw/', 'audio/']) {
      const rule = short.find((r) => r.Prefix === prefix)!;
      expect(rule).toMatchObject({ ExpirationInDays: 20, NoncurrentVersionExpiration: { NoncurrentDays: 1 } });
      expect(rule).not.toHaveProperty('Transitions');
    }
    const { resources } = synth({ stage: 'prod', retentionDays: 400, rawExpirationDays: 90 });
    const rules = rulesOf(resources);
    expect(rules.find((r) => r.Prefix === 'audio/')).toMatchObject({ ExpirationInDays: 400 });
    expect(rules.find((r) => r.Prefix === 'raw/')).toMatchObject({ ExpirationInDays: 90, Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }] });
    for (const env of functionEnvs(resources)) expect(env.RETENTION_DAYS).toBe('400');
    expect(() => synth({ stage: 'prod', retentionDays: 20, audioExpirationDays: 40 })).toThrow(/audioExpirationDays \(40\) may only shorten retentionDays \(20\)/);
  });

  it('retentionDays=forever: no expiration, no RETENTION_DAYS, the TTL attribute still declared (items simply carry none)', () => {
    const { t, resources, outputs } = synth({ stage: 'prod', retentionDays: 'forever' });
    expect(rulesOf(resources).filter((r) => 'ExpirationInDays' in r)).toEqual([]);
    for (const env of functionEnvs(resources)) expect(env).not.toHaveProperty('RETENTION_DAYS');
    t.hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } });
    expect(outputs.RetentionDays).toMatchObject({ Value: 'forever' });
  });

  it('Object Lock: enabled with its default retention, and never longer than the retention it would contradict', () => {
    const { t } = synth({ stage: 'prod', retentionDays: 400, objectLockDays: 30 });
    t.hasResourceProperties('AWS::S3::Bucket', {
      // The top-level ObjectLockEnabled would replace an existing bucket (docs/deploy.md, section 9).
      ObjectLockEnabled: Match.absent(),
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } } },
      VersioningConfiguration: { Status: 'Enabled' },
    });
    expect(() => synth({ stage: 'prod', retentionDays: 30, objectLockDays: 400 })).toThrow(/objectLockDays \(400\) keeps every object longer than retentionDays \(30\)/);
  });
});

describe('least privilege for erasure', () => {
  const { resources, outputs } = synth({ stage: 'prod', retentionDays: 365, objectLockDays: 30 });
  const statementsOf = (r: Resource) => ((r.Properties?.PolicyDocument as Json).Statement as Json[]);
  const actionsOf = (statements: Json[]) => statements.flatMap((s) => [s.Action].flat().map(String));

  it('the webhook functions have no delete, legal-hold or bypass right on anything', () => {
    const roleIds = ofType(resources, 'AWS::IAM::Role').map(([id]) => id).filter((id) => WEBHOOK_FUNCTIONS.some((f) => id.startsWith(`${f.id}Role`)));
    expect(roleIds).toHaveLength(WEBHOOK_FUNCTIONS.length);
    const attached = [...ofType(resources, 'AWS::IAM::Policy'), ...ofType(resources, 'AWS::IAM::ManagedPolicy')]
      .filter(([, p]) => roleIds.some((id) => JSON.stringify(p.Properties?.Roles ?? []).includes(`"Ref":"${id}"`)));
    expect(attached.length).toBeGreaterThanOrEqual(WEBHOOK_FUNCTIONS.length);
    const actions = actionsOf(attached.flatMap(([, p]) => statementsOf(p)));
    expect(actions).toContain('s3:PutObject');
    for (const a of actions) expect(a).not.toMatch(/Delete|LegalHold|Retention|Bypass|\*|UpdateItem|BatchWrite/);
  });

  it('no role the stack creates (the recordings worker and deploy-time helpers included) can delete or unlock data', () => {
    const inline = ofType(resources, 'AWS::IAM::Policy');
    expect(inline.length).toBeGreaterThan(WEBHOOK_FUNCTIONS.length);
    const dataActions = actionsOf(inline.flatMap(([, p]) => statementsOf(p))).filter((a) => /^(s3|dynamodb):/.test(a));
    expect(dataActions).toContain('dynamodb:PutItem');
    for (const a of dataActions) expect(a).not.toMatch(/Delete|LegalHold|Retention|Bypass|\*|BatchWrite/);
  });

  it('one managed erasure-operator policy, attached to nobody by the stack: delete only under raw/ and audio/, receipts written, bypass denied', () => {
    const managed = ofType(resources, 'AWS::IAM::ManagedPolicy');
    expect(managed).toHaveLength(1);
    const [id, policy] = managed[0]!;
    expect(policy.Properties).not.toHaveProperty('Roles');
    expect(policy.Properties).not.toHaveProperty('Users');
    const statements = statementsOf(policy);
    const bySid = new Map(statements.map((s) => [s.Sid, s]));
    const erase = bySid.get('EraseAndHoldCallObjects')!;
    expect([erase.Action].flat().sort()).toEqual(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:GetObjectLegalHold', 's3:GetObjectRetention', 's3:PutObjectLegalHold']);
    expect(JSON.stringify(erase.Resource)).toMatch(/\/raw\/\*/);
    expect(JSON.stringify(erase.Resource)).toMatch(/\/audio\/\*/);
    expect(JSON.stringify(erase.Resource)).not.toMatch(/receipts/);
    const allows = statements.filter((s) => s.Effect === 'Allow');
    const deleting = allows.filter((s) => actionsOf([s]).some((a) => a.includes('Delete')));
    expect(deleting.map((s) => s.Sid).sort()).toEqual(['EraseAndHoldCallObjects', 'IndexItems']);
    expect(bySid.get('WriteReceipts')).toMatchObject({ Action: 's3:PutObject' });
    expect(JSON.stringify(bySid.get('WriteReceipts')!.Resource)).toMatch(/\/receipts\/\*/);
    expect(bySid.get('NeverBypassObjectLock')).toMatchObject({ Effect: 'Deny', Action: 's3:BypassGovernanceRetention' });
    expect(actionsOf(allows)).not.toContain('s3:BypassGovernanceRetention');
    expect(actionsOf(allows).some((a) => a.endsWith('*'))).toBe(false);
    expect(outputs.ErasureOperatorPolicyArn).toMatchObject({ Value: { Ref: id } });
  });

  it('the receipt key is readable by the operator policy only, not by any function', () => {
    const [keyId] = ofType(resources, 'AWS::SecretsManager::Secret').find(([i]) => i.includes('ReceiptKey'))!;
    const readers = [...ofType(resources, 'AWS::IAM::Policy'), ...ofType(resources, 'AWS::IAM::ManagedPolicy')]
      .filter(([, p]) => JSON.stringify(p.Properties?.PolicyDocument).includes(`"Ref":"${keyId}"`));
    expect(readers.map(([, p]) => p.Type)).toEqual(['AWS::IAM::ManagedPolicy']);
    expect(outputs.ReceiptKeySecretArn).toMatchObject({ Value: { Ref: keyId } });
  });
});

describe('Object Lock template shape', () => {
  it('without objectLockDays, no Object Lock (holds then live in the index only, docs/compliance.md)', () => {
    const { resources } = synth({ stage: 'prod', retentionDays: 365 });
    const [, bucket] = ofType(resources, 'AWS::S3::Bucket')[0]!;
    expect(bucket.Properties).not.toHaveProperty('ObjectLockEnabled');
    expect(bucket.Properties).not.toHaveProperty('ObjectLockConfiguration');
  });

  it('COMPLIANCE mode is carried as given', () => {
    const { t } = synth({ stage: 'prod', retentionDays: 365, objectLockDays: 365, objectLockMode: 'COMPLIANCE' });
    t.hasResourceProperties('AWS::S3::Bucket', { ObjectLockConfiguration: { Rule: { DefaultRetention: Match.objectLike({ Mode: 'COMPLIANCE', Days: 365 }) } } });
  });
});
