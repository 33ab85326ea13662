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
import { ensureBucketAndTable } from '../../local/embedded.ts';
import { ddb, listKeys } from '../support/storage.ts';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { TABLE_SCHEMA } from '#shared/table';
import { SECRET_NAMES } from '#shared/config';
import { buildApp } from '../../infra/app.ts';
import { ACCESS_LOG_FIELDS, type WebhooksStack } from '../../infra/stack.ts';
import { BUNDLE_FILE, REPO_ROOT, WEBHOOK_FUNCTIONS } from '../../infra/functions.ts';
import { writeEvents } from '../../scripts/events.ts';

/**
 * Fine-grained assertions on the synthesized stack. One real synth (with
 * bundling, asset metadata and no staging, as `npx cdk synth --no-staging`
 * does for sam local invoke) per file; variants skip bundling.
 */

type Json = Record<string, unknown>;
let stack: WebhooksStack;
let template: Template;
let raw: { Resources: Record<string, { Type: string; Properties?: Json; Metadata?: Json; DeletionPolicy?: string }> ; Outputs: Record<string, Json> };

function synthVariant(context: Record<string, unknown>): Template & { stack: WebhooksStack } {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-variant-')), context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const variant = buildApp(app).stack;
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
}, 120_000);

describe('HTTP API', () => {
  it('has exactly the routes of DESIGN.md section 2, as ANY routes', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP', Name: 'VoiceWebhooks-dev' });
    const keys = resourcesOfType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties?.RouteKey).sort();
    expect(keys).toEqual(['ANY /audio-webhook', 'ANY /call-completed/{provider}', 'ANY /engage-voice']);
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
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp(`^${spec.id}Logs`) } },
      Environment: {
        Variables: {
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
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
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
        GlobalSecondaryIndexes: Object.values(indexes).map((i) => ({
          IndexName: i.indexName,
          KeySchema: [{ AttributeName: i.partitionKey, KeyType: 'HASH' }, { AttributeName: i.sortKey, KeyType: 'RANGE' }],
          Projection: { ProjectionType: 'ALL' },
        })),
      },
    });
    const [, table] = resourcesOfType('AWS::DynamoDB::Table')[0]!;
    expect(table.Properties).not.toHaveProperty('TableName');
  });

  it('adds Object Lock, expirations and other lifecycle days from context', () => {
    const t = synthVariant({ objectLockDays: 400, objectLockMode: 'COMPLIANCE', audioExpirationDays: 365, rawTransitionDays: 60, noncurrentVersionExpirationDays: 7 });
    t.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockEnabled: true,
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
  it('is one JSON secret with exactly SECRET_NAMES, the watsonx secret generated by CloudFormation', () => {
    // The other secret is the erasure receipt key (test/infra/compliance.test.ts).
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain', Properties: { GenerateSecretString: { GenerateStringKey: 'WATSONX_AUDIO_SECRET', ExcludePunctuation: true } } });
    const [, secret] = resourcesOfType('AWS::SecretsManager::Secret').find(([id]) => id.startsWith('WebhookSecret'))!;
    const gen = secret.Properties?.GenerateSecretString as Json;
    const keys = [...Object.keys(JSON.parse(String(gen.SecretStringTemplate)) as Json), String(gen.GenerateStringKey)];
    expect(keys.sort()).toEqual([...SECRET_NAMES].sort());
    expect(Object.values(JSON.parse(String(gen.SecretStringTemplate)) as Json).every((v) => v === '')).toBe(true);
  });

  it('fills the other tokens with a deploy-time custom resource that may only read and write that secret', () => {
    template.resourceCountIs('Custom::WebhookSecretFiller', 1);
    template.hasResourceProperties('Custom::WebhookSecretFiller', {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SecretFiller'), 'Arn'] },
      SecretArn: { Ref: Match.stringLikeRegexp('^WebhookSecret') },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^SecretFillerRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['secretsmanager:PutSecretValue']), Resource: { Ref: Match.stringLikeRegexp('^WebhookSecret') } })]) },
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
    expect(actions).toEqual([
      'dynamodb:GetItem', 'dynamodb:PutItem', 'logs:CreateLogStream', 'logs:PutLogEvents',
      's3:PutObject', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue',
    ]);
    expect(actions.some((a) => a.includes('*'))).toBe(false);
    const s3 = statements.find((s) => s.Action === 's3:PutObject')!;
    const prefixes = [s3.Resource].flat().map((r) => JSON.stringify(r).match(/\/([a-z-]+\/[a-z-]+\/\*)"/)?.[1]);
    expect(prefixes.sort()).toEqual([...spec.writePrefixes].sort());
    const ddb = statements.find((s) => JSON.stringify(s.Action).includes('dynamodb'))!;
    expect(ddb.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Table/), 'Arn'] });
    const [, role] = Object.entries(raw.Resources).find(([id, r]) => id.startsWith(`${spec.id}Role`) && r.Type === 'AWS::IAM::Role')!;
    expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
  });
});

