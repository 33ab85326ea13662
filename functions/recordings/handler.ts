import { readWorkerSettings } from './settings.ts';
import { createRecordingsHandler, createWorkerClients } from './compose.ts';

/**
 * The recordings worker (SQS → Lambda): copies the audio a vendor only linked
 * to into the bucket. Composition root: configuration and SDK clients once per
 * cold start, handed to the batch logic (compose.ts, worker.ts). See README.md here.
 */

const settings = readWorkerSettings();
const clients = createWorkerClients();
// Fetched during init, as for the webhook functions (#shared/secrets).
await clients.secrets.ready;

export const handler = createRecordingsHandler(settings, clients);
