import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ensureBucketAndTable } from '../../lib/embedded.ts';
import { ddb, listKeys } from '../support/storage.ts';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { TABLE_SCHEMA } from '#shared/table';
import { SECRET_NAMES } from '#shared/config';
import { declarationOf, SOURCES } from '#shared/sources';
import { buildApp, nagPacks } from '../../infra/app.ts';
import { ACCESS_LOG_FIELDS, PINNED_LOGICAL_IDS, type WebhooksStack } from '../../infra/stack.ts';
import { FILLER_SERVICE_TIMEOUT, FILLER_TIMEOUT, FROZEN_SECRET_TEMPLATE, secretKeyList } from '../../infra/secret.ts';
import { keyListHash, type KeyList } from '../../infra/secret-filler/fill.ts';
import { BUNDLE_FILE, REPO_ROOT, WEBHOOK_FUNCTIONS } from '../../infra/functions.ts';
import { NEAR_LIMIT } from '../../infra/observability.ts';
import { SERVICE_NAME } from '#shared/log';
import { writeEvents } from '../../lib/sam-events.ts';

/**
 * Fine-grained assertions on the synthesized stack. One real synth (with
 * bundling, asset metadata and no staging, as `npx cdk synth --no-staging`
 * does for sam local invoke) per file; variants skip bundling.
 */

type Json = Record<string, unknown>;
let stack: WebhooksStack;
let template: Template;
let raw: { Resources: Record<string, { Type: string; Properties?: Json; Metadata?: Json; DeletionPolicy?: string }> ; Outputs: Record<string, Json> };

function synthVariant(context: Record<string, unknown>, secretKeys?: KeyList): Template & { stack: WebhooksStack } {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-variant-')), context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const variant = buildApp(app, secretKeys).stack;
  return Object.assign(Template.fromStack(variant), { stack: variant });
}

function resourcesOfType(type: string) {
  return Object.entries(raw.Resources).filter(([, r]) => r.Type === type);
}

beforeAll(() => {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:disable-asset-staging': true } });
  stack = buildApp(app).stack;
  template = Template.fromStack(stack);
  raw = template.toJSON() as typeof raw;
  // Five bundles (the recordings worker included) on a shared machine.
}, 240_000);

describe('HTTP API', () => {
  it('has exactly one route per source, as ANY routes', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP', Name: 'VoiceWebhooks-dev' });
    const keys = resourcesOfType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties?.RouteKey).sort();
    expect(keys).toEqual(['ANY /audio-webhook', 'ANY /call-completed/synthflow', 'ANY /call-completed/vapi', 'ANY /call-completed/volubile', 'ANY /engage-voice']);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
  });

  it('throttles the stage and writes access logs with route and status but no query string or headers', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] }, Format: Match.anyValue() },
    });
    const [, stage] = resourcesOfType('AWS::ApiGatewayV2::Stage')[0]!;
    const format = JSON.parse(String((stage.Properties?.AccessLogSettings as Json).Format)) as Record<string, string>;
    expect(format).toEqual(ACCESS_LOG_FIELDS);
    expect(format.routeKey).toBe('$context.routeKey');
    expect(format.status).toBe('$context.status');
    const all = Object.values(format).join(' ');
    expect(all).not.toMatch(/querystring|header|\$context\.path|requestOverride|authorizer/i);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });
});

