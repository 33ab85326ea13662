import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SECRET_NAMES } from '#shared/config';
import { rawKeyFor } from '#shared/keys';
import {
  LINKED_SOURCES, SOURCES, SOURCE_REGISTRY, declarationOf, generatedNames, sourceOfPath, writePrefixesOf,
  type Registry, type SourceDeclaration,
} from '#shared/sources';
import { readStackConfig, stackName } from '../../infra/config.ts';
import { REPO_ROOT } from '../../infra/functions.ts';
import { GENERATED } from '../../infra/secret.ts';
import { WebhooksStack } from '../../infra/stack.ts';
import { PROVIDERS } from '../../functions/call-completed/providers/index.ts';
import { STRATEGIES } from '../../functions/recordings/sources.ts';
import { matchRoute, toApiGatewayEvent } from '../../lib/api-gateway.ts';
import { renderBanner } from '../../lib/banner.ts';
import { decideSecrets } from '../../lib/local-secrets.ts';
import { startAfterFor } from '../../lib/reindex/archive.ts';
import { SAMPLES } from '../../lib/samples.ts';

/**
 * "Adding a vendor is its adapter file plus one registry entry": for every
 * source in functions/shared/sources.ts, each place that serves it — the
 * synthesized stack, local mode, replay, sam events, reindex — does (`npm run
 * urls` and `npm run rotate`: test/scripts/),
 * and a made-up source given to the stack gets its route, grant, output and
 * secret keys with no other edit.
 */

type Json = Record<string, unknown>;
type Resources = Record<string, { Type: string; Properties?: Json }>;

function synth(sources?: Registry): { template: Template; resources: Resources; outputs: Record<string, Json> } {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'cdk-registry-')), context: { 'aws:cdk:bundling-stacks': [] } });
  const config = readStackConfig(app.node);
  const stack = new WebhooksStack(app, stackName(config.stage), { config, ...(sources ? { sources } : {}) });
  const template = Template.fromStack(stack);
  const json = template.toJSON() as { Resources: Resources; Outputs: Record<string, Json> };
  return { template, resources: json.Resources, outputs: json.Outputs };
}

/** Route key → the logical id of the function its integration invokes. */
function routes(resources: Resources): Map<string, string> {
  const integrationTarget = new Map<string, string>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::ApiGatewayV2::Integration') continue;
    const fn = /"Fn::GetAtt":\["([A-Za-z0-9]+)","Arn"\]/.exec(JSON.stringify(r.Properties?.IntegrationUri));
    if (fn?.[1]) integrationTarget.set(id, fn[1]);
  }
  const out = new Map<string, string>();
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::ApiGatewayV2::Route') continue;
    const target = /integrations\/","?\{"Ref":"([A-Za-z0-9]+)"\}/.exec(JSON.stringify(r.Properties?.Target));
    out.set(String(r.Properties?.RouteKey), integrationTarget.get(target?.[1] ?? '') ?? '');
  }
  return out;
}

/** S3 object patterns (`raw/vapi/*`) a function's role may s3:PutObject, by the function's construct id (`CallCompleted`). */
function putPrefixes(resources: Resources, functionId: string): string[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles).includes(`"Ref":"${functionId}Role`))
    .flatMap((r) => (r.Properties?.PolicyDocument as { Statement: Json[] }).Statement)
    .filter((st) => [st.Action].flat().includes('s3:PutObject'))
    .flatMap((st) => [st.Resource].flat())
    .map((res) => /"\/([^"]+)"\]\]/.exec(JSON.stringify(res))?.[1] ?? '');
}

function secretFillerKeys(resources: Resources): { generated: string[]; empty: string[] } {
  const filler = Object.values(resources).find((r) => r.Type === 'Custom::WebhookSecretFiller');
  return { generated: filler?.Properties?.GeneratedKeys as string[], empty: filler?.Properties?.EmptyKeys as string[] };
}

const FUNCTION_ID: Record<SourceDeclaration['handler'], string> = { 'audio-webhook': 'AudioWebhook', 'call-completed': 'CallCompleted', 'engage-voice': 'EngageVoice' };

