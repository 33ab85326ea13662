import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { declarationOf, LINKED_SOURCES } from '#shared/sources';
import { EVENT_SOURCE, LOCAL_RETRY_DELAYS, parseRetryDelays, readWorkerSettings } from '../functions/recordings/settings.ts';
import { createRecordingsHandler, createWorkerClients, type WorkerClients } from '../functions/recordings/compose.ts';
import { startLocalQueues, type LocalQueues } from './local-queue.ts';
import type { LocalConfig } from './local-config.ts';

/**
 * The recordings worker inside `npm start`: the local queue (with its
 * dead-letter queue) on LOCAL_SQS_PORT, reached through AWS_ENDPOINT_URL_SQS,
 * and the same worker module Lambda runs fed by the local event source. Local
 * mode also fetches http://127.0.0.1 URLs (so a local file server can stand in
 * for a vendor); link-local addresses stay refused.
 */

type Env = Record<string, string | undefined>;

export const RECORDINGS_QUEUE = 'recordings';
export const RECORDINGS_DLQ = 'recordings-dlq';
export const DEFAULT_LOCAL_SQS_PORT = 4576;

export interface LocalRecordings {
  queues: LocalQueues;
  banner: string;
  /** Called with each call whose recordings the worker just handled (copied, or an attempt failed): the inbox refreshes it. */
  onChange(listener: (source: string, callId: string) => void): void;
  close(): Promise<void>;
}

/** The calls a batch was about (message bodies name them; a malformed one is skipped). */
function callsOf(event: SQSEvent): { source: string; callId: string }[] {
  const out = new Map<string, { source: string; callId: string }>();
  for (const r of event.Records) {
    try {
      const m = JSON.parse(r.body) as { source?: unknown; callId?: unknown };
      if (typeof m.source === 'string' && typeof m.callId === 'string') out.set(`${m.source}\u0000${m.callId}`, { source: m.source, callId: m.callId });
    } catch {
      // the worker itself reports malformed messages
    }
  }
  return [...out.values()];
}

export interface LocalRecordingsOptions {
  /** What the worker reads its settings from (bucket, table, limits): default process.env. */
  env?: Env;
  /** Clients to use instead of the worker's own (a test's, or ones pointed elsewhere). */
  clients?: Partial<WorkerClients>;
}

/**
 * Starts the queues and the worker. The worker is built from settings and clients given
 * here (not read at an import), so it does not matter what was imported before.
 */
export async function startLocalRecordings(userEnv: Env, cfg: Pick<LocalConfig, 'host' | 'dataDir'>, opts: LocalRecordingsOptions = {}): Promise<LocalRecordings> {
  const port = Number(userEnv.LOCAL_SQS_PORT?.trim() || DEFAULT_LOCAL_SQS_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`LOCAL_SQS_PORT "${userEnv.LOCAL_SQS_PORT}" is not a TCP port number`);
  const delaysText = userEnv.RECORDINGS_RETRY_DELAYS?.trim() || LOCAL_RETRY_DELAYS;
  const delays = parseRetryDelays(delaysText);
  const queues = await startLocalQueues({
    host: cfg.host,
    port,
    stateFile: join(cfg.dataDir, 'queues.json'),
    specs: [{
      name: RECORDINGS_QUEUE,
      visibilityTimeoutSec: EVENT_SOURCE.visibilityTimeoutSec,
      deadLetter: { name: RECORDINGS_DLQ, maxReceiveCount: delays.length + 1 },
    }],
  });
  const queueEnv = {
    AWS_ENDPOINT_URL_SQS: queues.endpoint,
    RECORDINGS_QUEUE_URL: queues.url(RECORDINGS_QUEUE),
    RECORDINGS_RETRY_DELAYS: delaysText,
    RECORDINGS_ALLOW_LOOPBACK: userEnv.RECORDINGS_ALLOW_LOOPBACK?.trim() || 'true',
  };
  // The webhook handlers queue recordings through the standard SDK environment, as in Lambda.
  Object.assign(process.env, queueEnv);
  const env = { ...(opts.env ?? process.env), ...queueEnv };
  let handler: ReturnType<typeof createRecordingsHandler>;
  try {
    handler = createRecordingsHandler(readWorkerSettings(env), { ...createWorkerClients(env), ...opts.clients });
  } catch (err) {
    await queues.close();
    throw err;
  }
  const listeners: ((source: string, callId: string) => void)[] = [];
  const worker = async (event: SQSEvent) => {
    try {
      return await handler(event);
    } finally {
      for (const c of callsOf(event)) for (const l of listeners) l(c.source, c.callId);
    }
  };
  const detach = queues.attach(RECORDINGS_QUEUE, worker, {
    batchSize: EVENT_SOURCE.batchSize,
    maxConcurrency: EVENT_SOURCE.maxConcurrency,
    onError: (err) => process.stderr.write(`recordings worker failed a batch: ${err instanceof Error ? err.message : String(err)}\n`),
  });
  const banner = [
    `recordings: vendor audio (${LINKED_SOURCES.map((s) => declarationOf(s).title).join(', ')}) is copied into the bucket by the worker; queue ${queues.url(RECORDINGS_QUEUE)}`,
    `  local mode also fetches http://127.0.0.1 URLs (serve a folder: python3 -m http.server 8080 --bind 127.0.0.1 --directory <folder>); link-local addresses are always refused`,
    `  retries after ${delays.join(', ')} s, then failed (dead-letter queue ${RECORDINGS_DLQ}); npm run recordings lists them, -- --missing re-queues`,
  ].join('\n');
  return { queues, banner, onChange: (l) => { listeners.push(l); }, close: async () => { await detach(); await queues.close(); } };
}
