import type { Recording, Source } from '#shared/model';
import type { Secrets } from '#shared/config';
import { LINKED_SOURCES, type LinkedSource } from '#shared/sources';
import { FetchError, safeFetch, type BoundCredentials, type FetchPolicy, type FetchResponse } from './fetch.ts';

/**
 * How each source's recordings are fetched: one entry per source the registry
 * declares with `recordings`. A source without an entry gets `direct` (the
 * linked URL, no credentials).
 */

export interface FetchContext {
  policy: FetchPolicy;
  secrets: Secrets;
  /** Synthflow Platform API base, e.g. https://api.synthflow.ai/v2 */
  synthflowApiUrl: string;
  /** Vapi API base, e.g. https://api.vapi.ai */
  vapiApiUrl: string;
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

/** A vendor API endpoint that answers 302 to a signed URL, with its Bearer key (sent to the API's origin only). */
interface ApiEndpoint {
  url: string;
  key: string;
}

/**
 * The link the delivery named first; when it is missing, expired or refused
 * (a 4xx/5xx, an error page, a network error: not a target we refuse to
 * connect to) and the vendor's API key is configured, the vendor's
 * authenticated endpoint. The key goes only to the API host, never to the
 * signed URL it redirects to.
 */
async function linkThenApi(ref: RecordingRef, ctx: FetchContext, api: ApiEndpoint | undefined, keyName: string): Promise<FetchResponse> {
  let first: unknown;
  if (ref.recording.sourceUrl) {
    try {
      return await fetchOk(ref.recording.sourceUrl, ctx);
    } catch (err) {
      if (!api || (err instanceof FetchError && err.permanent && err.reason !== 'invalid_url')) throw err;
      first = err;
    }
  }
  if (!api) throw first ?? new FetchError('no_url', `no recording URL and no ${keyName}`, true);
  return fetchOk(api.url, ctx, { origin: originOf(api.url), authorization: `Bearer ${api.key}` });
}

const base = (url: string) => url.replace(/\/+$/, '');

/**
 * Synthflow: `call.recording_url` (from 2027-01-10 it expires 24 h after it is
 * issued), then "Get a recording", `GET {SYNTHFLOW_API_URL}/calls/{call_id}/recording`
 * (302 to a freshly signed URL), with SYNTHFLOW_API_KEY.
 */
export const synthflow: FetchStrategy = async (ref, ctx) => {
  const key = ctx.secrets.SYNTHFLOW_API_KEY;
  const api = key ? { url: `${base(ctx.synthflowApiUrl)}/calls/${encodeURIComponent(ref.callId)}/recording`, key } : undefined;
  return linkThenApi(ref, ctx, api, 'SYNTHFLOW_API_KEY');
};

/** Vapi's authenticated recording endpoints, by the recording ids its adapter gives (call-completed/providers/vapi.ts). */
const VAPI_ENDPOINTS: Record<string, string> = { mono: 'mono-recording', stereo: 'stereo-recording' };

/**
 * Vapi: the report's recording URL; when it is refused (a HIPAA organization's
 * private storage is not directly downloadable) and VAPI_API_KEY (the private
 * API key) is configured, `GET {VAPI_API_URL}/call/{id}/mono-recording` or
 * `/stereo-recording`, which answers 302 to a short-lived signed URL.
 */
export const vapi: FetchStrategy = async (ref, ctx) => {
  const key = ctx.secrets.VAPI_API_KEY;
  const endpoint = Object.hasOwn(VAPI_ENDPOINTS, ref.recording.id) ? VAPI_ENDPOINTS[ref.recording.id] : undefined;
  const api = key && endpoint ? { url: `${base(ctx.vapiApiUrl)}/call/${encodeURIComponent(ref.callId)}/${endpoint}`, key } : undefined;
  return linkThenApi(ref, ctx, api, 'VAPI_API_KEY');
};

/** Engage Voice: Basic credentials (ENGAGE_VOICE_RECORDING_AUTH) only to the host of the URL the delivery named. */
export const engageVoice: FetchStrategy = async ({ recording }, ctx) => {
  if (!recording.sourceUrl) throw new FetchError('no_url', 'the delivery named no recording URL', true);
  const auth = ctx.secrets.ENGAGE_VOICE_RECORDING_AUTH;
  const credentials = auth ? { origin: originOf(recording.sourceUrl), authorization: basic(auth) } : undefined;
  return fetchOk(recording.sourceUrl, ctx, credentials);
};

/** One fetcher per source the registry declares with `recordings` (functions/shared/sources.ts). */
export const STRATEGIES: Record<LinkedSource, FetchStrategy> = {
  synthflow,
  'engage-voice': engageVoice,
  vapi,
};

/** Sources whose recordings the worker copies: it may write only under their audio/<source>/ prefixes. */
export { LINKED_SOURCES };

export function strategyFor(source: Source): FetchStrategy {
  return (STRATEGIES as Partial<Record<Source, FetchStrategy>>)[source] ?? direct;
}