let stack: ReturnType<typeof synth>;
beforeAll(() => {
  stack = synth();
}, 120_000);

describe.each(SOURCES.map((s) => [s, declarationOf(s)] as const))('source %s', (source, d) => {
  it('the stack has its route on its handler\'s function, a PutObject grant on its archive prefixes, its URL output', () => {
    const fnId = routes(stack.resources).get(`ANY ${d.path}`);
    expect(fnId, `route ANY ${d.path}`).toMatch(new RegExp(`^${FUNCTION_ID[d.handler]}Function`));
    const prefixes = putPrefixes(stack.resources, FUNCTION_ID[d.handler]);
    for (const prefix of [d.archive.raw, ...d.archive.audio]) expect(prefixes).toContain(`${prefix}*`);
    expect(JSON.stringify(stack.outputs[d.output]?.Value)).toContain(`${d.path}"`);
  });

  it('the stack\'s secret holds each of its credentials, and the one it generates is generated', () => {
    const keys = secretFillerKeys(stack.resources);
    for (const c of d.credentials) {
      expect([...keys.generated, ...keys.empty]).toContain(c.name);
      expect([...keys.generated, ...keys.empty]).toContain(`${c.name}_PREVIOUS`);
    }
    if (d.generate) expect(keys.generated).toContain(d.generate.name);
    for (const c of d.credentials.filter((x) => x.role === 'signing-secret')) expect(keys.generated).not.toContain(c.name);
  });

  it('local mode routes it to the same handler and supplies its generated credential; the banner prints its URL', () => {
    expect(matchRoute(d.path)).toEqual({ functionName: d.handler, routeKey: `ANY ${d.path}`, source });
    expect(toApiGatewayEvent({ method: 'POST', target: d.path, headers: [] }).routeKey).toBe(`ANY ${d.path}`);
    const { apply } = decideSecrets({}, {}, () => 'generated-value');
    if (d.generate) expect(apply).toHaveProperty(d.generate.name, 'generated-value');
    const banner = renderBanner({
      baseUrl: 'http://127.0.0.1:3000', env: {}, generated: apply, dataDir: '/d', bucketName: 'b', tableName: 't',
      s3Endpoint: 'http://127.0.0.1:4569', dynamoEndpoint: 'http://127.0.0.1:4567',
    });
    expect(banner).toContain(`http://127.0.0.1:3000${d.path}`);
    expect(banner).toContain(`npm run replay -- ${source}`);
  });

  it('has a replay sample, a committed sam local invoke event on its route, and a vendor payload for each sample', () => {
    expect(d.samples.map((s) => s.name)).toContain(source);
    for (const sample of d.samples) {
      expect(SAMPLES[sample.name as keyof typeof SAMPLES], sample.name).toMatchObject({ source, functionName: d.handler, eventFile: sample.event });
      expect(existsSync(join(REPO_ROOT, 'events', 'payloads', sample.payload)), sample.payload).toBe(true);
      const event = JSON.parse(readFileSync(join(REPO_ROOT, 'events', sample.event), 'utf8')) as { routeKey: string; rawPath: string };
      expect(event).toMatchObject({ routeKey: `ANY ${d.path}`, rawPath: d.path });
    }
  });

  it('reindex lists its archive where the handler writes it', () => {
    const key = rawKeyFor(source, 'call-1', '2026-03-04T05:06:07Z', 'f'.repeat(64), d.archive.extensions[0] ?? 'json');
    expect(key.startsWith(d.archive.raw)).toBe(true);
    expect(startAfterFor(source, '2026-03-04')).toBe(`${d.archive.raw}2026/03/04`);
  });

  it('has its adapter, and a recording fetcher when the vendor holds its recordings', () => {
    if (d.handler === 'call-completed') {
      expect(PROVIDERS.get(source)?.source).toBe(source);
      // The adapter checks exactly the credentials the registry declares (and the stack and local mode provide).
      expect([...(PROVIDERS.get(source)?.authVariables ?? [])].sort()).toEqual(d.credentials.map((c) => c.name).sort());
    }
    expect((LINKED_SOURCES as readonly string[]).includes(source)).toBe(d.recordings !== undefined);
    if (d.recordings) expect(Object.keys(STRATEGIES)).toContain(source);
  });
});