describe('webhook functions', () => {
  it.each(WEBHOOK_FUNCTIONS.map((s) => [s.name, s] as const))('%s: Node 24 on arm64, sized, environment with names only', (_name, spec) => {
    const fn = raw.Resources[`${spec.id}Function`];
    expect(fn?.Type).toBe('AWS::Lambda::Function');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: spec.memoryMb,
      Timeout: spec.timeoutSeconds,
      // Lambda's advanced logging controls: JSON, the level Powertools' Logger obeys (AWS_LAMBDA_LOG_LEVEL).
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp(`^${spec.id}Logs`) }, LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO' },
      Environment: {
        Variables: {
          POWERTOOLS_LOG_LEVEL: 'INFO',
          SECRET_REFRESH_SECONDS: '300',
          SECRET_MAX_STALE_SECONDS: '3600',
          BUCKET_NAME: { Ref: Match.stringLikeRegexp('^Bucket') },
          TABLE_NAME: { Ref: Match.stringLikeRegexp('^Table') },
          SECRET_ARN: { Ref: Match.stringLikeRegexp('^WebhookSecret') },
          ENGAGE_VOICE_TIMEZONE: 'UTC',
          DEFAULT_PHONE_REGION: 'US',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
    const vars = Object.keys(((fn?.Properties?.Environment as Json).Variables as Json));
    for (const name of SECRET_NAMES) expect(vars).not.toContain(name);
    expect(spec.timeoutSeconds).toBeLessThan(30);
  });

  it('takes the log level from context logLevel, for every function and the recordings worker', () => {
    const debug = synthVariant({ logLevel: 'debug' });
    const all = debug.findResources('AWS::Lambda::Function');
    const fns = [...WEBHOOK_FUNCTIONS.map((f) => `${f.id}Function`), 'RecordingsWorkerFunction'].map((id) => all[id]);
    for (const fn of fns as { Properties: { LoggingConfig: Json; Environment: { Variables: Json } } }[]) {
      expect(fn.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'DEBUG' });
      expect(fn.Properties.Environment.Variables.POWERTOOLS_LOG_LEVEL).toBe('DEBUG');
    }
    expect(() => synthVariant({ logLevel: 'verbose' })).toThrow(/context logLevel must be one of DEBUG, INFO, WARN, ERROR/);
  });

  it('gives watsonx room inside its 1-30 s window and every function a log group with retention', () => {
    const audio = WEBHOOK_FUNCTIONS.find((s) => s.name === 'audio-webhook')!;
    expect(audio.timeoutSeconds).toBeLessThanOrEqual(25);
    for (const spec of WEBHOOK_FUNCTIONS) {
      const [, lg] = Object.entries(raw.Resources).find(([id, r]) => id.startsWith(`${spec.id}Logs`) && r.Type === 'AWS::Logs::LogGroup')!;
      expect(lg.Properties?.RetentionInDays).toBe(90);
    }
  });

  it('carries aws:asset:path / aws:asset:property metadata to an ESM bundle for sam local invoke', () => {
    for (const spec of WEBHOOK_FUNCTIONS) {
      const meta = raw.Resources[`${spec.id}Function`]?.Metadata ?? {};
      expect(meta['aws:asset:property']).toBe('Code');
      const assetPath = String(meta['aws:asset:path']);
      expect(existsSync(join(assetPath, BUNDLE_FILE))).toBe(true);
      expect(existsSync(join(assetPath, `${BUNDLE_FILE}.map`))).toBe(true);
      const code = readFileSync(join(assetPath, BUNDLE_FILE), 'utf8');
      expect(code.startsWith("import { createRequire as __cr } from 'node:module';")).toBe(true);
      const size = statSync(join(assetPath, BUNDLE_FILE)).size;
      console.log(`bundle ${spec.name}: ${size} bytes, ${gzipSync(code).byteLength} gzip`);
      expect(size).toBeLessThan(1_500_000);
    }
  });
});

describe('data', () => {
  it('keeps the bucket private, encrypted, versioned, TLS-only, retained, with lifecycle', () => {
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': ['DataKey', 'Arn'] } } }] },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ Prefix: 'audio/', Status: 'Enabled', Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }] }),
            Match.objectLike({ Prefix: 'raw/', Status: 'Enabled', Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }] }),
            Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 90 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }),
          ]),
        },
      },
    });
    const [, bucket] = resourcesOfType('AWS::S3::Bucket')[0]!;
    expect(bucket.Properties).not.toHaveProperty('BucketName');
    expect(bucket.Properties).not.toHaveProperty('ObjectLockEnabled');
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('builds the table from TABLE_SCHEMA: on-demand, PITR, deletion protection, retained', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    const { partitionKey, sortKey, indexes } = TABLE_SCHEMA;
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }, { AttributeName: sortKey, KeyType: 'RANGE' }],
        // Slim: the keys plus what a listing reads, never the transcripts (docs/deploy.md, "Index costs").
        GlobalSecondaryIndexes: Object.values(indexes).map((i) => ({
          IndexName: i.indexName,
          KeySchema: [{ AttributeName: i.partitionKey, KeyType: 'HASH' }, { AttributeName: i.sortKey, KeyType: 'RANGE' }],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['source', 'callId'] },
        })),
      },
    });
    const [, table] = resourcesOfType('AWS::DynamoDB::Table')[0]!;
    expect(table.Properties).not.toHaveProperty('TableName');
  });

  it('adds Object Lock, expirations and other lifecycle days from context', () => {
    const t = synthVariant({ objectLockDays: 400, objectLockMode: 'COMPLIANCE', audioExpirationDays: 365, rawTransitionDays: 60, noncurrentVersionExpirationDays: 7 });
    t.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: Match.absent(),
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 400 } } },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'audio/', ExpirationInDays: 365 }),
          Match.objectLike({ Prefix: 'raw/', Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 60 }] }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 7 } }),
        ]),
      },
    });
  });
});

