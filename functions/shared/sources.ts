/**
 * The source registry: every fact about a source, declared once. The stack
 * (routes, S3 write grants, outputs, secret keys), local mode (routes,
 * generated secrets, banner), reindex, replay, `npm run urls` and the inbox
 * read these entries; none of them lists sources of its own.
 *
 * Pure data: no imports at run time, so infra/, local/, scripts/ and every
 * handler can load it without building anything. What is code stays beside
 * its handler and is looked up by source name, the compiler insisting that
 * every source has one:
 * - the adapter (interpreter): functions/call-completed/providers/ for the
 *   `call-completed` sources, the audio-webhook and engage-voice handlers' own
 *   interpret.ts for the others;
 * - the recording fetcher of a source with `recordings`: functions/recordings/sources.ts;
 * - the sender side (how a sample is signed for replay): lib/samples.ts.
 */

/** A folder under functions/ with a handler.ts; one Lambda function each. */
export type HandlerName = 'audio-webhook' | 'call-completed' | 'engage-voice';
export const HANDLER_NAMES = ['audio-webhook', 'call-completed', 'engage-voice'] as const satisfies readonly HandlerName[];

/**
 * How a credential is presented, which decides where the banner and
 * `npm run urls` show it: a URL token goes into the URL (`?token=` or an
 * `X-Webhook-Token` header); the others are pasted into their own field.
 */
export type CredentialRole =
  /** Signs a JWT the vendor sends (we make it; the user pastes it). */
  | 'jwt-secret'
  /** `?token=` / X-Webhook-Token. */
  | 'url-token'
  /** A header credential we make (Vapi's Bearer Token credential). */
  | 'header-token'
  /** An HMAC secret the vendor's console makes (or the user chooses there): never generated. */
  | 'signing-secret'
  /** HTTP Basic `user:password`. */
  | 'basic';

export interface CredentialDeclaration {
  /** Environment variable and key of the stack's secret. */
  readonly name: string;
  readonly role: CredentialRole;
  /** Shown beside it in the banner and `npm run urls`. */
  readonly label: string;
  /** For a credential only the vendor can make: what to do there first (`npm run urls`). */
  readonly vendorStep?: string;
  /** `npm run rotate`: what the user does in the vendor's console with the new value. */
  readonly rotate: string;
  /** The `npm run rotate` argument that selects it, when not the source name (watsonx's live environment). */
  readonly rotateAs?: string;
}

export interface SampleDeclaration {
  /** `npm run replay -- <name>`. */
  readonly name: string;
  /** API Gateway event under events/ (`sam local invoke -e`, `npm run invoke`), written by `npm run events`. */
  readonly event: string;
  /** The vendor's body under events/payloads/. */
  readonly payload: string;
  /** How the sender side frames it, when a source has several (multipart µ-law or WAV; JSON, form or GET). */
  readonly variant?: string;
}

export interface SourceDeclaration {
  /** The vendor's name as a user knows it. */
  readonly title: string;
  /** What the vendor's console calls the thing the URL goes into. */
  readonly console: string;
  readonly handler: HandlerName;
  /** The route: exactly this path (HTTP API `ANY <path>`; the handler answers 405 to other methods). */
  readonly path: string;
  readonly methods: readonly ('GET' | 'POST')[];
  /**
   * What one index item is: the call, one recording of it (watsonx sends each recording
   * on its own) or one agent segment (Engage Voice fires per segment). `calls show` and the
   * inbox list a call's items unless each call is one item.
   */
  readonly item: 'call' | 'recording' | 'segment';
  /** Stack output holding the endpoint URL. */
  readonly output: string;
  /**
   * Inbound credentials, in the secret's key order. A request must pass every
   * one that is configured; a source with none configured refuses everything.
   */
  readonly credentials: readonly CredentialDeclaration[];
  /**
   * The credential made for the user: by the stack's secret filler when the
   * key is empty, and by `npm start` when — with `unless` — none of those
   * checks is configured (without `unless`: whenever it is unset).
   */
  readonly generate?: { readonly name: string; readonly unless?: readonly string[] };
  /** Settings kept in the secret beside the credentials they bind (watsonx environment ids). */
  readonly bindings?: readonly string[];
  readonly archive: {
    /** Raw bodies: `<raw><yyyy>/<mm>/<dd>/<callId>/<sha256>.<ext>`. */
    readonly raw: string;
    readonly extensions: readonly string[];
    /** Audio the webhook handler itself writes (the recordings worker's prefix comes from `recordings`). */
    readonly audio: readonly string[];
  };
  /**
   * Recordings the vendor holds, copied by the recordings worker into
   * `audio/<source>/` with the fetcher in functions/recordings/sources.ts;
   * `credentials`: the outbound secrets that fetcher presents.
   */
  readonly recordings?: { readonly credentials: readonly string[] };
  /**
   * The vendor sends each delivery once and never retries it. Once its bytes
   * are in the archive, an index write that fails is answered 2xx `archived`
   * (counted as IndexWriteFailed, which pages; the runbook's answer is a
   * reindex) rather than a 503 nobody would act on.
   */
  readonly deliveredOnce?: true;
  /** How to fill in the vendor's console (`npm run urls`), one line each. */
  readonly setup: readonly string[];
  readonly samples: readonly SampleDeclaration[];
}

