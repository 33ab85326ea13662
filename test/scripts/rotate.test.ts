import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetConfiguration } from '#shared/handler';
import { CREDENTIAL_NAMES, SECRET_NAMES } from '#shared/config';
import { createLocalServer, type LocalServer } from '../../lib/local-server.ts';
import { applyLocalSecrets, watchLocalSecrets } from '../../lib/local-secrets.ts';
import { finishRotation, pasteInstructions, resolveTarget, startRotation, ROTATION_TARGETS, RotationError, type RotationTarget } from '../../lib/rotate/rotation.ts';
import { localStore, parseRotateArgs, runRotate, stackStore } from '../../lib/commands/rotate.ts';
import { ownStorage, send } from '../hostile/support.ts';
import { hsJwt, toEvent } from '../fixtures/hostile/common.ts';
import { audioPart, metaPart, metadata, multipartBody } from '../fixtures/hostile/audio-webhook.ts';
import { handler as audioWebhook } from '../../functions/audio-webhook/handler.ts';
import { deliveries, type Values } from '../support/deliveries.ts';

/**
 * `npm run rotate` played end to end against the real handlers: deliveries
 * signed with the old values, then with old and new mixed, then the new — no
 * 401 until --finish, and a 401 for every old value after it. Locally through
 * the local server and DATA_DIR/secrets.json (re-read by the same watcher
 * npm start uses); for a stack through the SDK against a stand-in speaking
 * the Secrets Manager JSON protocol and CloudFormation's query protocol.
 */

const OLD: Values = {
  WATSONX_AUDIO_SECRET: 'e2e-watsonx-old-8c1f4a7d0b3e',
  VOLUBILE_WEBHOOK_SECRET: 'e2e-volubile-sig-old-2b5e8a1d4c7f',
  VOLUBILE_WEBHOOK_TOKEN: 'e2e-volubile-tok-old-6d9c2f5a8e1b',
  SYNTHFLOW_WEBHOOK_SECRET: 'e2e-synthflow-sig-old-0a3d6f9c2e5b',
  SYNTHFLOW_WEBHOOK_TOKEN: 'e2e-synthflow-tok-old-4e7b0d3a6c9f',
  ENGAGE_VOICE_TOKEN: 'e2e-engage-tok-old-8f1c4e7a0d3b',
  ENGAGE_VOICE_BASIC_AUTH: 'ringcx:e2e-engage-pw-old-2c5f8b1e4a7d',
};
const VENDOR_MADE = { VOLUBILE_WEBHOOK_SECRET: 'e2e-volubile-sig-new-7a0d3f6c9b2e', SYNTHFLOW_WEBHOOK_SECRET: 'e2e-synthflow-sig-new-1d4a7e0c3f6b' };
const LIVE_OLD = 'e2e-watsonx-live-old-5b8e1d4a7c0f';
/** The credentials the deliveries below present (test/support/deliveries.ts): the end-to-end runs rotate these. */
const TARGETS = ROTATION_TARGETS.filter((t) => t.name in OLD || t.name === 'WATSONX_AUDIO_SECRET_LIVE');

const liveRecording = (secret: string) => ({
  target: '/audio-webhook',
  headers: { authorization: `Bearer ${hsJwt(secret)}`, 'content-type': 'multipart/form-data; boundary=hostileBoundary7MA4YWxkTrZu0gW' },
  body: multipartBody([metaPart(metadata({ recording_id: `live-${Math.random().toString(36).slice(2)}`, environment_id: 'env-live' })), audioPart()]),
});

function valuesFrom(file: string): Values & { WATSONX_AUDIO_SECRET_LIVE: string } {
  return JSON.parse(readFileSync(file, 'utf8')) as Values & { WATSONX_AUDIO_SECRET_LIVE: string };
}

