import type { LambdaHandler } from '#shared/handler';
import type { FunctionName } from './api-gateway.ts';
import { handler as audioWebhook } from '../functions/audio-webhook/handler.ts';
import { handler as callCompleted } from '../functions/call-completed/handler.ts';
import { handler as engageVoice } from '../functions/engage-voice/handler.ts';

/**
 * The handler modules Lambda runs. Their SDK clients resolve endpoints,
 * region and credentials from the environment at their first request, so a
 * tool may import them before it points the environment at its storage.
 */
const handlers: Record<FunctionName, LambdaHandler> = {
  'audio-webhook': audioWebhook,
  'call-completed': callCompleted,
  'engage-voice': engageVoice,
};

export type HandlerLoader = (name: FunctionName) => Promise<LambdaHandler>;

export const loadHandler: HandlerLoader = async (name) => handlers[name];