describe('operations', () => {
  it('alarms on errors and throttles per function, API 5xx, auth failure bursts and index write failures', () => {
    for (const spec of WEBHOOK_FUNCTIONS) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: `${spec.id}Function` } }], Threshold: 1 });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttles', Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: `${spec.id}Function` } }] });
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: { Ref: Match.stringLikeRegexp(`^${spec.id}Logs`) },
        FilterPattern: '{ ($.msg = "delivery rejected") && ($.status = 401) }',
        MetricTransformations: [{ MetricNamespace: 'VoiceWebhooks', MetricName: 'AuthRejected', MetricValue: '1' }],
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '5xx', Namespace: 'AWS/ApiGateway' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'AuthRejected', Namespace: 'VoiceWebhooks', Statistic: 'Sum', Period: 300, Threshold: 20 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IndexWriteFailures', Namespace: 'VoiceWebhooks' });
    template.resourceCountIs('AWS::CloudWatch::Alarm', WEBHOOK_FUNCTIONS.length * 2 + 3);
    template.resourceCountIs('AWS::SNS::Topic', 0);
  });

  it('sends alarms to an e-mail subscription only when alarmEmail is set', () => {
    const t = synthVariant({ alarmEmail: 'ops@example.com', authFailureAlarmThreshold: 5 });
    t.resourceCountIs('AWS::SNS::Topic', 1);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'AuthRejected', Threshold: 5, AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }] });
    expect(new AwsSolutionsChecks(t.stack).validateScope(t.stack).violations).toEqual([]);
    t.hasResourceProperties('AWS::SNS::TopicPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } });
  });

  it('outputs every endpoint URL, the bucket, table and secret', () => {
    for (const key of ['AudioWebhookUrl', 'VolubileWebhookUrl', 'SynthflowWebhookUrl', 'EngageVoiceWebhookUrl', 'BucketName', 'TableName', 'SecretName', 'SecretArn']) {
      expect(raw.Outputs).toHaveProperty(key);
    }
    expect(JSON.stringify(raw.Outputs.VolubileWebhookUrl)).toContain('/call-completed/volubile');
    expect(JSON.stringify(raw.Outputs.SynthflowWebhookUrl)).toContain('/call-completed/synthflow');
    expect(JSON.stringify(raw.Outputs.EngageVoiceWebhookUrl)).toContain('/engage-voice');
  });

  it('names the stack after the stage, and declares sam-local variables only with localInvoke', () => {
    expect(stack.stackName).toBe('VoiceWebhooks-dev');
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], stage: 'prod', retentionDays: 'forever', localInvoke: true } });
    const prod = buildApp(app).stack;
    expect(prod.stackName).toBe('VoiceWebhooks-prod');
    const vars = Template.fromStack(prod).findResources('AWS::Lambda::Function', { Properties: { Description: 'engage-voice webhook' } });
    const env = (Object.values(vars)[0]?.Properties as Json).Environment as { Variables: Record<string, unknown> };
    expect(env.Variables.SECRET_ARN).toBe('');
    for (const name of SECRET_NAMES) expect(env.Variables[name]).toBe('');
    expect(env.Variables.AWS_ENDPOINT_URL_S3).toBe('http://host.docker.internal:4569');
  });
});

describe('cdk-nag AwsSolutions', () => {
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

  it('passes, and every acknowledgement carries a reason and silences a real finding', () => {
    const result = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(result.violations.map((v) => v.ruleName)).toEqual([]);
    expect(result.success).toBe(true);

    const acks = acknowledgements(stack);
    expect(acks.size).toBeGreaterThan(0);
    for (const [where, reason] of acks) expect(reason.length, where).toBeGreaterThan(40);

    // The same pack, blind to acknowledgements: its findings are exactly what we acknowledged.
    const blind = new AwsSolutionsChecks(stack);
    Reflect.defineProperty(blind, 'isAcknowledged', { value: () => false });
    const findings = blind.validateScope(stack).violations.map((v) => v.ruleName).sort();
    const acked = [...new Set([...acks.keys()].map((k) => k.split(' ')[1]!.replace(/^[^:]*::/, '')))].sort();
    console.log('cdk-nag acknowledged findings:', findings.join(', '));
    expect(acked).toEqual([...new Set(findings)].sort());
  });
});

describe('events/ for sam local invoke', () => {
  const eventsDir = join(REPO_ROOT, 'events');
  const FIXED = WEBHOOK_FUNCTIONS.flatMap((s) => s.events);

  it('holds every fixed event name, each with the route and path of the function it is meant for', () => {
    const files = readdirSync(eventsDir).filter((f) => f.endsWith('.json') && f !== 'env.json');
    for (const name of FIXED) expect(files, `events/${name}`).toContain(name);
    const byPrefix: Record<string, string> = { watsonx: 'audio-webhook', volubile: 'call-completed', synthflow: 'call-completed', 'engage-voice': 'engage-voice' };
    for (const file of files) {
      const event = JSON.parse(readFileSync(join(eventsDir, file), 'utf8')) as { routeKey?: string; rawPath?: string; pathParameters?: Record<string, string> };
      const prefix = Object.keys(byPrefix).find((p) => file.startsWith(`${p}-`));
      const owner = WEBHOOK_FUNCTIONS.find((s) => s.events.includes(file) || (prefix !== undefined && s.name === byPrefix[prefix]));
      expect(owner, `events/${file} belongs to no function (name it watsonx-*, volubile-*, synthflow-* or engage-voice-*)`).toBeDefined();
      const path = owner!.paths[0]!;
      expect(event.routeKey, file).toBe(`ANY ${path}`);
      const pattern = new RegExp(`^${path.replace('{provider}', '(volubile|synthflow)')}$`);
      expect(event.rawPath, file).toMatch(pattern);
      if (path.includes('{provider}')) expect(event.rawPath).toBe(`/call-completed/${event.pathParameters?.provider}`);
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
  const SOURCE_OF: Record<string, string> = { watsonx: 'watsonx', volubile: 'volubile', synthflow: 'synthflow', 'engage-voice': 'engage-voice' };

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
    for (const source of Object.values(SOURCE_OF)) {
      const stored = items.filter((i) => i.source === source);
      expect(stored.length, source).toBeGreaterThan(0);
      for (const item of stored) expect(keys).toContain(item.record.rawS3Key);
    }
    expect(keys.filter((k) => k.startsWith('audio/watsonx/') && k.endsWith('.wav')).length).toBeGreaterThanOrEqual(2);
  }, 90_000);
});