export const SOURCE_REGISTRY = {
  'watsonx': {
    title: 'watsonx audio webhook',
    console: 'IBM watsonx Assistant — phone integration, audio webhook (record step)',
    handler: 'audio-webhook',
    path: '/audio-webhook',
    methods: ['POST'],
    item: 'recording',
    output: 'AudioWebhookUrl',
    credentials: [
      { name: 'WATSONX_AUDIO_SECRET', role: 'jwt-secret', label: 'secret', rotate: 'watsonx Assistant, Draft environment (or your only one) → Settings → phone integration → audio webhook: replace the Secret with' },
      { name: 'WATSONX_AUDIO_SECRET_LIVE', role: 'jwt-secret', label: 'live environment secret', rotateAs: 'watsonx-live', rotate: 'watsonx Assistant, Live environment → Settings → phone integration → audio webhook: replace the Secret with' },
    ],
    generate: { name: 'WATSONX_AUDIO_SECRET' },
    bindings: ['WATSONX_DRAFT_ENVIRONMENT_ID', 'WATSONX_LIVE_ENVIRONMENT_ID'],
    archive: { raw: 'raw/watsonx/', extensions: ['json'], audio: ['audio/watsonx/'] },
    setup: ['Signs:   Authorization: Bearer <JWT>, HMAC (HS256/384/512) with the secret above'],
    samples: [
      { name: 'watsonx', event: 'watsonx-recording.json', payload: 'watsonx/metadata.json', variant: 'mulaw' },
      { name: 'watsonx-wav', event: 'watsonx-recording-wav.json', payload: 'watsonx/metadata-wav.json', variant: 'wav' },
      { name: 'watsonx-2', event: 'watsonx-recording-2.json', payload: 'watsonx/metadata-2.json', variant: 'mulaw' },
    ],
  },
  'volubile': {
    title: 'Volubile',
    console: 'Volubile — call-completed webhook',
    handler: 'call-completed',
    path: '/call-completed/volubile',
    methods: ['POST'],
    item: 'call',
    output: 'VolubileWebhookUrl',
    credentials: [
      { name: 'VOLUBILE_WEBHOOK_SECRET', role: 'signing-secret', label: 'signature secret (X-Webhook-Signature)', vendorStep: 'enable webhook signing in Volubile', rotate: 'Volubile → webhook signing: the new secret you gave with --value is now accepted beside the old one; switch Volubile to it' },
      { name: 'VOLUBILE_WEBHOOK_TOKEN', role: 'url-token', label: 'URL token', rotate: 'Volubile → the agent\'s webhook: replace the URL with' },
    ],
    generate: { name: 'VOLUBILE_WEBHOOK_TOKEN', unless: ['VOLUBILE_WEBHOOK_SECRET', 'VOLUBILE_WEBHOOK_TOKEN'] },
    archive: { raw: 'raw/volubile/', extensions: ['json'], audio: [] },
    setup: ['Signs:   X-Webhook-Signature: lowercase hex HMAC-SHA256(secret, raw body)'],
    samples: [{ name: 'volubile', event: 'volubile-call-completed.json', payload: 'volubile/call-completed.json' }],
  },
  'synthflow': {
    title: 'Synthflow',
    console: 'Synthflow — post-call webhook',
    handler: 'call-completed',
    path: '/call-completed/synthflow',
    methods: ['POST'],
    item: 'call',
    output: 'SynthflowWebhookUrl',
    credentials: [
      { name: 'SYNTHFLOW_WEBHOOK_SECRET', role: 'signing-secret', label: 'signature secret (X-Synthflow-Signature)', vendorStep: 'generate a webhook secret in Synthflow', rotate: 'Synthflow → Settings → Security → Webhooks: the secret key you gave with --value is now accepted beside the old one' },
      { name: 'SYNTHFLOW_WEBHOOK_TOKEN', role: 'url-token', label: 'URL token', rotate: 'Synthflow → the agent\'s post-call webhook: replace the URL with' },
    ],
    // Only the token counts: the signature covers call_id, not the body, so the token is always required.
    generate: { name: 'SYNTHFLOW_WEBHOOK_TOKEN', unless: ['SYNTHFLOW_WEBHOOK_TOKEN'] },
    archive: { raw: 'raw/synthflow/', extensions: ['json'], audio: [] },
    recordings: { credentials: ['SYNTHFLOW_API_KEY'] },
    setup: ['Signs:   Synthflow-Signature: base64 HMAC-SHA256(secret, call.call_id)'],
    samples: [{ name: 'synthflow', event: 'synthflow-call-completed.json', payload: 'synthflow/call-completed.json' }],
  },
  'engage-voice': {
    title: 'Engage Voice',
    console: 'RingCentral Engage Voice (RingCX) — web service, e.g. on Agent Termination',
    handler: 'engage-voice',
    path: '/engage-voice',
    methods: ['GET', 'POST'],
    item: 'segment',
    output: 'EngageVoiceWebhookUrl',
    credentials: [
      { name: 'ENGAGE_VOICE_TOKEN', role: 'url-token', label: 'URL token', rotate: 'Engage Voice (RingCX) admin → the web service: replace the URL (keep its #tag# parameters) with' },
      { name: 'ENGAGE_VOICE_BASIC_AUTH', role: 'basic', label: 'HTTP Basic credentials', rotate: 'Engage Voice (RingCX) admin → the web service: replace the HTTP Basic user and password with' },
    ],
    generate: { name: 'ENGAGE_VOICE_TOKEN', unless: ['ENGAGE_VOICE_TOKEN', 'ENGAGE_VOICE_BASIC_AUTH'] },
    archive: { raw: 'raw/engage-voice/', extensions: ['json', 'form'], audio: [] },
    recordings: { credentials: ['ENGAGE_VOICE_RECORDING_AUTH'] },
    setup: [
      'Method:  POST (JSON or form) or GET; map fields with #tags#, e.g. uii=#uii#&agent_id=#agent_id#&ani=#ani#&dnis=#dnis#&call_start=#call_start#&duration=#duration#',
      'Signs:   nothing; the URL token (and Basic credentials when set) authenticate',
    ],
    samples: [
      { name: 'engage-voice', event: 'engage-voice-json.json', payload: 'engage-voice/agent-termination.json', variant: 'json' },
      { name: 'engage-voice-form', event: 'engage-voice-form.json', payload: 'engage-voice/agent-termination-form.json', variant: 'form' },
      { name: 'engage-voice-get', event: 'engage-voice-get.json', payload: 'engage-voice/agent-termination-get.json', variant: 'get' },
      { name: 'engage-voice-transfer', event: 'engage-voice-transfer.json', payload: 'engage-voice/agent-termination-transfer.json', variant: 'json' },
    ],
  },
  'vapi': {
    title: 'Vapi',
    console: 'Vapi — assistant (or phone number) Server URL, end-of-call-report server message',
    handler: 'call-completed',
    path: '/call-completed/vapi',
    methods: ['POST'],
    item: 'call',
    deliveredOnce: true,
    output: 'VapiWebhookUrl',
    credentials: [
      { name: 'VAPI_WEBHOOK_SECRET', role: 'signing-secret', label: 'HMAC credential secret (x-vapi-signature)', vendorStep: 'create an HMAC credential in Vapi', rotate: 'Vapi → the HMAC credential: the secret you gave with --value is now accepted beside the old one; switch the credential to it' },
      { name: 'VAPI_WEBHOOK_TOKEN', role: 'header-token', label: 'Bearer Token credential', rotate: 'Vapi → the Bearer Token credential: replace the token with' },
    ],
    // Pasted into Vapi's Bearer Token credential; the HMAC secret is typed into Vapi's console, so never generated.
    generate: { name: 'VAPI_WEBHOOK_TOKEN', unless: ['VAPI_WEBHOOK_SECRET', 'VAPI_WEBHOOK_TOKEN'] },
    archive: { raw: 'raw/vapi/', extensions: ['json'], audio: [] },
    // Recording URLs behind the private API key (authenticated 302 endpoints).
    recordings: { credentials: ['VAPI_API_KEY'] },
    setup: [
      'Signs:   an HMAC credential: x-vapi-signature, hex HMAC-SHA256(secret, raw body; with x-vapi-timestamp: "<timestamp>.<raw body>")',
      '         or a Bearer Token credential: Authorization: Bearer <token> (or the legacy X-Vapi-Secret header)',
    ],
    samples: [
      { name: 'vapi', event: 'vapi-end-of-call-report.json', payload: 'vapi/end-of-call-report.json' },
      { name: 'vapi-status-update', event: 'vapi-status-update.json', payload: 'vapi/status-update.json' },
    ],
  },
} as const satisfies Record<string, SourceDeclaration>;

