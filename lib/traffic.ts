import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as v from 'valibot';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Source } from '#shared/model';
import {
  engageVoiceRequest, synthflowRequest, volubileRequest, watsonxRequest, type OutgoingRequest,
} from './requests.ts';
import { eventFromRequest } from './event.ts';
import { declarationOf, SOURCES, type HandlerName } from '#shared/sources';
import { findProvider } from '../functions/call-completed/providers/index.ts';
import { SAMPLES, isSampleName } from './samples.ts';

/**
 * Unique, correctly signed deliveries of every source, built from the vendor
 * fixtures in events/payloads/ with fresh ids (and, for ordering tests, a
 * chosen event time), signed with the clearly fake secrets of events/env.json.
 * Shared by the race, reindex and load tests and by scripts/loadtest.ts.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PAYLOADS = join(ROOT, 'events', 'payloads');

const EnvFile = v.object({ Parameters: v.record(v.string(), v.string()) });

/** The sample environment (secrets the events are signed with, time zone, region). */
export function sampleEnvironment(): Record<string, string> {
  return v.parse(EnvFile, JSON.parse(readFileSync(join(ROOT, 'events', 'env.json'), 'utf8'))).Parameters;
}

const Obj = v.looseObject({});
function fixture(...parts: string[]): Record<string, unknown> {
  return v.parse(Obj, JSON.parse(readFileSync(join(PAYLOADS, ...parts), 'utf8')));
}
const SynthflowFixture = v.looseObject({ call: v.looseObject({ call_id: v.string() }) });
const EngageFixture = v.record(v.string(), v.string());

export interface Delivery {
  source: Source;
  callId: string;
  request: OutgoingRequest;
}

export type Secrets = Record<string, string | undefined>;

/** A watsonx recording: fresh session and recording ids, `seconds` of 8 kHz µ-law (8,000 bytes/s). */
export async function watsonxDelivery(secrets: Secrets, seconds = 2, sessionId: string = randomUUID()): Promise<Delivery> {
  const base = fixture('watsonx', 'metadata.json');
  const start = Date.parse('2026-11-20T14:03:27.481Z') + randomInt(0, 86_400_000);
  const metadata = Buffer.from(JSON.stringify({
    ...base,
    session_id: sessionId,
    recording_id: randomUUID(),
    start_timestamp: new Date(start).toISOString(),
    stop_timestamp: new Date(start + seconds * 1000).toISOString(),
  }));
  const audio = randomBytes(Math.round(seconds * 8000));
  return { source: 'watsonx', callId: sessionId, request: await watsonxRequest({ metadata, audio, variant: 'mulaw' }, secrets.WATSONX_AUDIO_SECRET) };
}

/** A Volubile call; `updatedAt` (epoch ms) orders events of the same call. */
export function volubileDelivery(secrets: Secrets, id: string = randomUUID(), updatedAt?: number): Delivery {
  const body = { ...fixture('volubile', 'call-completed.json'), id, ...(updatedAt !== undefined ? { updatedAt: new Date(updatedAt).toISOString() } : {}) };
  return { source: 'volubile', callId: id, request: volubileRequest(Buffer.from(JSON.stringify(body)), { secret: secrets.VOLUBILE_WEBHOOK_SECRET, token: secrets.VOLUBILE_WEBHOOK_TOKEN }) };
}

export function freshSynthflowId(): string {
  return `${Date.now()}x${String(randomInt(0, 1e9)).padStart(9, '0')}${String(randomInt(0, 1e9)).padStart(9, '0')}`;
}

export function synthflowDelivery(secrets: Secrets, callId: string = freshSynthflowId()): Delivery {
  const base = v.parse(SynthflowFixture, fixture('synthflow', 'call-completed.json'));
  const body = { ...base, call: { ...base.call, call_id: callId } };
  return { source: 'synthflow', callId, request: synthflowRequest(Buffer.from(JSON.stringify(body)), { secret: secrets.SYNTHFLOW_WEBHOOK_SECRET, token: secrets.SYNTHFLOW_WEBHOOK_TOKEN }) };
}

export function freshUii(): string {
  let s = String(randomInt(1, 10));
  while (s.length < 30) s += String(randomInt(0, 10));
  return s;
}

/** An Engage Voice agent segment; `durationSec` orders events of the same segment (end time). */
export function engageDelivery(secrets: Secrets, uii: string = freshUii(), durationSec = 205, variant: 'json' | 'form' | 'get' = 'json'): Delivery {
  const fields = { ...v.parse(EngageFixture, fixture('engage-voice', 'agent-termination.json')), uii, duration: String(durationSec) };
  return {
    source: 'engage-voice',
    callId: uii,
    request: engageVoiceRequest(fields, variant, { token: secrets.ENGAGE_VOICE_TOKEN, basic: secrets.ENGAGE_VOICE_BASIC_AUTH }),
  };
}

/** The sources the mix builds with ordering controls of their own (ids, event times, shapes). */
const MIXERS: Partial<Record<Source, (secrets: Secrets, turn: number, audioSeconds: number) => Promise<Delivery> | Delivery>> = {
  'watsonx': (secrets, _turn, audioSeconds) => watsonxDelivery(secrets, audioSeconds),
  'volubile': (secrets) => volubileDelivery(secrets),
  'synthflow': (secrets) => synthflowDelivery(secrets),
  'engage-voice': (secrets, turn) => engageDelivery(secrets, freshUii(), 205, (['json', 'form', 'get'] as const)[turn % 3]),
};

/**
 * Any other registered call-completed source: its first registry sample with a
 * fresh call id, signed by the sender side (lib/samples.ts), its call id read
 * back by the handler's own provider. A new vendor joins the mix with no edit here.
 */
export async function registryDelivery(secrets: Secrets, source: Source): Promise<Delivery> {
  const sample = declarationOf(source).samples[0];
  const provider = findProvider(source);
  if (!sample || !isSampleName(sample.name) || !provider) throw new Error(`traffic: no sample or call-completed provider for ${source}; give it a builder in lib/traffic.ts`);
  const request = await SAMPLES[sample.name].build({ secrets, fresh: true });
  const ctx = { engageTimeZone: secrets.ENGAGE_VOICE_TIMEZONE ?? 'UTC', defaultPhoneRegion: secrets.DEFAULT_PHONE_REGION ?? 'US', receivedAt: new Date() };
  const read = provider.read ? provider.read(request.body ?? Buffer.alloc(0), ctx) : provider.interpret(request.body ?? Buffer.alloc(0), ctx);
  if ('notACall' in read) throw new Error(`traffic: the first ${source} sample is not a call`);
  return { source, callId: read.call.callId, request };
}

/** The source of the i-th delivery of a mix: every registered source in turn. */
export function mixedSourceOf(i: number): Source {
  return SOURCES[i % SOURCES.length]!;
}

/** A mixed unique delivery: every registered source in turn, Engage Voice in its three request shapes. */
export async function mixedDelivery(secrets: Secrets, i: number, audioSeconds = 2): Promise<Delivery> {
  const source = mixedSourceOf(i);
  const mixer = MIXERS[source];
  return mixer ? mixer(secrets, Math.floor(i / SOURCES.length), audioSeconds) : registryDelivery(secrets, source);
}

export function toEvent(d: Delivery): APIGatewayProxyEventV2 {
  return eventFromRequest(d.request);
}

/** The handler a source's deliveries go to (its registry entry). */
export function handlerNameOf(source: Source): HandlerName {
  return declarationOf(source).handler;
}

/** Run `fn` over `items`, at most `limit` at a time; results in input order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Deterministic shuffle (mulberry32), so a failing order can be replayed from its seed. */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
