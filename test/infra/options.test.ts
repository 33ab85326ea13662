import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp, nagPacks } from '../../infra/app.ts';
import { PINNED_LOGICAL_IDS, type WebhooksStack } from '../../infra/stack.ts';

/**
 * The optional parts of the stack (custom domain, CloudTrail data events,
 * Object Lock), and a prod stage with every option set: synthesized offline,
 * all three cdk-nag packs clean.
 */

type Json = Record<string, unknown>;

function synth(context: Record<string, unknown>): Template & { stack: WebhooksStack } {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-options-')), context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = buildApp(app).stack;
  return Object.assign(Template.fromStack(stack), { stack });
}

const PROD = { stage: 'prod', retentionDays: 365, alarmEmail: 'ops@example.com' };
const ZONE = { domainName: 'hooks.example.com', hostedZoneId: 'Z0123456789ABCDEFGHIJ', hostedZoneName: 'example.com' };
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

describe('custom domain', () => {
  it('with a hosted zone: a DNS-validated certificate, TLS 1.2, alias records, execute-api disabled, every URL on the domain', () => {
    const t = synth({ ...PROD, ...ZONE });
    t.hasResourceProperties('AWS::CertificateManager::Certificate', { DomainName: 'hooks.example.com', ValidationMethod: 'DNS', DomainValidationOptions: [{ DomainName: 'hooks.example.com', HostedZoneId: 'Z0123456789ABCDEFGHIJ' }] });
    t.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'hooks.example.com',
      DomainNameConfigurations: [Match.objectLike({ EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2', CertificateArn: { Ref: Match.stringLikeRegexp('^CustomDomainCertificate') } })],
    });
    t.hasResourceProperties('AWS::ApiGatewayV2::ApiMapping', { DomainName: { Ref: Match.stringLikeRegexp('^CustomDomainDomainName') }, ApiId: { Ref: Match.stringLikeRegexp('^Api') }, Stage: Match.anyValue() });
    for (const type of ['A', 'AAAA']) t.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'hooks.example.com.', Type: type, HostedZoneId: 'Z0123456789ABCDEFGHIJ', AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }) });
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: true });
    const outputs = (t.toJSON() as { Outputs: Record<string, { Value: unknown }> }).Outputs;
    for (const [key, path] of [['AudioWebhookUrl', '/audio-webhook'], ['VolubileWebhookUrl', '/call-completed/volubile'], ['SynthflowWebhookUrl', '/call-completed/synthflow'], ['VapiWebhookUrl', '/call-completed/vapi'], ['EngageVoiceWebhookUrl', '/engage-voice']] as const) {
      expect(outputs[key]?.Value, key).toBe(`https://hooks.example.com${path}`);
    }
    expect(outputs.CustomDomainName?.Value).toBe('hooks.example.com');
    expect(outputs).toHaveProperty('CustomDomainTarget');
  });

  it('with a certificate ARN: that certificate, no DNS records (the target is an output for your DNS)', () => {
    const t = synth({ ...PROD, domainName: 'hooks.example.org', certificateArn: CERT });
    t.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    t.resourceCountIs('AWS::Route53::RecordSet', 0);
    t.hasResourceProperties('AWS::ApiGatewayV2::DomainName', { DomainNameConfigurations: [Match.objectLike({ CertificateArn: CERT, SecurityPolicy: 'TLS_1_2' })] });
    expect(JSON.stringify((t.toJSON() as { Outputs: Json }).Outputs.CustomDomainTarget)).toContain('RegionalDomainName');
  });

  it('without one: the execute-api endpoint stays on, the URLs are on it, no domain resources', () => {
    const t = synth(PROD);
    t.resourceCountIs('AWS::ApiGatewayV2::DomainName', 0);
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', { DisableExecuteApiEndpoint: false });
    expect(JSON.stringify((t.toJSON() as { Outputs: Json }).Outputs.AudioWebhookUrl)).toContain('ApiEndpoint');
  });
});

describe('CloudTrail data events (auditTrail)', () => {
  it('records every read and write of the recordings bucket into an encrypted, validated trail of its own bucket', () => {
    const t = synth({ ...PROD, auditTrail: true });
    t.hasResourceProperties('AWS::CloudTrail::Trail', {
      IsLogging: true, EnableLogFileValidation: true, IsMultiRegionTrail: false, IncludeGlobalServiceEvents: false,
      KMSKeyId: { 'Fn::GetAtt': [PINNED_LOGICAL_IDS.key, 'Arn'] },
      EventSelectors: [{
        IncludeManagementEvents: false, ReadWriteType: 'All',
        DataResources: [{ Type: 'AWS::S3::Object', Values: [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [PINNED_LOGICAL_IDS.bucket, 'Arn'] }, '/']] }] }],
      }],
    });
    t.hasResourceProperties('AWS::S3::Bucket', { VersioningConfiguration: { Status: 'Enabled' }, BucketEncryption: Match.objectLike({}), LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 365 })] } });
    t.hasResourceProperties('AWS::KMS::Key', { KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudtrail.amazonaws.com' } })]) } });
    synth(PROD).resourceCountIs('AWS::CloudTrail::Trail', 0);
  });
});

describe('Object Lock on the existing bucket', () => {
  it('is an update of the same bucket resource (pinned logical id, versioning kept) that adds only ObjectLockConfiguration, never the top-level ObjectLockEnabled (documented as Replacement)', () => {
    const before = synth(PROD).toJSON() as { Resources: Record<string, { Properties: Json }> };
    const after = synth({ ...PROD, objectLockDays: 30 }).toJSON() as { Resources: Record<string, { Properties: Json }> };
    const b = before.Resources[PINNED_LOGICAL_IDS.bucket]?.Properties;
    const a = after.Resources[PINNED_LOGICAL_IDS.bucket]?.Properties;
    expect(b && a).toBeTruthy();
    const changed = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])].filter((k) => JSON.stringify(a?.[k]) !== JSON.stringify(b?.[k])).sort();
    expect(changed).toEqual(['ObjectLockConfiguration']);
    expect(a).not.toHaveProperty('ObjectLockEnabled');
    expect(a?.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } } });
    expect(a?.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });
});

describe('a prod stage with every option set', () => {
  it('synthesizes offline with all three cdk-nag packs clean', () => {
    const t = synth({
      ...PROD, ...ZONE, auditTrail: true, objectLockDays: 30, objectLockMode: 'COMPLIANCE', logLevel: 'WARN',
      audioReservedConcurrency: 20, accountConcurrencyLimit: 2000, secretRefreshSeconds: 120, latencyAlarmMs: 2000,
    });
    for (const pack of nagPacks(t.stack)) expect(pack.validateScope(t.stack).violations).toEqual([]);
    // Alarm actions everywhere, e-mail subscribed.
    for (const [id, a] of Object.entries(t.findResources('AWS::CloudWatch::Alarm'))) expect((a.Properties as Json).AlarmActions, id).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });
});