export type Source = keyof typeof SOURCE_REGISTRY;
export type Registry = Readonly<Record<string, SourceDeclaration>>;

export const SOURCES = Object.keys(SOURCE_REGISTRY) as Source[];

/** Sources handled by one handler, e.g. the `call-completed` providers. */
export type SourceOf<H extends HandlerName> = { [S in Source]: (typeof SOURCE_REGISTRY)[S]['handler'] extends H ? S : never }[Source];

/** Sources whose recordings the vendor holds (a fetcher in functions/recordings/sources.ts each). */
export type LinkedSource = { [S in Source]: (typeof SOURCE_REGISTRY)[S] extends { recordings: object } ? S : never }[Source];

/** Every inbound credential name of every source, in declaration order. */
export type CredentialName = (typeof SOURCE_REGISTRY)[Source]['credentials'][number]['name'];
type BindingName = NonNullable<Extract<(typeof SOURCE_REGISTRY)[Source], { bindings: unknown }>['bindings']>[number];
type OutboundName = NonNullable<Extract<(typeof SOURCE_REGISTRY)[Source], { recordings: unknown }>['recordings']>['credentials'][number];

export function isSource(value: string): value is Source {
  return Object.hasOwn(SOURCE_REGISTRY, value);
}

export function declarationOf(source: Source): SourceDeclaration {
  return SOURCE_REGISTRY[source];
}