describe('secret', () => {
  const secretOf = (t: Template) => Object.entries(t.toJSON().Resources as Record<string, { Type: string; Properties: Json }>)
    .filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret');
  const fillerOf = (t: Template) => Object.values(t.toJSON().Resources as Record<string, { Type: string; Properties: Json }>)
    .filter((r) => r.Type === 'Custom::WebhookSecretFiller');

  it('is one JSON secret whose template is the frozen first-release template, the watsonx secret generated by CloudFormation', () => {
    // The other secret is the erasure receipt key (test/infra/compliance.test.ts).
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: {
        KmsKeyId: { 'Fn::GetAtt': ['DataKey', 'Arn'] },
        GenerateSecretString: { GenerateStringKey: 'WATSONX_AUDIO_SECRET', ExcludePunctuation: true, PasswordLength: 48, SecretStringTemplate: FROZEN_SECRET_TEMPLATE },
      },
    });
    expect(Object.keys(JSON.parse(FROZEN_SECRET_TEMPLATE) as Json)).toEqual([
      'VOLUBILE_WEBHOOK_SECRET', 'VOLUBILE_WEBHOOK_TOKEN', 'SYNTHFLOW_WEBHOOK_SECRET', 'SYNTHFLOW_WEBHOOK_TOKEN', 'ENGAGE_VOICE_TOKEN', 'ENGAGE_VOICE_BASIC_AUTH',
    ]);
  });

  it('keeps the secret resource identical under a changed key list, while the filler is told the new list and its hash', () => {
    const changed = synthVariant({}, { generated: [...secretKeyList().generated, 'VAPI_WEBHOOK_TOKEN'], empty: [...secretKeyList().empty, 'NEWVENDOR_WEBHOOK_SECRET'] });
    const [before] = secretOf(template);
    const [after] = secretOf(changed);
    expect(after).toEqual(before);
    expect(after?.[0]).toBe(PINNED_LOGICAL_IDS.secret);
    const [fillBefore] = fillerOf(template);
    const [fillAfter] = fillerOf(changed);
    expect(fillAfter?.Properties.KeyListHash).not.toBe(fillBefore?.Properties.KeyListHash);
    expect(fillAfter?.Properties.GeneratedKeys).toContain('VAPI_WEBHOOK_TOKEN');
    expect(fillAfter?.Properties.EmptyKeys).toContain('NEWVENDOR_WEBHOOK_SECRET');
    expect(fillBefore?.Properties.KeyListHash).toBe(keyListHash(secretKeyList()));
    expect([...(fillBefore?.Properties.GeneratedKeys as string[]), ...(fillBefore?.Properties.EmptyKeys as string[])].sort()).toEqual([...SECRET_NAMES].sort());
  });

  it('fills the other keys with a custom resource bounded to minutes, allowed only to read and put that secret\'s value', () => {
    template.resourceCountIs('Custom::WebhookSecretFiller', 1);
    template.hasResourceProperties('Custom::WebhookSecretFiller', {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WebhookSecretFiller'), 'Arn'] },
      ServiceTimeout: String(FILLER_SERVICE_TIMEOUT.toSeconds()),
      SecretArn: { Ref: PINNED_LOGICAL_IDS.secret },
    });
    expect(FILLER_SERVICE_TIMEOUT.toSeconds()).toBeLessThanOrEqual(600);
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Deploy-time'), Timeout: FILLER_TIMEOUT.toSeconds() });
    const statements = resourcesOfType('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties?.Roles).includes('"Ref":"WebhookSecretFillerRole'))
      .flatMap(([, p]) => ((p.Properties?.PolicyDocument as Json).Statement as Json[]));
    const actions = statements.flatMap((st) => [st.Action].flat()).map(String).sort();
    expect(actions).toEqual(['kms:Decrypt', 'kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']);
    const sm = statements.find((st) => JSON.stringify(st.Action).includes('secretsmanager'))!;
    expect(sm.Resource).toEqual({ Ref: PINNED_LOGICAL_IDS.secret });
  });
});

