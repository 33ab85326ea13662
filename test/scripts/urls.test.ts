import { describe, it, expect } from 'vitest';
import { declarationOf, SOURCES } from '#shared/sources';
import { formatVendorSetup, outputsFrom, parseArgs, withToken, type StackOutputs } from '../../lib/commands/urls.ts';

const outputs: StackOutputs = {
  AudioWebhookUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/audio-webhook',
  VolubileWebhookUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/call-completed/volubile',
  SynthflowWebhookUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/call-completed/synthflow',
  EngageVoiceWebhookUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/engage-voice',
  BucketName: 'voicewebhooks-dev-bucket',
  TableName: 'VoiceWebhooks-dev-Table',
  SecretName: 'WebhookSecret-abc',
  SecretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:WebhookSecret-abc',
};

describe('formatVendorSetup', () => {
  it('prints, per vendor, the URL with its token, the secret and the header it signs', () => {
    const text = formatVendorSetup('VoiceWebhooks-dev', outputs, {
      WATSONX_AUDIO_SECRET: 'wx-secret',
      VOLUBILE_WEBHOOK_TOKEN: 'vol-token',
      SYNTHFLOW_WEBHOOK_TOKEN: 'sf-token',
      ENGAGE_VOICE_TOKEN: 'ev-token',
      ENGAGE_VOICE_BASIC_AUTH: 'ringcx:p4ss:word',
    });
    expect(text).toContain('URL:     https://abc123.execute-api.eu-west-1.amazonaws.com/audio-webhook\n');
    expect(text).toContain('Secret:  wx-secret');
    expect(text).toContain('Authorization: Bearer <JWT>');
    expect(text).toContain('/call-completed/volubile?token=vol-token');
    expect(text).toContain('X-Webhook-Signature: lowercase hex HMAC-SHA256(secret, raw body)');
    expect(text).toContain('/call-completed/synthflow?token=sf-token');
    expect(text).toContain('Synthflow-Signature: base64 HMAC-SHA256(secret, call.call_id)');
    expect(text).toContain('/engage-voice?token=ev-token');
    expect(text).toContain('user ringcx, password p4ss:word');
  });

  it('says how to set a signing secret that only the vendor console can create, and never prints one that is set', () => {
    const empty = formatVendorSetup('S', outputs, {});
    expect(empty).toMatch(/Volubile[\s\S]*not set\): enable webhook signing in Volubile, then set VOLUBILE_WEBHOOK_SECRET in Secrets Manager secret WebhookSecret-abc/);
    expect(empty).toMatch(/Synthflow[\s\S]*SYNTHFLOW_WEBHOOK_SECRET/);
    expect(empty).toContain('https://abc123.execute-api.eu-west-1.amazonaws.com/call-completed/volubile\n');
    const set = formatVendorSetup('S', outputs, { VOLUBILE_WEBHOOK_SECRET: 'vendor-made-secret' });
    expect(set).not.toContain('vendor-made-secret');
    expect(set).toMatch(/Volubile[\s\S]*Secret: {2}configured/);
  });

  it('prints the custom domain and its DNS target when the stack has one, and its URLs are the custom ones', () => {
    const custom: StackOutputs = {
      ...outputs,
      AudioWebhookUrl: 'https://hooks.example.com/audio-webhook', VolubileWebhookUrl: 'https://hooks.example.com/call-completed/volubile',
      SynthflowWebhookUrl: 'https://hooks.example.com/call-completed/synthflow', EngageVoiceWebhookUrl: 'https://hooks.example.com/engage-voice',
      CustomDomainName: 'hooks.example.com', CustomDomainTarget: 'd-abc123.execute-api.us-east-1.amazonaws.com',
    };
    const text = formatVendorSetup('S', custom, { VOLUBILE_WEBHOOK_TOKEN: 'tok-1' });
    expect(text).toContain('Custom domain: https://hooks.example.com (the execute-api endpoint is disabled');
    expect(text).toContain('hooks.example.com → d-abc123.execute-api.us-east-1.amazonaws.com');
    expect(text).toContain('URL:     https://hooks.example.com/call-completed/volubile?token=tok-1');
    expect(text).not.toContain('amazonaws.com/');
    expect(formatVendorSetup('S', outputs, {})).not.toContain('Custom domain');
    expect(outputsFrom([{ OutputKey: 'CustomDomainName', OutputValue: 'hooks.example.com' }])).toEqual({ CustomDomainName: 'hooks.example.com' });
  });

  it('URL-encodes tokens and refuses a stack without the endpoint outputs', () => {
    expect(withToken('https://x.example/engage-voice', 'a+b/c=')).toBe('https://x.example/engage-voice?token=a%2Bb%2Fc%3D');
    expect(() => formatVendorSetup('Other', { BucketName: 'b' }, {})).toThrow(/AudioWebhookUrl/);
  });

  it('keeps only the known DescribeStacks outputs and parses --stack/--region', () => {
    expect(outputsFrom([{ OutputKey: 'AudioWebhookUrl', OutputValue: 'u' }, { OutputKey: 'Other', OutputValue: 'x' }])).toEqual({ AudioWebhookUrl: 'u' });
    expect(parseArgs(['--stack', 'VoiceWebhooks-prod', '--region', 'eu-west-1'])).toEqual({ stack: 'VoiceWebhooks-prod', region: 'eu-west-1' });
    expect(() => parseArgs(['--stack'])).toThrow(/needs a value/);
    expect(() => parseArgs(['prod'])).toThrow(/unknown argument/);
  });
});

