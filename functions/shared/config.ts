/**
 * Configuration, read once per cold start. Settings come from environment
 * variables; secrets come from the environment locally and, in AWS, from the
 * one Secrets Manager secret named by SECRET_ARN (fetched by a lean signed
 * GetSecretValue, see getSecretString; cached, refreshed every
 * SECRET_REFRESH_SECONDS so a rotation takes effect without a deploy).
 */

import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface Settings {
  bucketName: string;
  tableName: string;
  /** IANA zone of Engage Voice `call_start` values (they carry no offset). */
  engageTimeZone: string;
  /** Region for phone numbers without a country code. */
  defaultPhoneRegion: string;
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new ConfigError(`environment variable ${name} is not set`);
  return value.trim();
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function readSettings(env: Env = process.env): Settings {
  const engageTimeZone = env.ENGAGE_VOICE_TIMEZONE?.trim() || 'UTC';
  if (!isValidTimeZone(engageTimeZone)) {
    throw new ConfigError(`ENGAGE_VOICE_TIMEZONE "${engageTimeZone}" is not an IANA time zone (e.g. America/New_York)`);
  }
  const defaultPhoneRegion = (env.DEFAULT_PHONE_REGION?.trim() || 'US').toUpperCase();
  if (!/^[A-Z]{2}$/.test(defaultPhoneRegion)) {
    throw new ConfigError(`DEFAULT_PHONE_REGION "${defaultPhoneRegion}" is not a two-letter region code`);
  }
  return {
    bucketName: required(env, 'BUCKET_NAME'),
    tableName: required(env, 'TABLE_NAME'),
    engageTimeZone,
    defaultPhoneRegion,
  };
}

/** Every secret and token, by the environment variable (and secret JSON key) that holds it. */
export const SECRET_NAMES = [
  'WATSONX_AUDIO_SECRET',
  'VOLUBILE_WEBHOOK_SECRET',
  'VOLUBILE_WEBHOOK_TOKEN',
  'SYNTHFLOW_WEBHOOK_SECRET',
  'SYNTHFLOW_WEBHOOK_TOKEN',
  'ENGAGE_VOICE_TOKEN',
  'ENGAGE_VOICE_BASIC_AUTH',
] as const;
export type SecretName = (typeof SECRET_NAMES)[number];
export type Secrets = Partial<Record<SecretName, string>>;

/** Only non-empty values count as configured. */
export function pickSecrets(values: Record<string, unknown>): Secrets {
  const out: Secrets = {};
  for (const name of SECRET_NAMES) {
    const v = values[name];
    if (typeof v === 'string' && v.trim() !== '') out[name] = v;
  }
  return out;
}

export type SecretsProvider = () => Promise<Secrets>;

/**
 * Secrets for this process. With SECRET_ARN set (in AWS), the secret's JSON is
 * fetched on first use and again once it is older than the refresh interval;
 * a failed refresh keeps serving the last good value. Without it, the
 * environment variables are the secrets.
 */
export function createSecretsProvider(env: Env = process.env): SecretsProvider {
  const secretId = env.SECRET_ARN?.trim();
  if (!secretId) {
    const fromEnv = pickSecrets(env);
    return async () => fromEnv;
  }
  const refreshMs = Number(env.SECRET_REFRESH_SECONDS ?? 300) * 1000;
  let cached: { value: Secrets; at: number } | undefined;
  let inflight: Promise<Secrets> | undefined;
  const fetchSecret = async (): Promise<Secrets> => {
    const parsed: unknown = JSON.parse(await getSecretString(secretId, env));
    if (typeof parsed !== 'object' || parsed === null) throw new ConfigError('the webhook secret is not a JSON object');
    return pickSecrets(parsed as Record<string, unknown>);
  };
  return async () => {
    const now = Date.now();
    if (cached && now - cached.at < refreshMs) return cached.value;
    inflight ??= fetchSecret()
      .then((value) => { cached = { value, at: Date.now() }; return value; })
      .catch((err: unknown) => { if (cached) return cached.value; throw err; })
      .finally(() => { inflight = undefined; });
    return inflight;
  };
}

export interface AwsCallContext {
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

let contextProvider: (() => Promise<AwsCallContext>) | undefined;

/**
 * functions/shared/storage.ts registers its SDK clients' region and credential
 * chain here when it loads (every handler loads it), so the secret is fetched
 * with exactly the credentials storage uses. (A dynamic import of storage.ts
 * from here instead made esbuild wrap storage lazily and keep ≈75 KB more of
 * the S3 and DynamoDB clients: measured, undone.)
 */
export function setAwsContextProvider(provider: () => Promise<AwsCallContext>): void {
  contextProvider = provider;
}

async function awsContext(env: Env): Promise<AwsCallContext> {
  if (contextProvider) return contextProvider();
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim();
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (!region || !accessKeyId || !secretAccessKey) throw new ConfigError('no AWS region or credentials to fetch the webhook secret with');
  const sessionToken = env.AWS_SESSION_TOKEN?.trim();
  return { region, credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } };
}

/** As the Secrets Manager client was configured: 1 s to connect + 2 s per attempt, 2 attempts. */
export const SECRET_FETCH = { timeoutMs: 3_000, maxAttempts: 2 } as const;

const hex = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** Where Secrets Manager is: the SDK's endpoint variables first (local stand-ins), else the regional endpoint. */
export function secretsEndpoint(region: string, env: Env = process.env): URL {
  const configured = env.AWS_ENDPOINT_URL_SECRETS_MANAGER?.trim() || env.AWS_ENDPOINT_URL?.trim();
  return new URL(configured || `https://secretsmanager.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`);
}

/**
 * The SigV4-signed `GetSecretValue` request (AWS JSON 1.1 protocol), built
 * with node:crypto. Exported for the test that checks the signature against
 * the SDK's own signer.
 */
export function signedSecretRequest(
  secretId: string,
  endpoint: URL,
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  now: Date = new Date(),
): { url: string; headers: Record<string, string>; body: string } {
  const body = JSON.stringify({ SecretId: secretId });
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    host: endpoint.host,
    'x-amz-date': amzDate,
    'x-amz-target': 'secretsmanager.GetSecretValue',
  };
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const path = endpoint.pathname || '/';
  const canonical = ['POST', path, '', ...names.map((n) => `${n}:${headers[n] ?? ''}`), '', signedHeaders, hex(body)].join('\n');
  const scope = `${day}/${region}/secretsmanager/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), 'secretsmanager'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { url: endpoint.href, headers, body };
}

/**
 * One POST with node:http(s) — already loaded by the SDK's HTTP handler, while
 * the global fetch loads undici on first use (≈25 ms more on the first
 * response, measured in the bench's AWS-configuration cold starts).
 */
function post(req: { url: string; headers: Record<string, string>; body: string }): Promise<{ status: number; text: string }> {
  const url = new URL(req.url);
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const r = send(url, { method: 'POST', headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) }, timeout: SECRET_FETCH.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error('GetSecretValue timed out')));
    r.on('error', reject);
    r.end(req.body);
  });
}

/**
 * `GetSecretValue` without @aws-sdk/client-secrets-manager: that client (its
 * command schemas for the whole service) was ≈30 KB of every bundle and
 * ≈5 ms of every cold start's module load (docs/benchmarks.md), for one call
 * per cold start and per refresh. Region and credentials come from the SDK's
 * default chain via the storage clients (already loaded); the request is
 * signed here and sent with node:http(s); one retry on a network error, a
 * timeout or a 5xx, as the client was configured. Nothing secret reaches an
 * error message.
 */
export async function getSecretString(secretId: string, env: Env = process.env): Promise<string> {
  const { region, credentials } = await awsContext(env);
  const endpoint = secretsEndpoint(region, env);
  let lastError: unknown;
  for (let attempt = 1; attempt <= SECRET_FETCH.maxAttempts; attempt++) {
    const req = signedSecretRequest(secretId, endpoint, region, credentials);
    let res: { status: number; text: string };
    try {
      res = await post(req);
    } catch (err) {
      lastError = err;
      continue;
    }
    const text = res.text;
    if (res.status >= 200 && res.status < 300) {
      const out: unknown = JSON.parse(text);
      const value: unknown = typeof out === 'object' && out !== null ? Reflect.get(out, 'SecretString') : undefined;
      if (typeof value !== 'string') throw new ConfigError('the webhook secret has no SecretString');
      return value;
    }
    let type = `HTTP ${res.status}`;
    try {
      const errBody: unknown = JSON.parse(text);
      const t: unknown = typeof errBody === 'object' && errBody !== null ? Reflect.get(errBody, '__type') : undefined;
      if (typeof t === 'string') type = t.split('#').pop() ?? type;
    } catch {
      // not JSON: keep the status
    }
    lastError = new ConfigError(`GetSecretValue failed: ${type}`);
    if (res.status < 500) break;
  }
  throw lastError instanceof Error ? lastError : new ConfigError('GetSecretValue failed');
}
