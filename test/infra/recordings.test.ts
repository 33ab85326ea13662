import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../infra/app.ts';
import type { WebhooksStack } from '../../infra/stack.ts';

/** The recordings part of the stack (infra/recordings.ts), synthesized without bundling. */

type Json = Record<string, unknown>;
let stack: WebhooksStack;
let template: Template;
let resources: Record<string, { Type: string; Properties?: Json }>;

beforeAll(() => {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-rec-')), context: { 'aws:cdk:bundling-stacks': [] } });
  stack = buildApp(app).stack;
  template = Template.fromStack(stack);
  resources = (template.toJSON() as { Resources: typeof resources }).Resources;
}, 120_000);

const policyOf = (rolePrefix: string) => Object.entries(resources)
  .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles).includes(`"Ref":"${rolePrefix}`))
  .flatMap(([, p]) => (p.Properties?.PolicyDocument as { Statement: Json[] }).Statement);

describe('recordings: queue, dead-letter queue, worker', () => {
  it('a queue whose messages go to an encrypted, TLS-only dead-letter queue after 7 receives', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 1800,
      MessageRetentionPeriod: 4 * 24 * 3600,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RecordingsDeadLetterQueue'), 'Arn'] }, maxReceiveCount: 7 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('a worker fed in batches of 5, at most 2 at once, reporting partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: 'RecordingsWorkerFunction' },
      BatchSize: 5,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 300,
      Environment: { Variables: Match.objectLike({ RECORDINGS_MAX_BYTES: String(512 * 1024 * 1024), RECORDINGS_RETRY_DELAYS: '60,300,900,1800,3600,3600', SECRET_ARN: Match.anyValue(), SYNTHFLOW_API_URL: 'https://api.synthflow.ai/v2', VAPI_API_URL: 'https://api.vapi.ai' }) },
    });
  });

  it('least privilege: the worker writes, reads and aborts only under audio/<linked source>/, lists only there, updates items, reads the secret', () => {
    const statements = policyOf('RecordingsRole');
    const actions = [...new Set(statements.flatMap((s) => [s.Action].flat()).map(String))].sort();
    expect(actions).toEqual([
      'dynamodb:GetItem', 'dynamodb:UpdateItem', 'kms:Decrypt', 'kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents',
      's3:AbortMultipartUpload', 's3:GetObject', 's3:ListBucket', 's3:PutObject',
      'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue',
      'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage',
    ]);
    const objects = statements.find((s) => JSON.stringify(s.Action).includes('s3:PutObject'))!;
    const prefixes = [objects.Resource].flat().map((r) => JSON.stringify(r).match(/\/(audio\/[a-z-]+\/\*)"/)?.[1]).sort();
    expect(prefixes).toEqual(['audio/engage-voice/*', 'audio/synthflow/*', 'audio/vapi/*']);
    const list = statements.find((s) => s.Action === 's3:ListBucket')!;
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': ['audio/synthflow/*', 'audio/engage-voice/*', 'audio/vapi/*'] } });
    expect(JSON.stringify(statements)).not.toContain('raw/');
  });

  it('the Synthflow and Engage Voice functions may only send to the queue, and know its URL; watsonx does not', () => {
    for (const id of ['CallCompleted', 'EngageVoice']) {
      const sqs = policyOf(`${id}Role`).filter((s) => JSON.stringify(s.Action).includes('sqs:'));
      expect(sqs.map((s) => s.Action)).toEqual(['sqs:SendMessage']);
      expect(sqs[0]!.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^RecordingsQueue/), 'Arn'] });
      template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ RECORDINGS_QUEUE_URL: { Ref: Match.stringLikeRegexp('^RecordingsQueue') } }) }, Description: Match.stringLikeRegexp(id === 'CallCompleted' ? '^call-completed' : '^engage-voice') });
    }
    expect(JSON.stringify(policyOf('AudioWebhookRole'))).not.toContain('sqs:');
  });

  it('alarms: dead letters > 0, oldest message over 4 h, worker errors, failed recordings', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Threshold: 1, Statistic: 'Maximum',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RecordingsDeadLetterQueue'), 'QueueName'] } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Namespace: 'AWS/SQS', Threshold: 14_400 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'RecordingsWorkerFunction' } }] });
    // The worker's own EMF count, service-wide (every source and reason), not a filter over its log messages.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RecordingFailed', Namespace: 'VoiceWebhooks', Threshold: 1, Dimensions: [{ Name: 'service', Value: 'voice-webhooks' }] });
    template.resourcePropertiesCountIs('AWS::Logs::MetricFilter', { LogGroupName: { Ref: Match.stringLikeRegexp('^RecordingsLogs') } }, 0);
  });

  it('outputs both queue URLs, honours recordingsMaxBytes, and stays cdk-nag clean with alarm e-mails on', () => {
    const outputs = (template.toJSON() as { Outputs: Record<string, Json> }).Outputs;
    expect(outputs).toHaveProperty('RecordingsQueueUrl');
    expect(outputs).toHaveProperty('RecordingsDeadLetterQueueUrl');
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-rec-')), context: { 'aws:cdk:bundling-stacks': [], recordingsMaxBytes: '1048576', alarmEmail: 'ops@example.com' } });
    const variant = buildApp(app).stack;
    const t = Template.fromStack(variant);
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ RECORDINGS_MAX_BYTES: '1048576' }) } });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }] });
    expect(new AwsSolutionsChecks(variant).validateScope(variant).violations.map((v) => v.ruleName)).toEqual([]);
    expect(new AwsSolutionsChecks(stack).validateScope(stack).violations.map((v) => v.ruleName)).toEqual([]);
  });
});