describe('rotation, pure', () => {
  it('moves current to previous, refuses a second start and a finish with nothing to finish', () => {
    const target = resolveTarget('watsonx', {});
    const { set } = startRotation({ WATSONX_AUDIO_SECRET: 'a' }, target, undefined, () => 'b');
    expect(set).toEqual({ WATSONX_AUDIO_SECRET: 'b', WATSONX_AUDIO_SECRET_PREVIOUS: 'a' });
    expect(() => startRotation({ WATSONX_AUDIO_SECRET: 'b', WATSONX_AUDIO_SECRET_PREVIOUS: 'a' }, target)).toThrow(/in progress/);
    expect(() => finishRotation({ WATSONX_AUDIO_SECRET: 'b', WATSONX_AUDIO_SECRET_PREVIOUS: '' }, target)).toThrow(/no rotation/);
    expect(finishRotation({ WATSONX_AUDIO_SECRET_PREVIOUS: 'a' }, target)).toEqual({ drop: 'WATSONX_AUDIO_SECRET_PREVIOUS' });
  });

  it('knows every credential the registry declares, Vapi\'s included', () => {
    expect(ROTATION_TARGETS.map((t) => t.name)).toEqual([...CREDENTIAL_NAMES]);
    const token = resolveTarget('vapi', { VAPI_WEBHOOK_TOKEN: 'x' });
    expect(token).toMatchObject({ name: 'VAPI_WEBHOOK_TOKEN', generated: true });
    expect(startRotation({ VAPI_WEBHOOK_TOKEN: 'x' }, token, undefined, () => 'y').set).toEqual({ VAPI_WEBHOOK_TOKEN: 'y', VAPI_WEBHOOK_TOKEN_PREVIOUS: 'x' });
    expect(() => startRotation({}, resolveTarget('vapi', {}, 'VAPI_WEBHOOK_SECRET'))).toThrow(/--value/);
  });

  it('generates where we generate, needs --value where the vendor does, keeps the Basic user', () => {
    const volubileSecret = resolveTarget('volubile', {}, 'VOLUBILE_WEBHOOK_SECRET');
    expect(() => startRotation({}, volubileSecret)).toThrow(/--value/);
    expect(startRotation({ VOLUBILE_WEBHOOK_SECRET: 'x' }, volubileSecret, 'y').set).toEqual({ VOLUBILE_WEBHOOK_SECRET: 'y', VOLUBILE_WEBHOOK_SECRET_PREVIOUS: 'x' });
    const basicTarget = resolveTarget('engage-voice', {}, 'ENGAGE_VOICE_BASIC_AUTH');
    expect(startRotation({ ENGAGE_VOICE_BASIC_AUTH: 'ringcx:pw' }, basicTarget, undefined, () => 'new').set.ENGAGE_VOICE_BASIC_AUTH).toBe('ringcx:new');
    expect(() => startRotation({}, basicTarget, 'no-colon')).toThrow(/user:password/);
    expect(() => startRotation({ ENGAGE_VOICE_TOKEN: 'same' }, resolveTarget('ENGAGE_VOICE_TOKEN', {}), 'same')).toThrow(/current one/);
  });

  it('treats any credential the registry declares as HTTP Basic as user:password, whatever its name', () => {
    // A made-up vendor's Basic credential: the role decides, not the variable name.
    const acme: RotationTarget = { source: 'acme', name: 'ACME_BASIC' as RotationTarget['name'], role: 'basic', generated: true, paste: 'Acme → HTTP Basic: replace with' };
    expect(startRotation({ ACME_BASIC: 'bot:old' }, acme, undefined, () => 'fresh').set).toEqual({ ACME_BASIC: 'bot:fresh', ACME_BASIC_PREVIOUS: 'bot:old' });
    expect(() => startRotation({}, acme, 'no-colon')).toThrow('ACME_BASIC must be user:password');
    expect(() => startRotation({}, acme)).toThrow(/ACME_BASIC is not set/);
    expect(pasteInstructions(acme, 'bot:fresh', undefined)).toBe('  Acme → HTTP Basic: replace with\n    user bot\n    password fresh');
    expect(pasteInstructions({ ...acme, role: 'header-token' }, 'bot:fresh', undefined)).toBe('  Acme → HTTP Basic: replace with\n    bot:fresh');
    expect(ROTATION_TARGETS.find((t) => t.name === 'ENGAGE_VOICE_BASIC_AUTH')?.role).toBe('basic');
  });

  it('a source with several credentials needs --name unless exactly one is set', () => {
    expect(resolveTarget('synthflow', { SYNTHFLOW_WEBHOOK_TOKEN: 't' }).name).toBe('SYNTHFLOW_WEBHOOK_TOKEN');
    expect(() => resolveTarget('synthflow', { SYNTHFLOW_WEBHOOK_TOKEN: 't', SYNTHFLOW_WEBHOOK_SECRET: 's' })).toThrow(/--name/);
    expect(resolveTarget('watsonx-live', {}).name).toBe('WATSONX_AUDIO_SECRET_LIVE');
    expect(() => resolveTarget('nope', {})).toThrow(RotationError);
    expect(parseRotateArgs(['volubile', '--name', 'VOLUBILE_WEBHOOK_SECRET', '--value', 'v', '--stack', 'S'])).toEqual({ source: 'volubile', name: 'VOLUBILE_WEBHOOK_SECRET', value: 'v', stack: 'S', finish: false });
    expect(() => parseRotateArgs(['watsonx', '--finish', '--value', 'x'])).toThrow(/--finish/);
  });

  it('refuses locally when the environment sets the name (the environment would win)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotate-env-'));
    await expect(runRotate(parseRotateArgs(['watsonx']), localStore({ DATA_DIR: dir }), { WATSONX_AUDIO_SECRET: 'from-env' })).rejects.toThrow(/set in your environment/);
  });
});

