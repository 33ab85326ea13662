import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { LambdaHandler } from '#shared/handler';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sdkEnvironment, type EmbeddedStorage } from '../../../lib/embedded.ts';
import { handlerNameOf, toEvent, type Delivery } from '../../../lib/traffic.ts';
import type * as ReindexCore from '../../../lib/reindex/core.ts';

/**
 * The three real handler modules, imported only when called (after the test
 * has pointed the SDK environment and BUCKET_NAME/TABLE_NAME where it wants).
 */
export interface Handlers {
  invoke(d: Delivery): Promise<APIGatewayProxyStructuredResultV2>;
  /** As a retrying vendor sends it: the same request again after each 503, up to `maxTries` in all. */
  deliver(d: Delivery, maxTries?: number): Promise<VendorResult>;
}

/** The answer a vendor ends with, and how many 503s (storage too slow or down: "retry") came before it. */
export interface VendorResult {
  res: APIGatewayProxyStructuredResultV2;
  unavailable: number;
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
  const invoke = async (d: Delivery) => {
    const h = byName[handlerNameOf(d.source)];
    if (!h) throw new Error(`no handler for ${d.source}`);
    return h(toEvent(d));
  };
  return {
    invoke,
    deliver: async (d, maxTries = 10) => {
      let unavailable = 0;
      for (;;) {
        const res = await invoke(d);
        if (res.statusCode !== 503 || unavailable + 1 >= maxTries) return { res, unavailable };
        unavailable += 1;
      }
    },
  };
}

export function outcomeOf(res: APIGatewayProxyStructuredResultV2): string | undefined {
  const parsed: unknown = JSON.parse(typeof res.body === 'string' ? res.body : '{}');
  return typeof parsed === 'object' && parsed !== null && 'outcome' in parsed && typeof parsed.outcome === 'string' ? parsed.outcome : undefined;
}

/**
 * A file's own servers with its fault proxy listening in front of one of them
 * (`behind`): the SDK environment points there, logs are silenced, and the
 * handlers and the reindex core are loaded (after, so they read it).
 */
export async function loadBehindProxy(
  storage: EmbeddedStorage, proxy: Server, behind: 's3' | 'dynamodb', env: Record<string, string>,
): Promise<{ handlers: Handlers; core: typeof ReindexCore }> {
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxied = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const endpoints = behind === 's3'
    ? { s3Endpoint: proxied, dynamoEndpoint: storage.dynamoEndpoint }
    : { s3Endpoint: storage.s3Endpoint, dynamoEndpoint: proxied };
  Object.assign(process.env, sdkEnvironment(endpoints), env);
  (await import('#shared/log')).setLogSink(() => undefined);
  return { handlers: await loadHandlers(), core: await import('../../../lib/reindex/core.ts') };
}

/** Stop what loadBehindProxy's caller started: read-back clients, proxy, servers. */
export async function stopBehindProxy(look: { destroy(): void } | undefined, proxy: Server | undefined, storage: EmbeddedStorage | undefined): Promise<void> {
  look?.destroy();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await storage?.stop();
}
