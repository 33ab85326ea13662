import { webhookHandler } from '#shared/handler';
import { createStorage, createStorageClients } from '#shared/storage';
import { alongside, createQueueClient, queueRecordings, warmQueue } from '#shared/recording-queue';
import { authenticateEngage } from './auth.ts';
import { rawPayload } from './parse.ts';
import { DERIVED_ID_PREFIX, UII_HINT, interpretEngage } from './interpret.ts';

const storage = createStorage(createStorageClients());
const queue = createQueueClient();

/**
 * GET and POST /engage-voice: RingCentral Engage Voice (RingCX) web services,
 * e.g. on the Agent Termination event, one delivery per agent segment.
 * authenticate → archive form of the request → interpret → store → respond.
 */
export const handler = webhookHandler(
  {
    name: 'engage-voice',
    methods: ['GET', 'POST'],
    sourceOf: () => 'engage-voice',
    warm: {
      clients: (settings) => [() => storage.warm(settings), () => warmQueue(queue, settings.recordingsQueueUrl)],
      code: (settings) => [
        // The interpreter once, on a body it refuses: its validators are compiled before the first caller.
        () => interpretEngage(Buffer.from('{}'), 'application/json', { ...settings, receivedAt: new Date() }),
      ],
    },
  },
  async ({ req, log, settings, secrets }) => {
    const previous = authenticateEngage(req, await secrets());
    const raw = rawPayload(req);
    const { call, sk, version } = interpretEngage(raw.bytes, raw.contentType, {
      engageTimeZone: settings.engageTimeZone,
      defaultPhoneRegion: settings.defaultPhoneRegion,
      receivedAt: req.receivedAt,
    });
    const result = await alongside(
      storage.store(settings, { call, sk, raw, version, receivedAt: req.receivedAt }, log),
      queueRecordings(queue, settings.recordingsQueueUrl, call, sk, log),
    );
    return {
      source: 'engage-voice',
      outcome: result.outcome,
      previous,
      body: {
        callId: call.callId,
        segment: sk.slice('SEG#'.length),
        ...(call.callId.startsWith(DERIVED_ID_PREFIX) ? { derivedCallId: true, hint: UII_HINT } : {}),
      },
    };
  },
);

// Init waits for the first secret fetch (AWS) and the warm-up, so the first request does not.
await handler.ready;