describe('rotation end to end, local mode', () => {
  let server: LocalServer;
  let dataDir: string;
  let stop: () => void;
  const applied = new Set<string>();
  let reloads = 0;
  /** Until the watcher has applied the whole file (rotate writes it once per credential). */
  const untilApplied = async (): Promise<void> => {
    const file = JSON.parse(readFileSync(join(dataDir, 'secrets.json'), 'utf8')) as Record<string, string>;
    const deadline = Date.now() + 10_000;
    const done = () => SECRET_NAMES.every((n) => process.env[n] === file[n]);
    while (!done()) {
      if (Date.now() > deadline) throw new Error('secrets.json was not re-applied within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    await ownStorage('rotate-local', {});
    dataDir = mkdtempSync(join(tmpdir(), 'rotate-data-'));
    writeFileSync(join(dataDir, 'secrets.json'), JSON.stringify({ ...OLD, WATSONX_AUDIO_SECRET_LIVE: LIVE_OLD }), { mode: 0o600 });
    applyLocalSecrets(process.env, {}, dataDir, applied);
    resetConfiguration();
    stop = watchLocalSecrets(process.env, {}, dataDir, applied, () => { resetConfiguration(); reloads++; }, 50);
    server = await createLocalServer({ host: '127.0.0.1', port: 0, log: () => {} });
  });

  afterAll(async () => {
    stop?.();
    await server?.close();
    for (const name of SECRET_NAMES) delete process.env[name];
    resetConfiguration();
  });

  const statuses = async (v: Values, live: string): Promise<number[]> => {
    const out: number[] = [];
    for (const [, , input] of deliveries(v)) out.push((await send(server.url, input)).status);
    out.push((await send(server.url, liveRecording(live))).status);
    return out;
  };
  const rotate = (argv: string[]) => runRotate(parseRotateArgs(argv), localStore({ DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: new URL(server.url).port }), {});

  it('old values, then old and new side by side, then --finish: zero 401 before it, 401 for the old values after', async () => {
    const before: number[] = [...await statuses(OLD, LIVE_OLD)];

    const printed: string[] = [];
    for (const target of TARGETS) {
      const vendorValue = (VENDOR_MADE as Record<string, string>)[target.name];
      printed.push(await rotate([target.name, ...(vendorValue ? ['--value', vendorValue] : [])]));
    }
    // Deliveries keep coming while the rotation starts: still the old values.
    before.push(...await statuses(OLD, LIVE_OLD));
    await untilApplied();
    expect(reloads).toBeGreaterThan(0);
    const NEW = valuesFrom(join(dataDir, 'secrets.json'));
    for (const name of Object.keys(OLD) as (keyof Values)[]) expect(NEW[name], name).not.toBe(OLD[name]);
    expect(statSync(join(dataDir, 'secrets.json')).mode & 0o777).toBe(0o600);
    // What rotate printed: the generated values where they are pasted, the vendor-made ones never.
    expect(printed.join('\n')).toContain(`/call-completed/volubile?token=${NEW.VOLUBILE_WEBHOOK_TOKEN}`);
    expect(printed.join('\n')).toContain(`password ${NEW.ENGAGE_VOICE_BASIC_AUTH.split(':')[1]}`);
    for (const v of [...Object.values(OLD), LIVE_OLD, ...Object.values(VENDOR_MADE)]) expect(printed.join('\n')).not.toContain(v);

    // The vendors switch one by one: every mix of old and new passes.
    before.push(...await statuses(OLD, LIVE_OLD));
    before.push(...await statuses(NEW, NEW.WATSONX_AUDIO_SECRET_LIVE));
    before.push(...await statuses({ ...OLD, VOLUBILE_WEBHOOK_TOKEN: NEW.VOLUBILE_WEBHOOK_TOKEN, ENGAGE_VOICE_BASIC_AUTH: NEW.ENGAGE_VOICE_BASIC_AUTH, WATSONX_AUDIO_SECRET: NEW.WATSONX_AUDIO_SECRET }, LIVE_OLD));
    expect(before.filter((s) => s !== 200)).toEqual([]);
    expect(before).toHaveLength(5 * 5);

    for (const target of TARGETS) await rotate([target.name, '--finish']);
    await untilApplied();
    expect(Object.keys(valuesFrom(join(dataDir, 'secrets.json'))).filter((k) => k.endsWith('_PREVIOUS'))).toEqual([]);
    expect(await statuses(NEW, NEW.WATSONX_AUDIO_SECRET_LIVE)).toEqual([200, 200, 200, 200, 200]);
    expect(await statuses(OLD, LIVE_OLD)).toEqual([401, 401, 401, 401, 401]);
    // Each old credential alone is enough to be refused.
    for (const name of Object.keys(OLD) as (keyof Values)[]) {
      const index = name.startsWith('WATSONX') ? 0 : name.startsWith('VOLUBILE') ? 1 : name.startsWith('SYNTHFLOW') ? 2 : 3;
      const [, , input] = deliveries({ ...NEW, [name]: OLD[name] })[index]!;
      expect((await send(server.url, input)).status, name).toBe(401);
    }
  });
});

// --- a deployed stack, through the SDK, against stand-ins ---------------------

const ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:WebhookSecret-e2e';
const STACK = 'VoiceWebhooks-rotate';

const readBody = (req: IncomingMessage) => new Promise<string>((resolve) => {
  let b = '';
  req.on('data', (c: Buffer) => { b += c.toString(); });
  req.on('end', () => resolve(b));
});

describe('rotation end to end, --stack (Secrets Manager)', () => {
  let aws: Server;
  let secret: Record<string, string>;
  const calls: string[] = [];

  beforeAll(async () => {
    aws = createServer(async (req, res) => {
      const body = await readBody(req);
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string') {
        const op = target.split('.')[1] ?? '';
        calls.push(op);
        const input = JSON.parse(body) as { SecretId: string; SecretString?: string };
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        if (input.SecretId !== ARN) { res.statusCode = 400; res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no such secret' })); return; }
        if (op === 'PutSecretValue') secret = JSON.parse(input.SecretString ?? '{}') as Record<string, string>;
        res.end(JSON.stringify({ ARN, Name: 'WebhookSecret-e2e', SecretString: JSON.stringify(secret), VersionId: 'v' }));
        return;
      }
      // CloudFormation, query protocol: DescribeStacks only.
      const params = new URLSearchParams(body);
      calls.push(params.get('Action') ?? '');
      res.setHeader('content-type', 'text/xml');
      const output = (k: string, v: string) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`;
      res.end(`<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>
<StackName>${params.get('StackName')}</StackName><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-11-20T10:00:00Z</CreationTime>
<Outputs>${output('SecretArn', ARN)}${output('SecretName', 'WebhookSecret-e2e')}${output('EngageVoiceWebhookUrl', 'https://api.example.com/engage-voice')}</Outputs>
</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>`);
    });
    await new Promise<void>((resolve) => aws.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(aws.address() as AddressInfo).port}`;
    await ownStorage('rotate-stack', {});
    Object.assign(process.env, { AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint, AWS_ENDPOINT_URL_CLOUDFORMATION: endpoint, SECRET_ARN: ARN, SECRET_REFRESH_SECONDS: '1' });
    resetConfiguration();
    secret = { ...Object.fromEntries(SECRET_NAMES.map((n) => [n, ''])), ...OLD, WATSONX_AUDIO_SECRET_LIVE: LIVE_OLD, extra: 'kept' };
  });

  afterAll(async () => {
    for (const name of ['AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'SECRET_ARN', 'SECRET_REFRESH_SECONDS']) delete process.env[name];
    resetConfiguration();
    await new Promise((r) => aws.close(r));
  });

  const statuses = async (v: Values, live: string): Promise<number[]> => {
    const out: number[] = [];
    for (const [, run, input] of deliveries(v)) out.push((await run(toEvent(input))).statusCode ?? 0);
    out.push((await audioWebhook(toEvent(liveRecording(live)))).statusCode ?? 0);
    return out;
  };

  it('rotates in the secret, the functions accept both on their next refresh, --finish leaves the key empty', async () => {
    const before = [...await statuses(OLD, LIVE_OLD)];
    const printed: string[] = [];
    for (const target of TARGETS) {
      const vendorValue = (VENDOR_MADE as Record<string, string>)[target.name];
      const args = parseRotateArgs([target.name, '--stack', STACK, '--region', 'us-east-1', ...(vendorValue ? ['--value', vendorValue] : [])]);
      printed.push(await runRotate(args, await stackStore(STACK, 'us-east-1')));
    }
    // the functions' next refresh (every SECRET_REFRESH_SECONDS in AWS): a new provider reads the secret again
    resetConfiguration();
    expect(calls).toContain('DescribeStacks');
    expect(calls).toContain('PutSecretValue');
    const NEW = { ...secret } as unknown as Values & { WATSONX_AUDIO_SECRET_LIVE: string };
    expect(secret.extra).toBe('kept');
    expect(secret.ENGAGE_VOICE_TOKEN_PREVIOUS).toBe(OLD.ENGAGE_VOICE_TOKEN);
    expect(printed.join('\n')).toContain(`https://api.example.com/engage-voice?token=${NEW.ENGAGE_VOICE_TOKEN}`);
    before.push(...await statuses(OLD, LIVE_OLD), ...await statuses(NEW, NEW.WATSONX_AUDIO_SECRET_LIVE));
    expect(before.filter((s) => s !== 200)).toEqual([]);

    for (const target of TARGETS) await runRotate(parseRotateArgs([target.name, '--stack', STACK, '--finish']), await stackStore(STACK, 'us-east-1'));
    resetConfiguration();
    expect(Object.keys(secret).sort()).toEqual([...SECRET_NAMES, 'extra'].sort());
    for (const target of TARGETS) expect(secret[`${target.name}_PREVIOUS`], target.name).toBe('');
    expect(await statuses(NEW, NEW.WATSONX_AUDIO_SECRET_LIVE)).toEqual([200, 200, 200, 200, 200]);
    expect(await statuses(OLD, LIVE_OLD)).toEqual([401, 401, 401, 401, 401]);
  });
});