describe('stateful resources', () => {
  it('keep pinned logical ids, whatever their place in the construct tree', () => {
    const types = { bucket: 'AWS::S3::Bucket', table: 'AWS::DynamoDB::Table', secret: 'AWS::SecretsManager::Secret', key: 'AWS::KMS::Key' } as const;
    for (const [what, type] of Object.entries(types)) {
      expect(raw.Resources[PINNED_LOGICAL_IDS[what as keyof typeof types]]?.Type, what).toBe(type);
      // Secrets: the webhook secret and the erasure receipt key.
      expect(resourcesOfType(type)).toHaveLength(what === 'secret' ? 2 : 1);
    }
    // The ids deployed stacks already have: changing one would replace the resource and orphan its data.
    expect(PINNED_LOGICAL_IDS).toEqual({ bucket: 'Bucket83908E77', table: 'TableCD117FA1', secret: 'WebhookSecretF21E29CC', key: 'DataKey' });
    expect(stack.webhookSecret.secret.node.path).toBe('VoiceWebhooks-dev/WebhookSecret/Secret');
  });

  it('encrypt with one retained customer managed key that rotates: bucket (S3 Bucket Key), table, secret, logs', () => {
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', Properties: { EnableKeyRotation: true } });
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': ['DataKey', 'Arn'] } } });
    for (const [id, lg] of resourcesOfType('AWS::Logs::LogGroup')) expect(lg.Properties?.KmsKeyId, id).toEqual({ 'Fn::GetAtt': ['DataKey', 'Arn'] });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } })]) },
    });
  });
});