describe('the registry', () => {
  it('is the only list: secret names, generated keys and routes are read from it', () => {
    expect(SECRET_NAMES).toEqual(expect.arrayContaining(SOURCES.flatMap((s) => declarationOf(s).credentials.map((c) => c.name))));
    expect([...GENERATED]).toEqual(generatedNames());
    const keys = [...routes(stack.resources).keys()].sort();
    expect(keys).toEqual(SOURCES.map((s) => `ANY ${declarationOf(s).path}`).sort());
    expect(new Set(SOURCES.map((s) => declarationOf(s).path)).size).toBe(SOURCES.length);
    expect(new Set(SOURCES.map((s) => declarationOf(s).output)).size).toBe(SOURCES.length);
  });

  it('gives each source its own raw prefix, raw/<source>/, so no grant or listing covers another source', () => {
    for (const s of SOURCES) expect(declarationOf(s).archive.raw).toBe(`raw/${s}/`);
  });
});

describe('a made-up vendor added to the registry', () => {
  const acme: SourceDeclaration = {
    title: 'Acme Voice',
    console: 'Acme Voice — call webhook',
    handler: 'call-completed',
    path: '/call-completed/acme',
    item: 'call',
    methods: ['POST'],
    output: 'AcmeWebhookUrl',
    credentials: [
      { name: 'ACME_WEBHOOK_SECRET', role: 'signing-secret', label: 'signature secret', vendorStep: 'create one in Acme', rotate: 'Acme → webhooks: switch to the new secret' },
      { name: 'ACME_WEBHOOK_TOKEN', role: 'url-token', label: 'URL token', rotate: 'Acme → webhooks: replace the URL with' },
    ],
    generate: { name: 'ACME_WEBHOOK_TOKEN', unless: ['ACME_WEBHOOK_SECRET', 'ACME_WEBHOOK_TOKEN'] },
    archive: { raw: 'raw/acme/', extensions: ['json'], audio: [] },
    setup: [],
    samples: [],
  };
  const registry: Registry = { ...SOURCE_REGISTRY, acme };

  it('gets a route, an S3 grant, an output and secret keys in the synthesized stack with no other edit', () => {
    const withAcme = synth(registry);
    expect(routes(withAcme.resources).get('ANY /call-completed/acme')).toMatch(/^CallCompletedFunction/);
    expect(putPrefixes(withAcme.resources, 'CallCompleted')).toContain('raw/acme/*');
    expect(JSON.stringify(withAcme.outputs.AcmeWebhookUrl?.Value)).toContain('/call-completed/acme"');
    const keys = secretFillerKeys(withAcme.resources);
    expect(keys.generated).toContain('ACME_WEBHOOK_TOKEN');
    expect(keys.empty).toEqual(expect.arrayContaining(['ACME_WEBHOOK_SECRET', 'ACME_WEBHOOK_SECRET_PREVIOUS', 'ACME_WEBHOOK_TOKEN_PREVIOUS']));
    // The real sources keep theirs.
    expect(routes(withAcme.resources).get('ANY /call-completed/vapi')).toMatch(/^CallCompletedFunction/);
  }, 120_000);

  it('is routed by local mode and the registry helpers alike', () => {
    expect(matchRoute('/call-completed/acme', registry)).toEqual({ functionName: 'call-completed', routeKey: 'ANY /call-completed/acme', source: 'acme' });
    expect(matchRoute('/call-completed/acme')).toBeUndefined();
    expect(sourceOfPath('/call-completed/acme', registry)).toBe('acme');
    expect(writePrefixesOf('call-completed', registry)).toContain('raw/acme/*');
    expect(generatedNames(registry)).toContain('ACME_WEBHOOK_TOKEN');
  });
});

