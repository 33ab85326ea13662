import { randomUUID } from 'node:crypto';
import type { LambdaHandler } from '#shared/handler';
import { handler as audioWebhook } from '../../functions/audio-webhook/handler.ts';
import { handler as callCompleted } from '../../functions/call-completed/handler.ts';
import { handler as engageVoice } from '../../functions/engage-voice/handler.ts';
import { hsJwt, payloadObject, synthflowSignature, volubileSignature, type HttpInput } from '../fixtures/hostile/common.ts';
import { audioPart, metaPart, metadata, multipartBody } from '../fixtures/hostile/audio-webhook.ts';

/** The credentials one delivery per source is signed with (secrets and tokens by variable name). */
export interface Values {
  WATSONX_AUDIO_SECRET: string;
  VOLUBILE_WEBHOOK_SECRET: string;
  VOLUBILE_WEBHOOK_TOKEN: string;
  SYNTHFLOW_WEBHOOK_SECRET: string;
  SYNTHFLOW_WEBHOOK_TOKEN: string;
  ENGAGE_VOICE_TOKEN: string;
  ENGAGE_VOICE_BASIC_AUTH: string;
}

export const basic = (userPassword: string) => `Basic ${Buffer.from(userPassword).toString('base64')}`;

let uii = 0;

/** One fresh (never a duplicate), correctly signed delivery per source, signed with `v`: [source, handler, request]. */
export function deliveries(v: Values): [string, LambdaHandler, HttpInput][] {
  const volubileBody = JSON.stringify({ ...payloadObject('volubile/call-completed.json'), id: `rot-v-${randomUUID()}` });
  const synthflowCall = payloadObject('synthflow/call-completed.json');
  const callId = `rot-s-${randomUUID()}`;
  const synthflowBody = JSON.stringify({ ...synthflowCall, call: { ...(synthflowCall.call as object), call_id: callId } });
  const engageBody = JSON.stringify({ ...payloadObject('engage-voice/agent-termination.json'), uii: `20261120141205${String(Date.now()).padStart(13, '0')}${String(++uii % 1000).padStart(3, '0')}` });
  return [
    ['watsonx', audioWebhook, {
      target: '/audio-webhook',
      headers: { authorization: `Bearer ${hsJwt(v.WATSONX_AUDIO_SECRET)}`, 'content-type': 'multipart/form-data; boundary=hostileBoundary7MA4YWxkTrZu0gW' },
      body: multipartBody([metaPart(metadata({ recording_id: `rot-${randomUUID()}` })), audioPart()]),
    }],
    ['volubile', callCompleted, {
      target: `/call-completed/volubile?token=${encodeURIComponent(v.VOLUBILE_WEBHOOK_TOKEN)}`,
      headers: { 'content-type': 'application/json', 'x-webhook-signature': volubileSignature(volubileBody, v.VOLUBILE_WEBHOOK_SECRET) },
      body: volubileBody,
    }],
    ['synthflow', callCompleted, {
      target: `/call-completed/synthflow?token=${encodeURIComponent(v.SYNTHFLOW_WEBHOOK_TOKEN)}`,
      headers: { 'content-type': 'application/json', 'synthflow-signature': synthflowSignature(callId, v.SYNTHFLOW_WEBHOOK_SECRET) },
      body: synthflowBody,
    }],
    ['engage-voice', engageVoice, {
      target: `/engage-voice?token=${encodeURIComponent(v.ENGAGE_VOICE_TOKEN)}`,
      headers: { 'content-type': 'application/json', authorization: basic(v.ENGAGE_VOICE_BASIC_AUTH) },
      body: engageBody,
    }],
  ];
}