describe('least privilege', () => {
  const policyFor = (roleIdPrefix: string) => {
    const policies = resourcesOfType('AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Properties?.Roles).includes(`"Ref":"${roleIdPrefix}`));
    return policies.flatMap(([, p]) => ((p.Properties?.PolicyDocument as Json).Statement as Json[]));
  };

  it.each(WEBHOOK_FUNCTIONS.map((s) => [s.name, s] as const))('%s: PutObject under its own prefixes, PutItem/GetItem, read the secret, write its logs', (_n, spec) => {
    const statements = policyFor(`${spec.id}Role`);
    const actions = statements.flatMap((s) => [s.Action].flat()).map(String).sort();
    // The sources with linked recordings also queue them (infra/recordings.ts).
    const queues = spec.name === 'audio-webhook' ? [] : ['sqs:SendMessage'];
    expect([...new Set(actions)]).toEqual([
      'dynamodb:GetItem', 'dynamodb:PutItem', 'kms:Decrypt', 'kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents',
      's3:PutObject', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', ...queues,
    ]);
    // The key only through the services that use it on the function's behalf.
    for (const st of statements.filter((x) => String(x.Action).startsWith('kms:'))) {
      expect(JSON.stringify(st.Condition)).toContain('kms:ViaService');
      expect(st.Resource).toEqual({ 'Fn::GetAtt': ['DataKey', 'Arn'] });
    }
    const gen = statements.find((x) => x.Action === 'kms:GenerateDataKey')!;
    expect(JSON.stringify(gen.Condition)).toMatch(/"s3\./);
    expect(actions.some((a) => a.includes('*'))).toBe(false);
    const s3 = statements.find((s) => s.Action === 's3:PutObject')!;
    const prefixes = [s3.Resource].flat().map((r) => JSON.stringify(r).match(/\/([a-z-]+\/[a-z-]+\/\*)"/)?.[1]);
    expect(prefixes.sort()).toEqual([...spec.writePrefixes].sort());
    const ddb = statements.find((s) => JSON.stringify(s.Action).includes('dynamodb'))!;
    expect(ddb.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Table/), 'Arn'] });
    const [, role] = Object.entries(raw.Resources).find(([id, r]) => id.startsWith(`${spec.id}Role`) && r.Type === 'AWS::IAM::Role')!;
    expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
  });

  it('call-completed may write the Vapi archive (without it S3 refuses the write in AWS and Vapi, which never retries, loses the report)', () => {
    const s3 = policyFor('CallCompletedRole').find((s) => s.Action === 's3:PutObject')!;
    const resources = JSON.stringify(s3.Resource);
    expect(resources).toContain('/raw/vapi/*');
    expect(resources).toContain('/raw/synthflow/*');
  });
});

describe('operations', () => {
  it('alarms per function on errors, throttles and duration near its timeout, on account concurrency near the quota', () => {
    for (const spec of WEBHOOK_FUNCTIONS) {
      const fnDims = [{ Name: 'FunctionName', Value: { Ref: `${spec.id}Function` } }];
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda', Dimensions: fnDims, Threshold: 1 });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttles', Namespace: 'AWS/Lambda', Dimensions: fnDims });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Duration', Namespace: 'AWS/Lambda', Dimensions: fnDims, Statistic: 'Maximum', Threshold: spec.timeoutSeconds * 1000 * NEAR_LIMIT,
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'RecordingsWorkerFunction' } }], Statistic: 'Maximum' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ConcurrentExecutions', Namespace: 'AWS/Lambda', Dimensions: Match.absent(), Statistic: 'Maximum', Threshold: 800 });
    // dev reserves nothing, so no per-function concurrency alarm (prod: below).
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'ConcurrentExecutions', Dimensions: Match.anyValue() }, 0);
  });

  it('alarms per route on 429s, 4xx surges and p99 integration latency', () => {
    const apiId = { Ref: Match.stringLikeRegexp('^Api') };
    for (const spec of WEBHOOK_FUNCTIONS) {
      for (const path of spec.paths) {
        const routeDims = Match.arrayWith([{ Name: 'ApiId', Value: apiId }, { Name: 'Method', Value: 'ANY' }, { Name: 'Resource', Value: path }, { Name: 'Stage', Value: '$default' }]);
        template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '4xx', Namespace: 'AWS/ApiGateway', Dimensions: routeDims, Statistic: 'Sum', Threshold: 50 });
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: 'IntegrationLatency', Namespace: 'AWS/ApiGateway', Dimensions: routeDims, ExtendedStatistic: 'p99', Threshold: 3000, EvaluationPeriods: 3,
        });
        template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttled', Namespace: 'VoiceWebhooks', Dimensions: [{ Name: 'Route', Value: `ANY ${path}` }], Threshold: 5 });
      }
    }
    // HTTP APIs publish no 429 metric: one filter on the access log's structured status, dimensioned by route.
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: Match.stringLikeRegexp('^ApiAccessLogs') },
      FilterPattern: '{ $.status = "429" }',
      MetricTransformations: [{ MetricNamespace: 'VoiceWebhooks', MetricName: 'Throttled', MetricValue: '1', Dimensions: [{ Key: 'Route', Value: '$.routeKey' }] }],
    });
    const t = synthVariant({ clientErrorAlarmThreshold: 7, throttledAlarmThreshold: 2, latencyAlarmMs: 1500 });
    t.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: '4xx', Threshold: 7 }, SOURCES.length);
    t.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'Throttled', Threshold: 2 }, SOURCES.length);
    t.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'IntegrationLatency', Threshold: 1500 }, SOURCES.length);
  });

  it('alarms on the functions\' EMF counts, service-wide (auth failures, index write failures, unqueued recordings, unhandled errors), never on log message filters', () => {
    const service = [{ Name: 'service', Value: SERVICE_NAME }];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'AuthFailed', Namespace: 'VoiceWebhooks', Dimensions: service, Statistic: 'Sum', Period: 300, Threshold: 20 });
    for (const name of ['IndexWriteFailed', 'RecordingEnqueueFailed', 'Error', 'RecordingFailed']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: name, Namespace: 'VoiceWebhooks', Dimensions: service, Threshold: 1 });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '5xx', Namespace: 'AWS/ApiGateway' });
    // The only metric filter is the access log's 429 count.
    const filters = resourcesOfType('AWS::Logs::MetricFilter');
    expect(filters.map(([, f]) => f.Properties?.FilterPattern)).toEqual(['{ $.status = "429" }']);
    // 3 functions x 3, one route per source x 3, 5xx, account concurrency, 4 EMF counts, recordings 4 + worker duration.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 9 + SOURCES.length * 3 + 1 + 1 + 4 + 5);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    for (const [id, a] of resourcesOfType('AWS::CloudWatch::Alarm')) expect(a.Properties?.AlarmActions, id).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': ['DataKey', 'Arn'] } });
  });

  it('has a dashboard with a row per source: deliveries by outcome, rejections by reason, latency, recordings', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const [, dash] = resourcesOfType('AWS::CloudWatch::Dashboard')[0]!;
    const body = JSON.stringify(dash.Properties?.DashboardBody);
    for (const source of SOURCES) {
      for (const title of ['deliveries', 'rejected by reason', 'handler latency (ms)', 'recordings']) expect(body).toContain(`${source}: ${title}`);
      expect(body).toMatch(new RegExp(`SEARCH\\('\\{VoiceWebhooks,Reason,Source,service\\} MetricName=\\W+Rejected\\W+ Source=\\W+${source}\\W`));
    }
    for (const metric of ['Accepted', 'Duplicate', 'Stale', 'IndexWriteFailed', 'Unavailable', 'Latency', 'RecordingArchived', 'RecordingFailed']) expect(body).toContain(metric);
    for (const title of ['API 4xx / 5xx / 429 per route', 'API integration latency p99 (ms)', 'Function duration p99 (ms)', 'Concurrent executions', 'Recordings queue']) expect(body).toContain(title);
  });

  it('sends alarms to an e-mail subscription only when alarmEmail is set', () => {
    const t = synthVariant({ alarmEmail: 'ops@example.com', authFailureAlarmThreshold: 5 });
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'AuthFailed', Threshold: 5, AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }] });
    for (const pack of nagPacks(t.stack)) expect(pack.validateScope(t.stack).violations).toEqual([]);
    t.hasResourceProperties('AWS::SNS::TopicPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } });
  });

  it('refuses to synthesize a stage other than dev without an alarm target, and sends to an existing topic when given one', () => {
    expect(() => synthVariant({ stage: 'prod', retentionDays: 365 })).toThrow(/stage prod needs somewhere to send its alarms: set context alarmEmail/);
    const t = synthVariant({ stage: 'prod', retentionDays: 365, alarmTopicArn: 'arn:aws:sns:us-east-1:123456789012:pager' });
    t.resourceCountIs('AWS::SNS::Topic', 0);
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    for (const a of alarms) expect((a.Properties as Json).AlarmActions).toEqual(['arn:aws:sns:us-east-1:123456789012:pager']);
  });

  it('reserves concurrency for the audio function outside dev, and gives each route its own throttle bucket', () => {
    const audio = () => Object.values(raw.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.Description === 'audio-webhook webhook')!;
    expect(audio().Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    const prod = synthVariant({ stage: 'prod', retentionDays: 365, alarmEmail: 'ops@example.com', audioThrottleRateLimit: 15 });
    prod.hasResourceProperties('AWS::Lambda::Function', { Description: 'audio-webhook webhook', ReservedConcurrentExecutions: 10 });
    // ...and alarms when 8 of the 10 are in use.
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ConcurrentExecutions', Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'AudioWebhookFunction' } }], Statistic: 'Maximum', Threshold: 8,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }],
    });
    for (const d of ['call-completed webhook', 'engage-voice webhook']) {
      const fn = Object.values(prod.findResources('AWS::Lambda::Function', { Properties: { Description: d } }))[0]!;
      expect(fn.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    }
    prod.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: {
        'ANY /audio-webhook': { ThrottlingRateLimit: 15, ThrottlingBurstLimit: 40, DetailedMetricsEnabled: true },
        'ANY /call-completed/volubile': { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
        'ANY /call-completed/synthflow': { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
        'ANY /call-completed/vapi': { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
        'ANY /engage-voice': { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      },
    });
    const [stageId, stageRes] = Object.entries(prod.findResources('AWS::ApiGatewayV2::Stage'))[0]!;
    expect(stageId).toBeDefined();
    const routeIds = Object.keys(prod.findResources('AWS::ApiGatewayV2::Route'));
    expect(routeIds).toHaveLength(SOURCES.length);
    expect(stageRes.DependsOn).toEqual(expect.arrayContaining(routeIds));
    synthVariant({ stage: 'prod', retentionDays: 365, alarmEmail: 'ops@example.com', audioReservedConcurrency: 0 })
      .resourcePropertiesCountIs('AWS::Lambda::Function', { ReservedConcurrentExecutions: Match.anyValue() }, 0);
  });

  it('outputs every endpoint URL, the bucket, table and secret', () => {
    for (const key of ['AudioWebhookUrl', 'VolubileWebhookUrl', 'SynthflowWebhookUrl', 'VapiWebhookUrl', 'EngageVoiceWebhookUrl', 'BucketName', 'TableName', 'SecretName', 'SecretArn']) {
      expect(raw.Outputs).toHaveProperty(key);
    }
    expect(JSON.stringify(raw.Outputs.VolubileWebhookUrl)).toContain('/call-completed/volubile');
    expect(JSON.stringify(raw.Outputs.SynthflowWebhookUrl)).toContain('/call-completed/synthflow');
    expect(JSON.stringify(raw.Outputs.VapiWebhookUrl)).toContain('/call-completed/vapi');
    expect(JSON.stringify(raw.Outputs.EngageVoiceWebhookUrl)).toContain('/engage-voice');
  });

  it('names the stack after the stage, and declares sam-local variables only with localInvoke', () => {
    expect(stack.stackName).toBe('VoiceWebhooks-dev');
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], stage: 'prod', retentionDays: 'forever', alarmEmail: 'ops@example.com', localInvoke: true } });
    const prod = buildApp(app).stack;
    expect(prod.stackName).toBe('VoiceWebhooks-prod');
    const vars = Template.fromStack(prod).findResources('AWS::Lambda::Function', { Properties: { Description: 'engage-voice webhook' } });
    const env = (Object.values(vars)[0]?.Properties as Json).Environment as { Variables: Record<string, unknown> };
    expect(env.Variables.SECRET_ARN).toBe('');
    for (const name of SECRET_NAMES) expect(env.Variables[name]).toBe('');
    expect(env.Variables.AWS_ENDPOINT_URL_S3).toBe('http://host.docker.internal:4569');
  });
});

