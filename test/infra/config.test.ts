import { describe, it, expect } from 'vitest';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { readStackConfig, stackName } from '../../infra/config.ts';
import { fillSecret, parseSecret, GENERATED } from '../../infra/secret-filler/fill.ts';
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
});

describe('fillSecret', () => {
  it('fills every generated token and leaves vendor-made secrets empty for the user', () => {
    let n = 0;
    const { value, added } = fillSecret({}, () => `r${++n}`);
    expect(Object.keys(value).sort()).toEqual([...SECRET_NAMES].sort());
    for (const name of GENERATED) expect(value[name]).toMatch(/^r\d$/);
    expect(value.VOLUBILE_WEBHOOK_SECRET).toBe('');
    expect(value.SYNTHFLOW_WEBHOOK_SECRET).toBe('');
    expect(value.ENGAGE_VOICE_BASIC_AUTH).toBe('');
    expect(added).toHaveLength(SECRET_NAMES.length);
  });

  it('never overwrites a value that is set, and keeps unknown keys', () => {
    const current = { WATSONX_AUDIO_SECRET: 'from-cfn', ENGAGE_VOICE_TOKEN: 'user-set', VOLUBILE_WEBHOOK_SECRET: 'vendor', extra: 'x', VOLUBILE_WEBHOOK_TOKEN: '  ' };
    const { value, added } = fillSecret(current, () => 'generated');
    expect(value).toMatchObject({ WATSONX_AUDIO_SECRET: 'from-cfn', ENGAGE_VOICE_TOKEN: 'user-set', VOLUBILE_WEBHOOK_SECRET: 'vendor', extra: 'x', VOLUBILE_WEBHOOK_TOKEN: 'generated' });
    // Rotation keys (previous values, the live watsonx secret, environment bindings) start empty, never generated.
    const rotationKeys = SECRET_NAMES.filter((n) => n.endsWith('_PREVIOUS') || n.endsWith('_ENVIRONMENT_ID') || n === 'WATSONX_AUDIO_SECRET_LIVE');
    expect(added.sort()).toEqual(['ENGAGE_VOICE_BASIC_AUTH', 'ENGAGE_VOICE_RECORDING_AUTH', 'SYNTHFLOW_API_KEY', 'SYNTHFLOW_WEBHOOK_SECRET', 'SYNTHFLOW_WEBHOOK_TOKEN', 'VOLUBILE_WEBHOOK_TOKEN', ...rotationKeys].sort());
    for (const name of rotationKeys) expect(value[name], name).toBe('');
    expect(fillSecret(value).added).toEqual([]);
  });

  it('generates 256-bit URL-safe tokens and treats a non-object secret as empty', () => {
    const { value } = fillSecret(parseSecret('not json'));
    expect(String(value.ENGAGE_VOICE_TOKEN)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(parseSecret('[1,2]')).toEqual({});
    expect(parseSecret('{"A":"b"}')).toEqual({ A: 'b' });
  });
});
