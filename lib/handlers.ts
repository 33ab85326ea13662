import type { LambdaHandler } from '#shared/handler';
import type { FunctionName } from './api-gateway.ts';

/**
 * The handler modules Lambda runs, loaded lazily: storage.ts builds its SDK
 * clients at import time, so the SDK environment (endpoints, credentials) must
 * be set before the first import. Static specifiers keep bundlers and
 * type-checking honest about what is loaded.
 */
const loaders: Record<FunctionName, () => Promise<{ handler: LambdaHandler }>> = {
  'audio-webhook': () => import('../functions/audio-webhook/handler.ts'),
  'call-completed': () => import('../functions/call-completed/handler.ts'),
  'engage-voice': () => import('../functions/engage-voice/handler.ts'),
};

export type HandlerLoader = (name: FunctionName) => Promise<LambdaHandler>;

export const loadHandler: HandlerLoader = async (name) => {
  const mod = await loaders[name]();
  if (typeof mod.handler !== 'function') throw new Error(`functions/${name}/handler.ts does not export a handler function`);
  return mod.handler;
};