describe('formatVendorSetup with draft and live, during a rotation', () => {
  it('shows both watsonx secrets with their bindings and the rotations to finish, never a previous value', () => {
    const text = formatVendorSetup('S', outputs, {
      WATSONX_AUDIO_SECRET: 'wx-draft-secret', WATSONX_AUDIO_SECRET_LIVE: 'wx-live-secret',
      WATSONX_LIVE_ENVIRONMENT_ID: 'env-live-42', ENGAGE_VOICE_TOKEN: 'ev-new', ENGAGE_VOICE_TOKEN_PREVIOUS: 'ev-old-value',
    });
    expect(text).toContain('Draft:   the secret above\n');
    expect(text).toContain('Live:    wx-live-secret (only for environment_id env-live-42)');
    expect(text).toContain('ENGAGE_VOICE_TOKEN: once the vendor sends the new value, npm run rotate -- ENGAGE_VOICE_TOKEN --stack S --finish');
    expect(text).not.toContain('ev-old-value');
    expect(formatVendorSetup('S', outputs, { WATSONX_AUDIO_SECRET: 'x' })).toContain('npm run rotate -- watsonx-live --stack S');
    expect(formatVendorSetup('S', outputs, { WATSONX_AUDIO_SECRET: 'x' })).not.toContain('Rotations in progress');
  });
});

describe('npm run urls without AWS set up', () => {
  const run = async (extra: Record<string, string>) => {
    const { execFile } = await import('node:child_process');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const home = mkdtempSync(join(tmpdir(), 'urls-home-'));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '', HOME: home,
      AWS_CONFIG_FILE: join(home, 'none-config'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra,
    };
    return new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'scripts/urls.ts'], { env, timeout: 60_000 }, (_err, _out, stderr) => {
        resolve({ code: child.exitCode, stderr: String(stderr) });
      });
    });
  };

  it('says what to do instead of the SDK\'s "Region is missing" / "Could not load credentials"', async () => {
    const noRegion = await run({});
    expect(noRegion.code).toBe(1);
    expect(noRegion.stderr).toContain('no AWS region: pass --region <region>');
    expect(noRegion.stderr).not.toContain('Region is missing');
    const noCredentials = await run({ AWS_REGION: 'eu-west-1' });
    expect(noCredentials.code).toBe(1);
    expect(noCredentials.stderr).toContain('no AWS credentials: set AWS_PROFILE=<profile>');
  }, 120_000);

  it('points at cdk deploy when the stack does not exist', async () => {
    const { explainAwsError } = await import('../../lib/commands/urls.ts');
    const err = Object.assign(new Error('Stack with id VoiceWebhooks-dev does not exist'), { name: 'ValidationError' });
    expect(explainAwsError(err, 'VoiceWebhooks-dev')).toContain('npx cdk deploy');
  });
});

describe('formatVendorSetup for every source of the registry', () => {
  it.each(SOURCES.map((s) => [s, declarationOf(s)] as const))('%s: its console, its URL, its setup lines', (_s, d) => {
    const url = `https://abc123.execute-api.eu-west-1.amazonaws.com${d.path}`;
    const text = formatVendorSetup('S', { [d.output]: url }, {});
    expect(text).toContain(d.console);
    expect(text).toContain(`URL:     ${url}`);
    for (const line of d.setup) expect(text).toContain(line);
  });

  it('shows Vapi\'s bare URL, its Bearer token and how to set its HMAC secret; a stack deployed before Vapi says to deploy', () => {
    const text = formatVendorSetup('S', { ...outputs, VapiWebhookUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/call-completed/vapi' }, { VAPI_WEBHOOK_TOKEN: 'vapi-bearer-1' });
    expect(text).toContain('URL:     https://abc123.execute-api.eu-west-1.amazonaws.com/call-completed/vapi\n');
    expect(text).toContain('Bearer:  vapi-bearer-1');
    expect(text).toMatch(/Vapi[\s\S]*not set\): create an HMAC credential in Vapi, then set VAPI_WEBHOOK_SECRET/);
    expect(formatVendorSetup('S', outputs, {})).toMatch(/Vapi[^\n]*\n {2}URL: {5}\(not set\): not in stack S yet; deploy this version/);
  });
});
