import { ConfigError } from '#shared/config';
import { DEPLOYED_POLICY, type FetchPolicy } from './fetch.ts';

/**
 * The worker's configuration, read once per cold start.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | BUCKET_NAME, TABLE_NAME | (required) | where recordings and the index live |
 * | RECORDINGS_QUEUE_URL | (required) | the queue this worker consumes (for the backoff) |
 * | RECORDINGS_MAX_BYTES | 536870912 (512 MiB) | a recording larger than this is refused |
 * | RECORDINGS_RETRY_DELAYS | 60,300,900,1800,3600,3600 | seconds before each retry; attempts = delays + 1 |
 * | RECORDINGS_ALLOW_LOOPBACK | (off) | `true` in local mode only: also fetch http://127.0.0.1 |
 * | SYNTHFLOW_API_URL | https://api.synthflow.ai/v2 | Synthflow Platform API base |
 * | VAPI_API_URL | https://api.vapi.ai | Vapi API base (recording endpoints) |
 * | RECORDINGS_CONNECT_TIMEOUT_MS, RECORDINGS_IDLE_TIMEOUT_MS | 5000, 20000 | outbound connect / no-data limits |
 */

type Env = Record<string, string | undefined>;

/** 1 + 5 + 15 + 30 + 60 + 60 minutes: the last attempt comes about 2 h 51 min after the first. */
export const DEFAULT_RETRY_DELAYS = [60, 300, 900, 1800, 3600, 3600] as const;
export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

export interface WorkerSettings {
  bucketName: string;
  tableName: string;
  queueUrl: string;
  maxBytes: number;
  retryDelays: number[];
  policy: FetchPolicy;
  synthflowApiUrl: string;
  vapiApiUrl: string;
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

export function parseRetryDelays(text: string | undefined): number[] {
  if (text === undefined || text.trim() === '') return [...DEFAULT_RETRY_DELAYS];
  const delays = text.split(',').map((s) => Number(s.trim()));
  // SQS visibility timeouts stop at 12 hours.
  if (delays.some((d) => !Number.isInteger(d) || d < 0 || d > 43_200)) {
    throw new ConfigError(`RECORDINGS_RETRY_DELAYS "${text}" must be comma-separated whole seconds between 0 and 43200`);
  }
  return delays;
}

function millis(env: Env, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms <= 0) throw new ConfigError(`${name} "${text}" is not a positive whole number of milliseconds`);
  return ms;
}

export const DEFAULT_SYNTHFLOW_API_URL = 'https://api.synthflow.ai/v2';
export const DEFAULT_VAPI_API_URL = 'https://api.vapi.ai';

function apiUrl(env: Env, name: string, fallback: string): string {
  const url = env[name]?.trim() || fallback;
  if (!URL.canParse(url)) throw new ConfigError(`${name} "${url}" is not a URL`);
  return url;
}

export function readWorkerSettings(env: Env = process.env): WorkerSettings {
  const maxText = env.RECORDINGS_MAX_BYTES?.trim();
  const maxBytes = maxText ? Number(maxText) : DEFAULT_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new ConfigError(`RECORDINGS_MAX_BYTES "${maxText}" is not a positive whole number of bytes`);
  const synthflowApiUrl = apiUrl(env, 'SYNTHFLOW_API_URL', DEFAULT_SYNTHFLOW_API_URL);
  const vapiApiUrl = apiUrl(env, 'VAPI_API_URL', DEFAULT_VAPI_API_URL);
  return {
    bucketName: required(env, 'BUCKET_NAME'),
    tableName: required(env, 'TABLE_NAME'),
    queueUrl: required(env, 'RECORDINGS_QUEUE_URL'),
    maxBytes,
    retryDelays: parseRetryDelays(env.RECORDINGS_RETRY_DELAYS),
    policy: {
      ...DEPLOYED_POLICY,
      addresses: env.RECORDINGS_ALLOW_LOOPBACK?.trim() === 'true' ? 'allow-loopback' : 'public-only',
      connectTimeoutMs: millis(env, 'RECORDINGS_CONNECT_TIMEOUT_MS', DEPLOYED_POLICY.connectTimeoutMs),
      idleTimeoutMs: millis(env, 'RECORDINGS_IDLE_TIMEOUT_MS', DEPLOYED_POLICY.idleTimeoutMs),
    },
    synthflowApiUrl,
    vapiApiUrl,
  };
}

/**
 * The queue and its event source, shared by the stack and local mode: batches
 * of 5 handled one message after another, at most 2 batches at once (the SQS
 * event source's minimum), so one vendor sees at most 2 fetches at a time.
 * The visibility timeout covers a worker run (its timeout is WORKER_TIMEOUT_SEC)
 * several times over, as AWS recommends for SQS event sources.
 */
export const WORKER_TIMEOUT_SEC = 300;
export const EVENT_SOURCE = { batchSize: 5, maxConcurrency: 2, visibilityTimeoutSec: 6 * WORKER_TIMEOUT_SEC } as const;

/** Local mode: the first retry within 5 s, failed after about 35 s. */
export const LOCAL_RETRY_DELAYS = '5,10,20';
