import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { toApiGatewayEvent } from '../../lib/api-gateway.ts';
import {
  watsonxRequest, volubileRequest, synthflowRequest, engageVoiceRequest, requestTarget, type OutgoingRequest,
} from '../../lib/requests.ts';

/**
 * Calls put into the embedded storage by the REAL handlers: the vendor
 * fixtures of events/payloads, re-dated to a day of their own and given fresh
 * ids (so tests sharing the one table do not see each other's calls), signed
 * as each vendor signs, turned into API Gateway v2 events.
 */

export const SECRETS = {
  WATSONX_AUDIO_SECRET: 'test-watsonx-audio-secret-0123456789abcdef',
  VOLUBILE_WEBHOOK_SECRET: 'test-volubile-secret',
  SYNTHFLOW_WEBHOOK_SECRET: 'test-synthflow-secret',
  SYNTHFLOW_WEBHOOK_TOKEN: 'test-synthflow-token',
  ENGAGE_VOICE_TOKEN: 'test-engage-token',
} as const;

/** Set before the first handler invocation (handlers read configuration once). */
export function configureHandlers(): void {
  Object.assign(process.env, SECRETS, { ENGAGE_VOICE_TIMEZONE: 'UTC', DEFAULT_PHONE_REGION: 'US' });
}

const FIXTURE_DAY = '2026-11-20';
const payload = (path: string) => readFileSync(new URL(`../../events/payloads/${path}`, import.meta.url));

/** A day no other test file uses: somewhere in 2001–2020, never today. */
export function uniqueDay(): string {
  return new Date(Date.UTC(2001, 0, 1) + randomInt(0, 7300) * 86_400_000).toISOString().slice(0, 10);
}

function rewrite(buf: Buffer, day: string, ids: Record<string, string>): Buffer {
  let text = buf.toString('utf8').replaceAll(FIXTURE_DAY, day);
  for (const [from, to] of Object.entries(ids)) text = text.replaceAll(from, to);
  return Buffer.from(text);
}

function field(buf: Buffer, name: string): string {
  const value: unknown = JSON.parse(buf.toString('utf8'))[name];
  if (typeof value !== 'string') throw new Error(`fixture has no string ${name}`);
  return value;
}

export interface Scenario {
  day: string;
  watsonx: { sessionId: string; recordingIds: string[] };
  volubile: { callId: string };
  synthflow: { callId: string };
  engage: { uii: string };
  requests: OutgoingRequest[];
}

/** Requests for one call of each source: two watsonx recordings, two Engage Voice segments. */
export async function scenario(day = uniqueDay()): Promise<Scenario> {
  const meta1 = payload('watsonx/metadata.json');
  const meta2 = payload('watsonx/metadata-2.json');
  const sessionId = randomUUID();
  const rec1 = randomUUID();
  const rec2 = randomUUID();
  const ulaw = payload('watsonx/recording.ulaw');
  const wav = payload('watsonx/recording.wav');
  const w1 = rewrite(meta1, day, { [field(meta1, 'session_id')]: sessionId, [field(meta1, 'recording_id')]: rec1 });
  const w2 = rewrite(meta2, day, { [field(meta2, 'session_id')]: sessionId, [field(meta2, 'recording_id')]: rec2 });

  const vol = payload('volubile/call-completed.json');
  const volId = randomUUID();
  const volBody = rewrite(vol, day, { [field(vol, 'id')]: volId });

  const sf = payload('synthflow/call-completed.json');
  const sfOld: unknown = JSON.parse(sf.toString('utf8')).call.call_id;
  if (typeof sfOld !== 'string') throw new Error('synthflow fixture has no call.call_id');
  const sfId = `${Date.now()}x${randomInt(1e9, 1e10 - 1)}`;
  const sfBody = rewrite(sf, day, { [sfOld]: sfId });

  const ev1 = payload('engage-voice/agent-termination.json');
  const ev2 = payload('engage-voice/agent-termination-transfer.json');
  const uii = Array.from({ length: 30 }, () => randomInt(0, 10)).join('');
  const oldUii = field(ev1, 'uii');
  const seg1 = rewrite(ev1, day, { [oldUii]: uii });
  const seg2 = rewrite(ev2, day, { [oldUii]: uii });
  const flat = (b: Buffer): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(JSON.parse(b.toString('utf8')) as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
    return out;
  };

  const requests = [
    await watsonxRequest({ metadata: w1, audio: ulaw, variant: 'mulaw' }, SECRETS.WATSONX_AUDIO_SECRET),
    await watsonxRequest({ metadata: w2, audio: wav, variant: 'wav' }, SECRETS.WATSONX_AUDIO_SECRET),
    volubileRequest(volBody, { secret: SECRETS.VOLUBILE_WEBHOOK_SECRET }),
    synthflowRequest(sfBody, { secret: SECRETS.SYNTHFLOW_WEBHOOK_SECRET, token: SECRETS.SYNTHFLOW_WEBHOOK_TOKEN }),
    engageVoiceRequest(flat(seg1), 'json', { token: SECRETS.ENGAGE_VOICE_TOKEN }, seg1),
    engageVoiceRequest(flat(seg2), 'form', { token: SECRETS.ENGAGE_VOICE_TOKEN }),
  ];
  return {
    day,
    watsonx: { sessionId, recordingIds: [rec1, rec2] },
    volubile: { callId: volId },
    synthflow: { callId: sfId },
    engage: { uii },
    requests,
  };
}

export function toEvent(r: OutgoingRequest): APIGatewayProxyEventV2 {
  return toApiGatewayEvent({ method: r.method, target: requestTarget(r), headers: r.headers, body: r.body });
}

/** Invokes the handler module Lambda would run for this request. */
export async function invoke(r: OutgoingRequest) {
  const mod = r.path === '/audio-webhook'
    ? await import('../../functions/audio-webhook/handler.ts')
    : r.path.startsWith('/call-completed/')
      ? await import('../../functions/call-completed/handler.ts')
      : await import('../../functions/engage-voice/handler.ts');
  return mod.handler(toEvent(r));
}
