import type { Recording, Source } from '#shared/model';
import type { Secrets } from '#shared/config';
import { FetchError, safeFetch, type BoundCredentials, type FetchPolicy, type FetchResponse } from './fetch.ts';

/**
 * How each source's recordings are fetched: one entry per source. A source
 * without an entry gets `direct` (the linked URL, no credentials).
 */

export interface FetchContext {
  policy: FetchPolicy;
  secrets: Secrets;
  /** Synthflow Platform API base, e.g. https://api.synthflow.ai/v2 */
  synthflowApiUrl: string;
}

export interface RecordingRef {
  source: Source;
  callId: string;
  recording: Recording;
}

/** Resolves with a 2xx response whose body is the audio (still to be checked), or throws a FetchError. */
export type FetchStrategy = (ref: RecordingRef, ctx: FetchContext) => Promise<FetchResponse>;

/** GET and insist on 2xx; anything else is drained and becomes `http_<status>`. */
export async function fetchOk(url: string, ctx: FetchContext, credentials?: BoundCredentials): Promise<FetchResponse> {
  const res = await safeFetch(url, ctx.policy, credentials);
  if (res.status >= 200 && res.status < 300) return res;
  res.body.resume();
  throw new FetchError(`http_${res.status}`, `the recording URL answered ${res.status}`, false, res.status);
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    throw new FetchError('invalid_url', 'not a URL', true);
  }
}

function basic(userPassword: string): string {
  return `Basic ${Buffer.from(userPassword, 'utf8').toString('base64')}`;
}

export const direct: FetchStrategy = async ({ recording }, ctx) => {
  if (!recording.sourceUrl) throw new FetchError('no_url', 'the delivery named no recording URL', true);
  return fetchOk(recording.sourceUrl, ctx);
};

/**
 * The webhook's `call.recording_url` first (from 2027-01-10 it expires 24 h
 * after it is issued); when it is missing, expired or refused and an API key is
 * configured, "Get a recording" (`GET /calls/{call_id}/recording`, 302 to a
 * freshly signed URL). The key goes only to the API host, never to the signed URL's.
 */
export const synthflow: FetchStrategy = async (ref, ctx) => {
  const key = ctx.secrets.SYNTHFLOW_API_KEY;
  let first: unknown;
  if (ref.recording.sourceUrl) {
    try {
      return await fetchOk(ref.recording.sourceUrl, ctx);
    } catch (err) {
      if (!key || (err instanceof FetchError && err.permanent && err.reason !== 'invalid_url')) throw err;
      first = err;
    }
  }
  if (!key) throw first ?? new FetchError('no_url', 'no recording URL and no SYNTHFLOW_API_KEY', true);
  const api = `${ctx.synthflowApiUrl.replace(/\/+$/, '')}/calls/${encodeURIComponent(ref.callId)}/recording`;
  return fetchOk(api, ctx, { origin: originOf(api), authorization: `Bearer ${key}` });
};

/** Engage Voice: Basic credentials (ENGAGE_VOICE_RECORDING_AUTH) only to the host of the URL the delivery named. */
export const engageVoice: FetchStrategy = async ({ recording }, ctx) => {
  if (!recording.sourceUrl) throw new FetchError('no_url', 'the delivery named no recording URL', true);
  const auth = ctx.secrets.ENGAGE_VOICE_RECORDING_AUTH;
  const credentials = auth ? { origin: originOf(recording.sourceUrl), authorization: basic(auth) } : undefined;
  return fetchOk(recording.sourceUrl, ctx, credentials);
};

export const STRATEGIES: Partial<Record<Source, FetchStrategy>> = {
  synthflow,
  'engage-voice': engageVoice,
};

/** Sources whose recordings the worker copies: it may write only under their audio/<source>/ prefixes. */
export const LINKED_SOURCES = Object.keys(STRATEGIES) as Source[];

export function strategyFor(source: Source): FetchStrategy {
  return STRATEGIES[source] ?? direct;
}
