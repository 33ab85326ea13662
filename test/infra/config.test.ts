import { describe, it, expect } from 'vitest';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { readStackConfig, stackName } from '../../infra/config.ts';
import { fillSecret, keyListHash, parseSecret } from '../../infra/secret-filler/fill.ts';
import { GENERATED, secretKeyList } from '../../infra/secret.ts';
import { SECRET_NAMES } from '#shared/config';

const ctx = (values: Record<string, unknown>) => (key: string) => values[key];

describe('readStackConfig', () => {
  it('has documented defaults', () => {
    const c = readStackConfig(ctx({}));
    expect(c).toMatchObject({
      stage: 'dev', audioTransitionDays: 30, rawTransitionDays: 30, noncurrentVersionExpirationDays: 90,
      logRetention: RetentionDays.THREE_MONTHS, engageVoiceTimeZone: 'UTC', defaultPhoneRegion: 'US',
      throttle: { rateLimit: 50, burstLimit: 100 }, authFailureAlarmThreshold: 20,
    });
    expect(c.objectLock).toBeUndefined();
    expect(c.alarmEmail).toBeUndefined();
    expect(stackName(c.stage)).toBe('VoiceWebhooks-dev');
  });

  it('validates the secret refresh interval at synth with the functions\' own rule, so a value the functions would refuse cannot deploy', () => {
    expect(readStackConfig(ctx({})).secretTimings).toEqual({ refreshSeconds: 300, maxStaleSeconds: 3600 });
    expect(readStackConfig(ctx({ secretRefreshSeconds: '60', secretMaxStaleSeconds: 600 })).secretTimings).toEqual({ refreshSeconds: 60, maxStaleSeconds: 600 });
    expect(() => readStackConfig(ctx({ secretRefreshSeconds: 0 }))).toThrow(/^context secretRefreshSeconds must be between 1 and 86400 seconds, got 0$/);
    expect(() => readStackConfig(ctx({ secretRefreshSeconds: '5m' }))).toThrow(/context secretRefreshSeconds must be a whole number of seconds, got "5m"/);
    expect(() => readStackConfig(ctx({ secretRefreshSeconds: 600, secretMaxStaleSeconds: 60 }))).toThrow(/context secretMaxStaleSeconds \(60\) must be at least secretRefreshSeconds \(600\)/);
  });

  it('accepts -c strings as numbers and rejects bad values with the key name', () => {
    const c = readStackConfig(ctx({ stage: 'prod', retentionDays: '400', objectLockDays: '365', objectLockMode: 'compliance', throttleRateLimit: '10', alarmEmail: 'ops@example.com' }));
    expect(c.objectLock).toEqual({ days: 365, mode: 'COMPLIANCE' });
    expect(c.throttle.rateLimit).toBe(10);
    expect(() => readStackConfig(ctx({ stage: 'Prod_1' }))).toThrow(/context stage/);
    expect(() => readStackConfig(ctx({ logRetentionDays: 100 }))).toThrow(/logRetentionDays must be one of/);
    expect(() => readStackConfig(ctx({ engageVoiceTimeZone: 'Mars/Base' }))).toThrow(/engageVoiceTimeZone/);
    expect(() => readStackConfig(ctx({ audioTransitionDays: 10 }))).toThrow(/audioTransitionDays must be between 30/);
    expect(() => readStackConfig(ctx({ rawExpirationDays: 20 }))).toThrow(/rawExpirationDays must be greater/);
    expect(() => readStackConfig(ctx({ alarmEmail: 'nope' }))).toThrow(/alarmEmail/);
  });

  it('refuses a stage other than dev without an alarm target, naming both settings', () => {
    expect(() => readStackConfig(ctx({ stage: 'prod', retentionDays: 365 }))).toThrow(/stage prod needs somewhere to send its alarms: set context alarmEmail .* or alarmTopicArn/);
    expect(readStackConfig(ctx({ stage: 'prod', retentionDays: 365, alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops' })).alarmTopicArn).toBe('arn:aws:sns:eu-west-1:123456789012:ops');
    expect(() => readStackConfig(ctx({ stage: 'prod', retentionDays: 365, alarmTopicArn: 'ops-topic' }))).toThrow(/alarmTopicArn is not an SNS topic ARN/);
    expect(readStackConfig(ctx({})).alarmTopicArn).toBeUndefined();
  });

  it('reserves audio concurrency outside dev by default, and reads the per-route and domain settings', () => {
    expect(readStackConfig(ctx({})).audioReservedConcurrency).toBe(0);
    const prod = readStackConfig(ctx({ stage: 'prod', retentionDays: 365, alarmEmail: 'ops@example.com' }));
    expect(prod).toMatchObject({ audioReservedConcurrency: 10, audioThrottle: { rateLimit: 20, burstLimit: 40 }, auditTrail: false });
    expect(readStackConfig(ctx({ audioReservedConcurrency: '25', audioThrottleRateLimit: 5, auditTrail: 'true' }))).toMatchObject({ audioReservedConcurrency: 25, audioThrottle: { rateLimit: 5 }, auditTrail: true });
    expect(readStackConfig(ctx({ domainName: 'Hooks.Example.com', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc-123' })).domain)
      .toEqual({ name: 'hooks.example.com', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc-123' });
    expect(readStackConfig(ctx({ domainName: 'hooks.example.com', hostedZoneId: 'Z123', hostedZoneName: 'example.com.' })).domain)
      .toEqual({ name: 'hooks.example.com', hostedZone: { id: 'Z123', name: 'example.com' } });
    expect(() => readStackConfig(ctx({ domainName: 'hooks.example.com' }))).toThrow(/domainName needs certificateArn .* or hostedZoneId/);
    expect(() => readStackConfig(ctx({ domainName: 'hooks.example.com', hostedZoneId: 'Z1', hostedZoneName: 'other.org' }))).toThrow(/not inside hostedZoneName/);
    expect(() => readStackConfig(ctx({ certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' }))).toThrow(/need domainName/);
    expect(() => readStackConfig(ctx({ domainName: 'not a domain', certificateArn: 'x' }))).toThrow(/not a domain name/);
  });
});

describe('fillSecret', () => {
  const KEYS = secretKeyList();

  it('fills every generated key and leaves vendor-made secrets empty for the user', () => {
    let n = 0;
    const { value, added } = fillSecret({}, KEYS, () => `r${++n}`);
    expect(Object.keys(value).sort()).toEqual([...SECRET_NAMES].sort());
    for (const name of GENERATED) expect(value[name]).toMatch(/^r\d$/);
    expect(value.VOLUBILE_WEBHOOK_SECRET).toBe('');
    expect(value.SYNTHFLOW_WEBHOOK_SECRET).toBe('');
    expect(value.ENGAGE_VOICE_BASIC_AUTH).toBe('');
    expect(added).toHaveLength(SECRET_NAMES.length);
  });

  it('never overwrites a value that is set, and keeps unknown keys', () => {
    const current = { WATSONX_AUDIO_SECRET: 'from-cfn', ENGAGE_VOICE_TOKEN: 'user-set', VOLUBILE_WEBHOOK_SECRET: 'vendor', extra: 'x', VOLUBILE_WEBHOOK_TOKEN: '  ' };
    const { value, added } = fillSecret(current, KEYS, () => 'generated');
    expect(value).toMatchObject({ WATSONX_AUDIO_SECRET: 'from-cfn', ENGAGE_VOICE_TOKEN: 'user-set', VOLUBILE_WEBHOOK_SECRET: 'vendor', extra: 'x', VOLUBILE_WEBHOOK_TOKEN: 'generated' });
    // Rotation keys (previous values, the live watsonx secret, environment bindings) start empty, never generated.
    const rotationKeys = SECRET_NAMES.filter((n) => n.endsWith('_PREVIOUS') || n.endsWith('_ENVIRONMENT_ID') || n === 'WATSONX_AUDIO_SECRET_LIVE');
    expect(added.sort()).toEqual(['ENGAGE_VOICE_BASIC_AUTH', 'ENGAGE_VOICE_RECORDING_AUTH', 'SYNTHFLOW_API_KEY', 'SYNTHFLOW_WEBHOOK_SECRET', 'SYNTHFLOW_WEBHOOK_TOKEN', 'VAPI_API_KEY', 'VAPI_WEBHOOK_SECRET', 'VAPI_WEBHOOK_TOKEN', 'VOLUBILE_WEBHOOK_TOKEN', ...rotationKeys].sort());
    for (const name of rotationKeys) expect(value[name], name).toBe('');
    expect(rotationKeys).toContain('VAPI_WEBHOOK_SECRET_PREVIOUS');
    // The Bearer token is generated (pasted into Vapi); the HMAC secret is left for the user to choose in both places.
    expect(value).toMatchObject({ VAPI_WEBHOOK_TOKEN: 'generated', VAPI_WEBHOOK_SECRET: '' });
    expect(fillSecret(value, KEYS).added).toEqual([]);
  });

  it('adds only the new keys of a changed key list, and the list hash moves with it', () => {
    const before = fillSecret({}, KEYS, () => 'old').value;
    const changed = { generated: [...KEYS.generated, 'NEWVENDOR_WEBHOOK_TOKEN'], empty: [...KEYS.empty, 'NEWVENDOR_WEBHOOK_SECRET'] };
    const { value, added } = fillSecret(before, changed, () => 'new');
    expect(added.sort()).toEqual(['NEWVENDOR_WEBHOOK_SECRET', 'NEWVENDOR_WEBHOOK_TOKEN']);
    expect(value).toEqual({ ...before, NEWVENDOR_WEBHOOK_TOKEN: 'new', NEWVENDOR_WEBHOOK_SECRET: '' });
    expect(keyListHash(changed)).not.toBe(keyListHash(KEYS));
    expect(keyListHash({ generated: [...KEYS.generated].reverse(), empty: KEYS.empty })).toBe(keyListHash(KEYS));
    expect(keyListHash({ generated: KEYS.generated.slice(1), empty: [...KEYS.empty, KEYS.generated[0]!] })).not.toBe(keyListHash(KEYS));
  });

  it('generates 256-bit URL-safe tokens and refuses a stored value that is not a JSON object', () => {
    const { value } = fillSecret(parseSecret(''), KEYS);
    expect(String(value.ENGAGE_VOICE_TOKEN)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() => parseSecret('not json')).toThrow(/not JSON/);
    expect(() => parseSecret('[1,2]')).toThrow(/not a JSON object/);
    expect(() => parseSecret('"text"')).toThrow(/not a JSON object/);
    expect(parseSecret('{"A":"b"}')).toEqual({ A: 'b' });
  });
});
