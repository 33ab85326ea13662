import { webhookHandler } from '#shared/handler';
import { NotFound, UnsupportedMediaType } from '#shared/errors';
import type { WebhookRequest } from '#shared/request';
import { createStorage, createStorageClients } from '#shared/storage';
import { alongside, createQueueClient, queueRecordings, warmQueue } from '#shared/recording-queue';
import type { Settings } from '#shared/config';
import { declarationOf } from '#shared/sources';
import { PROVIDERS, PROVIDER_NAMES, findProvider, type CallProvider } from './providers/index.ts';

/**
 * POST /call-completed/<provider>: the registry's call-completed sources (Volubile, Synthflow, Vapi).
 * provider → content type → authenticate (raw bytes) → interpret → store → respond.
 * Storage down is a 503 the vendor retries; a source the registry marks `deliveredOnce` (Vapi)
 * is answered `archived` instead once its bytes are safe, as watsonx is.
 */

const storage = createStorage(createStorageClients());
const queue = createQueueClient();

/** `{provider}` path parameter, else the last path segment (the stack's routes are one exact path per source). */
export function providerName(req: WebhookRequest): string | undefined {
  const fromRoute = req.pathParameters.provider;
  if (fromRoute) return fromRoute;
  const last = req.path.split('/').filter(Boolean).pop();
  return last === undefined || last === 'call-completed' ? undefined : last;
}

function providerFor(req: WebhookRequest): CallProvider {
  const name = providerName(req);
  const provider = findProvider(name);
  if (!provider) {
    throw new NotFound(
      `unknown provider${name ? ` "${name.slice(0, 40)}"` : ''}: use /call-completed/${PROVIDER_NAMES.join(' or /call-completed/')}`,
      'unknown_provider',
    );
  }
  return provider;
}

/**
 * application/json or any `+json` type. A request with no Content-Type at all is
 * accepted and must then parse as JSON (some HTTP clients omit the header on
 * POSTs; refusing them would lose calls, and the body is checked anyway).
 */
function requireJson(req: WebhookRequest): void {
  const raw = req.headers['content-type'];
  if (raw === undefined || raw.trim() === '') return;
  const type = req.contentType?.type;
  if (type === 'application/json' || type?.endsWith('+json')) {
    const charset = req.contentType?.params.charset?.toLowerCase();
    if (charset === undefined || charset === 'utf-8' || charset === 'utf8') return;
    throw new UnsupportedMediaType(`charset ${charset.slice(0, 40)} is not supported: send UTF-8 JSON`);
  }
  throw new UnsupportedMediaType(`content type ${type ?? 'is malformed'}${type ? ' is not accepted' : ''}: send application/json`);
}

function readDelivery(provider: CallProvider, body: Buffer, settings: Settings, receivedAt: Date) {
  const ctx = { engageTimeZone: settings.engageTimeZone, defaultPhoneRegion: settings.defaultPhoneRegion, receivedAt };
  return provider.read ? provider.read(body, ctx) : provider.interpret(body, ctx);
}

export const handler = webhookHandler(
  {
    name: 'call-completed',
    methods: ['POST'],
    sourceOf: (req) => findProvider(providerName(req))?.source ?? 'call-completed',
    warm: {
      clients: (settings) => [() => storage.warm(settings), () => warmQueue(queue, settings.recordingsQueueUrl)],
      code: (settings) => [
        // Each interpreter once, on a body its schema refuses: its validators are compiled before the first caller.
        ...[...PROVIDERS.values()].map((p) => () => readDelivery(p, Buffer.from('{}'), settings, new Date())),
      ],
    },
  },
  async ({ req, log, settings, secrets }) => {
    const provider = providerFor(req);
    requireJson(req);
    const previous = provider.authenticate(req, await secrets());
    const read = readDelivery(provider, req.body, settings, req.receivedAt);
    // The archive keeps the sender's content type; none sent means JSON was accepted.
    const raw = { bytes: req.body, contentType: req.headers['content-type']?.trim() || 'application/json', extension: 'json' };
    if ('notACall' in read) {
      await storage.archiveOnly(settings, { source: provider.source, id: read.callId ?? 'no-call', raw, receivedAt: req.receivedAt }, log);
      return {
        source: provider.source,
        outcome: 'not-a-call',
        previous,
        body: {
          source: provider.source,
          indexed: false,
          messageType: read.messageType,
          ...(read.callId ? { callId: read.callId } : {}),
          message: `archived, not indexed: a ${read.messageType} message is not a call`,
        },
      };
    }
    const { sk, version } = read;
    const call = provider.withApiRecordings ? provider.withApiRecordings(read.call, await secrets()) : read.call;
    const result = await alongside(
      storage.store(settings, { call, sk, version, raw, receivedAt: req.receivedAt }, log, { indexBestEffort: declarationOf(provider.source).deliveredOnce === true }),
      queueRecordings(queue, settings.recordingsQueueUrl, call, sk, log),
    );
    return { source: provider.source, outcome: result.outcome, previous, body: { source: provider.source, callId: call.callId } };
  },
);

// Init waits for the first secret fetch (AWS) and the warm-up, so the first request does not.
await handler.ready;