describe('cdk-nag: AwsSolutions, HIPAA Security, NIST 800-53 rev 5', () => {
  function acknowledgements(root: IConstruct): Map<string, string> {
    const out = new Map<string, string>();
    for (const c of root.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(m.data as Record<string, string>)) out.set(`${c.node.path} ${id}`, reason);
      }
    }
    return out;
  }

  it('passes all three packs, and every acknowledgement carries a reason and silences a real finding', () => {
    for (const pack of nagPacks(stack)) {
      const result = pack.validateScope(stack);
      expect(result.violations.map((v) => v.ruleName)).toEqual([]);
      expect(result.success).toBe(true);
    }

    const acks = acknowledgements(stack);
    expect(acks.size).toBeGreaterThan(0);
    for (const [where, reason] of acks) expect(reason.length, where).toBeGreaterThan(40);

    // The same pack, blind to acknowledgements: its findings are exactly what we acknowledged.
    const findings = nagPacks(stack).flatMap((blind) => {
      Reflect.defineProperty(blind, 'isAcknowledged', { value: () => false });
      return blind.validateScope(stack).violations.map((v) => v.ruleName);
    }).sort();
    const acked = [...new Set([...acks.keys()].map((k) => k.split(' ')[1]!.replace(/^[^:]*::/, '')))].sort();
    console.log('cdk-nag acknowledged findings:', findings.join(', '));
    expect(acked).toEqual([...new Set(findings)].sort());
  });
});

