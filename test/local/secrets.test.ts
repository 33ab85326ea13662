import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideSecrets, readStoredSecrets, writeStoredSecrets } from '../../lib/local-secrets.ts';
import { renderBanner } from '../../lib/banner.ts';

let n = 0;
const gen = () => `generated-${++n}`;

describe('local secrets', () => {
  it('generates the watsonx secret and a token for every source without any check', () => {
    n = 0;
    const d = decideSecrets({}, {}, gen);
    expect(Object.keys(d.apply).sort()).toEqual(['ENGAGE_VOICE_TOKEN', 'SYNTHFLOW_WEBHOOK_TOKEN', 'VAPI_WEBHOOK_TOKEN', 'VOLUBILE_WEBHOOK_TOKEN', 'WATSONX_AUDIO_SECRET']);
    expect(d.fresh).toHaveLength(5);
    expect(d.persist).toEqual(d.apply);
  });

  it('never generates signing secrets, nor a token for a source with any check configured', () => {
    const d = decideSecrets({
      WATSONX_AUDIO_SECRET: 'w', VOLUBILE_WEBHOOK_SECRET: 'v', SYNTHFLOW_WEBHOOK_TOKEN: 's', ENGAGE_VOICE_BASIC_AUTH: 'u:p', VAPI_WEBHOOK_SECRET: 'h',
    }, {}, gen);
    expect(d.apply).toEqual({});
    expect(d.fresh).toEqual([]);
    const partial = decideSecrets({ VOLUBILE_WEBHOOK_TOKEN: 't', ENGAGE_VOICE_TOKEN: ' ' }, {}, gen);
    expect(Object.keys(partial.apply).sort()).toEqual(['ENGAGE_VOICE_TOKEN', 'SYNTHFLOW_WEBHOOK_TOKEN', 'VAPI_WEBHOOK_TOKEN', 'WATSONX_AUDIO_SECRET']);
    expect(partial.apply).not.toHaveProperty('VOLUBILE_WEBHOOK_SECRET');
    expect(partial.apply).not.toHaveProperty('VAPI_WEBHOOK_SECRET');
    expect(partial.apply).not.toHaveProperty('SYNTHFLOW_WEBHOOK_SECRET');
  });

  it('always generates the Synthflow URL token, even with its signing secret set (the signature covers only call_id)', () => {
    const d = decideSecrets({ WATSONX_AUDIO_SECRET: 'w', VOLUBILE_WEBHOOK_SECRET: 'v', SYNTHFLOW_WEBHOOK_SECRET: 's', ENGAGE_VOICE_BASIC_AUTH: 'u:p', VAPI_WEBHOOK_SECRET: 'h' }, {}, gen);
    expect(Object.keys(d.apply)).toEqual(['SYNTHFLOW_WEBHOOK_TOKEN']);
    expect(d.apply).not.toHaveProperty('SYNTHFLOW_WEBHOOK_SECRET');
  });

  it('reuses what an earlier start stored, and keeps it in DATA_DIR/secrets.json with mode 0600', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
    const first = decideSecrets({}, readStoredSecrets(dir));
    writeStoredSecrets(dir, first.persist);
    expect(statSync(join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
    const second = decideSecrets({}, readStoredSecrets(dir));
    expect(second.fresh).toEqual([]);
    expect(second.apply).toEqual(first.apply);
  });
});

describe('start-up banner', () => {
  const common = {
    baseUrl: 'http://127.0.0.1:3000', dataDir: '/d', bucketName: 'b', tableName: 't',
    s3Endpoint: 'http://127.0.0.1:4569', dynamoEndpoint: 'http://127.0.0.1:4567',
  };

  it('shows generated values in the URLs and never a secret from the environment', () => {
    const env = {
      WATSONX_AUDIO_SECRET: 'env-watsonx-SECRET-1', VOLUBILE_WEBHOOK_SECRET: 'env-volubile-SECRET-2',
      VOLUBILE_WEBHOOK_TOKEN: 'env-volubile-TOKEN-3', ENGAGE_VOICE_BASIC_AUTH: 'user:env-PASSWORD-4',
    };
    const decision = decideSecrets(env, {}, gen);
    const banner = renderBanner({ ...common, env, generated: decision.apply });
    for (const value of Object.values(env)) expect(banner).not.toContain(value);
    expect(banner).not.toContain('env-PASSWORD');
    expect(banner).toContain('/call-completed/volubile?token=<your VOLUBILE_WEBHOOK_TOKEN>');
    expect(banner).toContain(`/call-completed/synthflow?token=${decision.apply.SYNTHFLOW_WEBHOOK_TOKEN}`);
    expect(banner).toContain('http://127.0.0.1:3000/engage-voice\n');
    expect(banner).toContain('npm run replay -- watsonx');
    expect(banner).toContain('npm run replay -- engage-voice');
    expect(banner).toMatch(/AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER .*aws --endpoint-url http:\/\/127\.0\.0\.1:4569 s3 ls s3:\/\/b --recursive/);
    expect(banner).toContain('--endpoint-url http://127.0.0.1:4567 dynamodb scan --table-name t');
  });

  it('shows the Vapi URL bare, with a generated Bearer credential, and never a Vapi secret from the environment', () => {
    const generated = decideSecrets({}, {}, () => 'gen-vapi-token').apply;
    const banner = renderBanner({ ...common, env: {}, generated });
    expect(banner).toContain('POST http://127.0.0.1:3000/call-completed/vapi\n');
    expect(banner).toContain('Bearer Token credential (generated): gen-vapi-token');
    expect(banner).toContain('npm run replay -- vapi');
    const env = { VAPI_WEBHOOK_SECRET: 'env-vapi-SECRET-5', VAPI_WEBHOOK_TOKEN: 'env-vapi-TOKEN-6' };
    const fromEnv = renderBanner({ ...common, env, generated: decideSecrets(env, {}, gen).apply });
    expect(fromEnv).not.toContain('env-vapi-SECRET-5');
    expect(fromEnv).not.toContain('env-vapi-TOKEN-6');
    expect(fromEnv).toContain('VAPI_WEBHOOK_SECRET from your environment');
    expect(fromEnv).toContain('VAPI_WEBHOOK_TOKEN from your environment');
  });

  it('shows a generated watsonx secret', () => {
    const decision = decideSecrets({}, {}, () => 'gen-value-xyz');
    expect(renderBanner({ ...common, env: {}, generated: decision.apply })).toContain('secret (generated): gen-value-xyz');
  });
});

describe('local secrets during a rotation', () => {
  const common = {
    baseUrl: 'http://127.0.0.1:3000', dataDir: '/d', bucketName: 'b', tableName: 't',
    s3Endpoint: 'http://127.0.0.1:4569', dynamoEndpoint: 'http://127.0.0.1:4567',
  };

  it('applies what rotate wrote to secrets.json unless the environment sets the name', () => {
    const stored = { WATSONX_AUDIO_SECRET: 'new', WATSONX_AUDIO_SECRET_PREVIOUS: 'old', VOLUBILE_WEBHOOK_SECRET: 'vendor', SYNTHFLOW_WEBHOOK_TOKEN: 'tok', SYNTHFLOW_WEBHOOK_TOKEN_PREVIOUS: 'tok-old' };
    const d = decideSecrets({ VOLUBILE_WEBHOOK_SECRET: 'from-env' }, stored, () => 'gen');
    expect(d.apply).toMatchObject({ WATSONX_AUDIO_SECRET: 'new', WATSONX_AUDIO_SECRET_PREVIOUS: 'old', SYNTHFLOW_WEBHOOK_TOKEN: 'tok', SYNTHFLOW_WEBHOOK_TOKEN_PREVIOUS: 'tok-old' });
    expect(d.apply).not.toHaveProperty('VOLUBILE_WEBHOOK_SECRET');
    // A stored URL token (and its previous value) is dropped once the environment configures another check.
    const s = decideSecrets({ ENGAGE_VOICE_BASIC_AUTH: 'u:p' }, { ENGAGE_VOICE_TOKEN: 'tok', ENGAGE_VOICE_TOKEN_PREVIOUS: 'tok-old' }, () => 'gen');
    expect(s.apply).not.toHaveProperty('ENGAGE_VOICE_TOKEN');
    expect(s.apply).not.toHaveProperty('ENGAGE_VOICE_TOKEN_PREVIOUS');
  });

  it('the banner shows draft and live with their bindings and the rotations in progress, never a previous value', () => {
    const generated = { WATSONX_AUDIO_SECRET: 'draft-gen', WATSONX_AUDIO_SECRET_LIVE: 'live-gen', WATSONX_AUDIO_SECRET_PREVIOUS: 'draft-old-value', WATSONX_DRAFT_ENVIRONMENT_ID: 'env-d' };
    const banner = renderBanner({ ...common, env: { WATSONX_LIVE_ENVIRONMENT_ID: 'env-l' }, generated });
    expect(banner).toContain('draft environment: the secret above, only for environment_id env-d');
    expect(banner).toContain('live environment:  live-gen, only for environment_id env-l');
    expect(banner).toContain('WATSONX_AUDIO_SECRET: npm run rotate -- WATSONX_AUDIO_SECRET --finish');
    expect(banner).not.toContain('draft-old-value');
    const envLive = renderBanner({ ...common, env: { WATSONX_AUDIO_SECRET_LIVE: 'env-live-SECRET' }, generated: { WATSONX_AUDIO_SECRET: 'g' } });
    expect(envLive).toContain('live environment:  WATSONX_AUDIO_SECRET_LIVE from your environment, any environment_id');
    expect(envLive).not.toContain('env-live-SECRET');
  });
});