describe('only the registry, the adapter and the sender side name a vendor', () => {
  // Code (comments stripped) outside these files must not mention Vapi: the proof that it was added by
  // its adapter, its registry entry, its sender side (how replay signs it) and its recording fetcher alone.
  const ALLOWED = new Set([
    'functions/shared/sources.ts',
    'functions/call-completed/providers/vapi.ts',
    'functions/call-completed/providers/index.ts',
    'functions/recordings/sources.ts',
    'lib/samples.ts',
    'lib/requests.ts',
  ]);
  // bench/ is left out: it measures each vendor by choice; nothing there is needed to serve one.
  const CODE_DIRS = ['functions', 'infra', 'local', 'scripts', 'lib'];

  function codeFiles(dir: string): string[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return e.name === 'node_modules' ? [] : codeFiles(path);
      return /\.(ts|js|mjs)$/.test(e.name) ? [path] : [];
    });
  }

  function withoutComments(text: string): string {
    return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  }

  /**
   * Known and stated: the recordings worker's per-vendor API base (VAPI_API_URL, like
   * SYNTHFLOW_API_URL) is threaded by name through its settings, handler, requeue tool and
   * stack construct rather than declared in the registry.
   */
  const API_BASE_SETTING = /\b(DEFAULT_)?VAPI_API_URL\b|\bvapiApiUrl\b|https:\/\/api\.vapi\.ai/g;

  /**
   * Behaviour and labels come from the entry, never from comparing a source with a name:
   * display code (lib/calls/format.ts, lib/inbox/view.ts), the stack, the tools and local mode
   * must not branch on one. Only the registry and the code that is a source's own (its adapter,
   * its handler folder, its recording fetcher, its sender side) may.
   */
  const OWN_CODE = [...ALLOWED, 'lib/traffic.ts'];
  const OWN_FOLDERS = ['functions/call-completed/providers/', 'functions/audio-webhook/', 'functions/engage-voice/'];
  function branchesOnSource(text: string): string[] {
    const names = SOURCES.map((n) => n.replace(/[-]/g, '\\-')).join('|');
    const compare = new RegExp(`\\bsource\\s*[!=]==?\\s*['"\`](${names})['"\`]|['"\`](${names})['"\`]\\s*[!=]==?\\s*[\\w.?]*\\bsource\\b|\\bsource\\b[^;\\n]*\\.(?:includes|has)\\(\\s*['"\`](${names})`, 'g');
    const cases = /switch\s*\([\w.?]*\bsource\)/.test(text) ? [...text.matchAll(new RegExp(`case\\s+['"\`](${names})['"\`]`, 'g'))] : [];
    return [...text.matchAll(compare), ...cases].map((m) => m[0]);
  }

  it('no code outside a source\'s own files branches on a source name', () => {
    const found = CODE_DIRS.flatMap((d) => codeFiles(join(REPO_ROOT, d)))
      .map((file) => relative(REPO_ROOT, file))
      .filter((file) => !OWN_CODE.includes(file) && !OWN_FOLDERS.some((f) => file.startsWith(f)))
      .flatMap((file) => branchesOnSource(withoutComments(readFileSync(join(REPO_ROOT, file), 'utf8'))).map((m) => `${file}: ${m}`));
    expect(found).toEqual([]);
  });

  it('the check sees the branches it forbids', () => {
    expect(branchesOnSource("if (call.source === 'engage-voice' || c.source !== 'watsonx') x();")).toHaveLength(2);
    expect(branchesOnSource("const a = 'vapi' === r.source;")).toHaveLength(1);
    expect(branchesOnSource("switch (call.source) { case 'synthflow': return 1; }")).toHaveLength(1);
    expect(branchesOnSource("switch (handler) { case 'engage-voice': return 1; }")).toEqual([]);
  });

  it('no other code file says "vapi"', () => {
    const naming = CODE_DIRS.flatMap((d) => codeFiles(join(REPO_ROOT, d)))
      .map((file) => relative(REPO_ROOT, file))
      .filter((file) => !ALLOWED.has(file) && /vapi/i.test(withoutComments(readFileSync(join(REPO_ROOT, file), 'utf8')).replace(API_BASE_SETTING, '')));
    expect(naming).toEqual([]);
  });
});
