import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as v from 'valibot';
import type { Secrets } from '#shared/config';
import type { FunctionName } from './api-gateway.ts';
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

export const SAMPLES = {
  'watsonx': { functionName: 'audio-webhook', eventFile: 'watsonx-recording.json', build: watsonx('metadata.json', 'mulaw') },
  'watsonx-wav': { functionName: 'audio-webhook', eventFile: 'watsonx-recording-wav.json', build: watsonx('metadata-wav.json', 'wav') },
  'watsonx-2': { functionName: 'audio-webhook', eventFile: 'watsonx-recording-2.json', build: watsonx('metadata-2.json', 'mulaw') },
  'volubile': {
    functionName: 'call-completed',
    eventFile: 'volubile-call-completed.json',
    build: async (opts) => {
      let body = read(opts, 'volubile', 'call-completed.json');
      if (opts.fresh) body = reserialize({ ...v.parse(VolubileIds, json(body)), id: randomUUID() });
      return volubileRequest(body, { secret: opts.secrets.VOLUBILE_WEBHOOK_SECRET, token: opts.secrets.VOLUBILE_WEBHOOK_TOKEN });
    },
  },
  'synthflow': {
    functionName: 'call-completed',
    eventFile: 'synthflow-call-completed.json',
    build: async (opts) => {
      let body = read(opts, 'synthflow', 'call-completed.json');
      if (opts.fresh) {
        const payload = v.parse(SynthflowIds, json(body));
        body = reserialize({ ...payload, call: { ...payload.call, call_id: freshSynthflowCallId() } });
      }
      return synthflowRequest(body, { secret: opts.secrets.SYNTHFLOW_WEBHOOK_SECRET, token: opts.secrets.SYNTHFLOW_WEBHOOK_TOKEN });
    },
  },
  'engage-voice': { functionName: 'engage-voice', eventFile: 'engage-voice-json.json', build: engage('agent-termination.json', 'json') },
  'engage-voice-form': { functionName: 'engage-voice', eventFile: 'engage-voice-form.json', build: engage('agent-termination-form.json', 'form') },
  'engage-voice-get': { functionName: 'engage-voice', eventFile: 'engage-voice-get.json', build: engage('agent-termination-get.json', 'get') },
  'engage-voice-transfer': { functionName: 'engage-voice', eventFile: 'engage-voice-transfer.json', build: engage('agent-termination-transfer.json', 'json') },
  'vapi': { functionName: 'call-completed', eventFile: 'vapi-end-of-call-report.json', build: vapiMessage('end-of-call-report.json') },
  'vapi-status-update': { functionName: 'call-completed', eventFile: 'vapi-status-update.json', build: vapiMessage('status-update.json') },
} as const satisfies Record<string, Sample>;

export type SampleName = keyof typeof SAMPLES;
export const SAMPLE_NAMES = Object.keys(SAMPLES) as SampleName[];

export function isSampleName(value: string): value is SampleName {
  return Object.hasOwn(SAMPLES, value);
}