describe('events/ for sam local invoke', () => {
  const eventsDir = join(REPO_ROOT, 'events');
  const FIXED = WEBHOOK_FUNCTIONS.flatMap((s) => s.events);

  it('holds every sample event the registry declares, each with its source\'s route and path, and nothing else', () => {
    const files = readdirSync(eventsDir).filter((f) => f.endsWith('.json') && f !== 'env.json');
    for (const name of FIXED) expect(files, `events/${name}`).toContain(name);
    for (const file of files) {
      const event = JSON.parse(readFileSync(join(eventsDir, file), 'utf8')) as { routeKey?: string; rawPath?: string; pathParameters?: Record<string, string> };
      const owner = SOURCES.find((s) => declarationOf(s).samples.some((sample) => sample.event === file));
      expect(owner, `events/${file} is no sample of the registry (functions/shared/sources.ts)`).toBeDefined();
      const path = declarationOf(owner!).path;
      expect(event.routeKey, file).toBe(`ANY ${path}`);
      expect(event.rawPath, file).toBe(path);
      expect(event, file).not.toHaveProperty('pathParameters');
    }
  });

  it('has an env.json in SAM --env-vars format with every secret the events are signed with', () => {
    const env = JSON.parse(readFileSync(join(eventsDir, 'env.json'), 'utf8')) as { Parameters?: Record<string, string> };
    expect(env.Parameters).toBeDefined();
    expect(Object.keys(env.Parameters!)).toEqual(expect.arrayContaining(['BUCKET_NAME', 'TABLE_NAME', 'WATSONX_AUDIO_SECRET']));
    for (const [key, value] of Object.entries(env.Parameters!)) if ((SECRET_NAMES as readonly string[]).includes(key)) expect(value, key).toMatch(/fake/);
  });
});

