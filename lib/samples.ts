import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as v from 'valibot';
import type { Secrets } from '#shared/config';
import { declarationOf, SOURCES, type HandlerName as FunctionName, type SampleDeclaration, type Source, type SOURCE_REGISTRY } from '#shared/sources';
import {
  engageVoiceRequest, synthflowRequest, vapiRequest, volubileRequest, watsonxRequest,
  type EngageVariant, type OutgoingRequest,
} from './requests.ts';

/**
 * The sample deliveries built from the vendor fixtures in events/payloads/:
 * one per generated event file, and the names `npm run replay` accepts.
 * `fresh` gives the sample new call ids, so it is a new call, not a duplicate.
 * Each sample is its own call (its own fixture), apart from the ones meant to
 * share one (a second recording of a session, a transfer's second segment):
 * the same segment in another encoding would tie on version and be answered
 * `stale` (or replace the first) by the digest tie-break.
 */

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const PAYLOADS_DIR = join(PROJECT_ROOT, 'events', 'payloads');
export const EVENTS_DIR = join(PROJECT_ROOT, 'events');

export interface BuildOptions {
  secrets: Secrets;
  fresh?: boolean;
  now?: Date;
  payloadsDir?: string;
  /**
   * watsonx JWT lifetime in seconds (default a few hours); `null`: no `exp`,
   * for the committed sample events, which must work on a clone made any day.
   */
  jwtTtlSeconds?: number | null;
}

export interface Sample {
  source: Source;
  functionName: FunctionName;
  /** File name under events/ of the generated API Gateway event. */
  eventFile: string;
  build(opts: BuildOptions): Promise<OutgoingRequest>;
}

const JsonObject = v.looseObject({});
const WatsonxIds = v.looseObject({ session_id: v.string(), recording_id: v.string() });
const VolubileIds = v.looseObject({ id: v.string() });
const SynthflowIds = v.looseObject({ call: v.looseObject({ call_id: v.string() }) });
const EngageFields = v.record(v.string(), v.string());
const VapiIds = v.looseObject({ message: v.looseObject({ call: v.looseObject({ id: v.string() }) }) });

function read(opts: BuildOptions, ...parts: string[]): Buffer {
  return readFileSync(join(opts.payloadsDir ?? PAYLOADS_DIR, ...parts));
}

function json(bytes: Buffer): unknown {
  return JSON.parse(bytes.toString('utf8'));
}

function reserialize(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(v.parse(JsonObject, value), null, 2) + '\n');
}

export function freshEngageUii(): string {
  let s = String(randomInt(1, 10));
  while (s.length < 30) s += String(randomInt(0, 10));
  return s;
}

export function freshSynthflowCallId(): string {
  return `${Date.now()}x${String(randomInt(0, 1e9)).padStart(9, '0')}${String(randomInt(0, 1e9)).padStart(9, '0')}`;
}

function watsonx(metadataFile: string, variant: 'mulaw' | 'wav'): Sample['build'] {
  return async (opts) => {
    let metadata = read(opts, 'watsonx', metadataFile);
    if (opts.fresh) {
      const meta = v.parse(WatsonxIds, json(metadata));
      metadata = reserialize({ ...meta, session_id: randomUUID(), recording_id: randomUUID() });
    }
    const audio = read(opts, 'watsonx', variant === 'wav' ? 'recording.wav' : 'recording.ulaw');
    return watsonxRequest({ metadata, audio, variant }, opts.secrets.WATSONX_AUDIO_SECRET, opts.now, opts.jwtTtlSeconds);
  };
}

function engage(file: string, variant: EngageVariant): Sample['build'] {
  return async (opts) => {
    let bytes = read(opts, 'engage-voice', file);
    let fields = v.parse(EngageFields, json(bytes));
    if (opts.fresh) {
      fields = { ...fields, uii: freshEngageUii() };
      bytes = reserialize(fields);
    }
    return engageVoiceRequest(fields, variant, { token: opts.secrets.ENGAGE_VOICE_TOKEN, basic: opts.secrets.ENGAGE_VOICE_BASIC_AUTH }, bytes);
  };
}

/** Vapi: saved events are signed over the body alone (no timestamp) so `sam local invoke` can replay them later; a live replay signs `<timestamp>.<body>`. */
function vapiMessage(file: string): Sample['build'] {
  return async (opts) => {
    let body = read(opts, 'vapi', file);
    if (opts.fresh) {
      const payload = v.parse(VapiIds, json(body));
      body = reserialize({ ...payload, message: { ...payload.message, call: { ...payload.message.call, id: randomUUID() } } });
    }
    return vapiRequest(body, { secret: opts.secrets.VAPI_WEBHOOK_SECRET, token: opts.secrets.VAPI_WEBHOOK_TOKEN }, opts.fresh ? (opts.now ?? new Date()) : undefined);
  };
}

/** Payload file under events/payloads/: `<dir>/<file>` as the registry names it. */
function payloadParts(sample: SampleDeclaration): [string, string] {
  const [dir = '', file = ''] = sample.payload.split('/');
  return [dir, file];
}

/**
 * The sender side of each source: how its samples are framed and signed, as
 * the vendor would. The registry says which samples there are
 * (functions/shared/sources.ts); the compiler wants one sender per source.
 */
const SENDERS: Record<Source, (sample: SampleDeclaration) => Sample['build']> = {
  'watsonx': (sample) => watsonx(payloadParts(sample)[1], sample.variant === 'wav' ? 'wav' : 'mulaw'),
  'volubile': (sample) => async (opts) => {
    let body = read(opts, ...payloadParts(sample));
    if (opts.fresh) body = reserialize({ ...v.parse(VolubileIds, json(body)), id: randomUUID() });
    return volubileRequest(body, { secret: opts.secrets.VOLUBILE_WEBHOOK_SECRET, token: opts.secrets.VOLUBILE_WEBHOOK_TOKEN });
  },
  'synthflow': (sample) => async (opts) => {
    let body = read(opts, ...payloadParts(sample));
    if (opts.fresh) {
      const payload = v.parse(SynthflowIds, json(body));
      body = reserialize({ ...payload, call: { ...payload.call, call_id: freshSynthflowCallId() } });
    }
    return synthflowRequest(body, { secret: opts.secrets.SYNTHFLOW_WEBHOOK_SECRET, token: opts.secrets.SYNTHFLOW_WEBHOOK_TOKEN });
  },
  'engage-voice': (sample) => engage(payloadParts(sample)[1], v.parse(v.picklist(['json', 'form', 'get']), sample.variant ?? 'json')),
  'vapi': (sample) => vapiMessage(payloadParts(sample)[1]),
};

/** `npm run replay -- <name>`: every sample the registry declares. */
export type SampleName = (typeof SOURCE_REGISTRY)[Source]['samples'][number]['name'];

/** Every sample of every source, by its `npm run replay` name. */
export const SAMPLES = Object.fromEntries(SOURCES.flatMap((source) =>
  declarationOf(source).samples.map((sample) => [sample.name, {
    source,
    functionName: declarationOf(source).handler,
    eventFile: sample.event,
    build: SENDERS[source](sample),
  }] as const))) as Readonly<Record<SampleName, Sample>>;

export const SAMPLE_NAMES = Object.keys(SAMPLES) as SampleName[];

export function isSampleName(value: string): value is SampleName {
  return Object.hasOwn(SAMPLES, value);
}