/** [source, declaration] pairs in registry order; `registry` lets a test add a made-up source. */
export function sourceEntries(registry: Registry = SOURCE_REGISTRY): [string, SourceDeclaration][] {
  return Object.entries(registry);
}

export const CREDENTIAL_NAMES = SOURCES.flatMap((s) => SOURCE_REGISTRY[s].credentials.map((c) => c.name)) as CredentialName[];
export const BINDING_NAMES = SOURCES.flatMap((s) => declarationOf(s).bindings ?? []) as BindingName[];
export const OUTBOUND_NAMES = SOURCES.flatMap((s) => declarationOf(s).recordings?.credentials ?? []) as OutboundName[];

/** Keys the stack's secret filler generates when empty: every source's `generate`. */
export function generatedNames(registry: Registry = SOURCE_REGISTRY): string[] {
  return sourceEntries(registry).flatMap(([, d]) => (d.generate ? [d.generate.name] : []));
}

/** S3 prefixes a handler may write (`raw/<source>/*`, `audio/watsonx/*`): one grant each. */
export function writePrefixesOf(handler: HandlerName, registry: Registry = SOURCE_REGISTRY): string[] {
  return sourceEntries(registry)
    .filter(([, d]) => d.handler === handler)
    .flatMap(([, d]) => [...d.archive.audio, d.archive.raw].map((p) => `${p}*`));
}

/** Routes (paths) a handler serves, in registry order. */
export function pathsOf(handler: HandlerName, registry: Registry = SOURCE_REGISTRY): string[] {
  return sourceEntries(registry).filter(([, d]) => d.handler === handler).map(([, d]) => d.path);
}

/** Event files under events/ meant for a handler. */
export function eventsOf(handler: HandlerName, registry: Registry = SOURCE_REGISTRY): string[] {
  return sourceEntries(registry).filter(([, d]) => d.handler === handler).flatMap(([, d]) => d.samples.map((s) => s.event));
}

/** The source a request path is for (exact match: API Gateway does not match trailing slashes either). */
export function sourceOfPath(path: string, registry: Registry = SOURCE_REGISTRY): string | undefined {
  return sourceEntries(registry).find(([, d]) => d.path === path)?.[0];
}

/** Sources whose vendor-held recordings the worker copies, and so whose `audio/<source>/` it may write. */
export function linkedSourcesOf(registry: Registry = SOURCE_REGISTRY): string[] {
  return sourceEntries(registry).filter(([, d]) => d.recordings !== undefined).map(([s]) => s);
}
export const LINKED_SOURCES = linkedSourcesOf() as LinkedSource[];

/** Handlers that queue vendor recordings: those serving a source with `recordings`. */
export function recordingSendersOf(registry: Registry = SOURCE_REGISTRY): HandlerName[] {
  return HANDLER_NAMES.filter((h) => sourceEntries(registry).some(([, d]) => d.handler === h && d.recordings !== undefined));
}

/**
 * Every key of the stack's secret (and local variable) in a fixed order:
 * credentials, their `_PREVIOUS` values, bindings, outbound credentials.
 */
export function secretKeysOf(registry: Registry = SOURCE_REGISTRY): string[] {
  const entries = sourceEntries(registry);
  const credentials = entries.flatMap(([, d]) => d.credentials.map((c) => c.name));
  return [
    ...credentials,
    ...credentials.map((n) => `${n}_PREVIOUS`),
    ...entries.flatMap(([, d]) => d.bindings ?? []),
    ...entries.flatMap(([, d]) => d.recordings?.credentials ?? []),
  ];
}