describe('the artifact that ships', () => {
  const run = promisify(execFile);

  it('loads each bundle in a fresh Node process and stores every sample event in the embedded S3 and DynamoDB', async () => {
    const name = `artifact-${randomUUID().slice(0, 8)}`;
    // The same events as events/, generated afresh: the committed watsonx ones carry a JWT that expires.
    const freshEvents = mkdtempSync(join(tmpdir(), 'artifact-events-'));
    await writeEvents(freshEvents);
    await ensureBucketAndTable({ s3Endpoint: process.env.AWS_ENDPOINT_URL_S3!, dynamoEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB! }, name, name);
    const sample = (JSON.parse(readFileSync(join(REPO_ROOT, 'events/env.json'), 'utf8')) as { Parameters: Record<string, string> }).Parameters;
    const { SECRET_ARN: _unset, ...inherited } = process.env;
    const env = { ...inherited, ...sample, BUCKET_NAME: name, TABLE_NAME: name, NODE_OPTIONS: '--enable-source-maps' };
    const script = [
      "const [bundle, eventFile] = process.argv.slice(1);",
      "const { handler } = await import(bundle);",
      "const event = JSON.parse((await import('node:fs')).readFileSync(eventFile, 'utf8'));",
      "const res = await handler(event, { awsRequestId: 'artifact-test' });",
      "process.stdout.write('\\nRESULT ' + JSON.stringify(res) + '\\n');",
    ].join('\n');

    for (const spec of WEBHOOK_FUNCTIONS) {
      const bundle = join(String(raw.Resources[`${spec.id}Function`]?.Metadata?.['aws:asset:path']), BUNDLE_FILE);
      for (const file of spec.events) {
        const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(bundle).href, join(freshEvents, file)], { env, cwd: tmpdir(), timeout: 20_000 });
        const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
        expect(line, `${spec.name} ${file}: ${stdout.slice(-500)}`).toBeDefined();
        const res = JSON.parse(line!.slice(7)) as { statusCode: number; body: string };
        expect(res.statusCode, `${file}: ${res.body}`).toBeGreaterThanOrEqual(200);
        expect(res.statusCode, `${file}: ${res.body}`).toBeLessThan(300);
        expect(stdout).not.toMatch(/fake-[a-z-]*(secret|token|password)/);
      }
    }

    const items = (await ddb.send(new ScanCommand({ TableName: name, ConsistentRead: true }))).Items ?? [];
    const keys = await listKeys('', name);
    for (const source of SOURCES) {
      const stored = items.filter((i) => i.source === source);
      expect(stored.length, source).toBeGreaterThan(0);
      for (const item of stored) expect(keys).toContain(item.record.rawS3Key);
    }
    expect(keys.filter((k) => k.startsWith('audio/watsonx/') && k.endsWith('.wav')).length).toBeGreaterThanOrEqual(2);
  }, 90_000);
});
