import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { LambdaHandler } from '#shared/handler';
import { handlerNameOf, toEvent, type Delivery } from '../../../lib/traffic.ts';

/**
 * The three real handler modules, imported only when called (after the test
 * has pointed the SDK environment and BUCKET_NAME/TABLE_NAME where it wants).
 */
export interface Handlers {
  invoke(d: Delivery): Promise<APIGatewayProxyStructuredResultV2>;
}

export async function loadHandlers(): Promise<Handlers> {
  const [audio, completed, engage] = await Promise.all([
    import('../../../functions/audio-webhook/handler.ts'),
    import('../../../functions/call-completed/handler.ts'),
    import('../../../functions/engage-voice/handler.ts'),
  ]);
  const byName: Record<string, LambdaHandler> = {
    'audio-webhook': audio.handler,
    'call-completed': completed.handler,
    'engage-voice': engage.handler,
  };
  return {
    invoke: async (d) => {
      const h = byName[handlerNameOf(d.source)];
      if (!h) throw new Error(`no handler for ${d.source}`);
      return h(toEvent(d));
    },
  };
}

export function outcomeOf(res: APIGatewayProxyStructuredResultV2): string | undefined {
  const parsed: unknown = JSON.parse(typeof res.body === 'string' ? res.body : '{}');
  return typeof parsed === 'object' && parsed !== null && 'outcome' in parsed && typeof parsed.outcome === 'string' ? parsed.outcome : undefined;
}
