import { ConfigError, pickSecrets, type Secrets } from './config.ts';
import { logger } from './log.ts';

/**
 * The webhook secret in AWS (SECRET_ARN set): one Secrets Manager client for
 * the life of the execution environment, the secret fetched while the
 * environment initializes, and refreshed in the background.
 *
 * - fresh (younger than SECRET_REFRESH_SECONDS): served as is;
 * - stale but younger than SECRET_MAX_STALE_SECONDS: served at once, and one
 *   background refresh starts (stale-while-revalidate); a failed refresh keeps
 *   the value, so a Secrets Manager outage costs no request;
 * - older than that, or never fetched: the request waits for a fetch, which
 *   the hard timeouts below bound to about 3.5 s, then fails (503).
 *
 * Without SECRET_ARN (local mode, sam local) the environment variables are
 * the secrets.
 */

type Env = Record<string, string | undefined>;

export interface SecretsProvider {
  (): Promise<Secrets>;
  /** Settles (never rejects) when the first fetch has ended: the init phase awaits it. */
  readonly ready: Promise<void>;
}

/**
 * Per attempt: 1 s to connect, 1.5 s for the answer (`throwOnRequestTimeout`:
 * without it `requestTimeout` only logs a warning and a stalled endpoint holds
 * the request until the function times out); 2 attempts. Worst case ≈3.5 s,
 * inside Lambda's 10 s init and every function's timeout.
 */
export const SECRET_TIMEOUTS = { connectionTimeout: 1_000, requestTimeout: 1_500, maxAttempts: 2 } as const;

export interface SecretTimings {
  refreshMs: number;
  maxStaleMs: number;
}

function seconds(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number of seconds, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max} seconds, got ${n}`);
  return n;
}

/** SECRET_REFRESH_SECONDS (default 300) and SECRET_MAX_STALE_SECONDS (default 3600, at least the refresh interval). */
export function readSecretTimings(env: Env = process.env): SecretTimings {
  const refresh = seconds(env, 'SECRET_REFRESH_SECONDS', 300, 1, 86_400);
  const maxStale = seconds(env, 'SECRET_MAX_STALE_SECONDS', Math.max(3_600, refresh), 1, 604_800);
  if (maxStale < refresh) {
    throw new ConfigError(`SECRET_MAX_STALE_SECONDS (${maxStale}) must be at least SECRET_REFRESH_SECONDS (${refresh})`);
  }
  return { refreshMs: refresh * 1000, maxStaleMs: maxStale * 1000 };
}

export const DEFAULT_SECRET_TIMINGS: SecretTimings = { refreshMs: 300_000, maxStaleMs: 3_600_000 };

/**
 * What the functions use at run time: the configured timings, or — when they
 * are invalid — the defaults and one warning. A bad interval must not turn
 * every request into a 500 (the stack validates both at synth, so only a
 * hand edit of the function's environment gets here).
 */
export function runtimeSecretTimings(env: Env = process.env, warn: (message: string) => void = (m) => logger.warn(m)): SecretTimings {
  try {
    return readSecretTimings(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    warn(`${err.message}; using the defaults (${DEFAULT_SECRET_TIMINGS.refreshMs / 1000} s refresh, ${DEFAULT_SECRET_TIMINGS.maxStaleMs / 1000} s staleness bound)`);
    return DEFAULT_SECRET_TIMINGS;
  }
}

/** The secret's JSON as secrets; anything but a JSON object is a configuration error. */
export function parseSecretString(text: string | undefined): Secrets {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    throw new ConfigError('the webhook secret is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError('the webhook secret is not a JSON object');
  return pickSecrets({ ...parsed });
}

export interface ProviderOptions {
  /** Clock, for tests of the refresh rules. */
  now?: () => number;
  /** Where an invalid timing is reported (default: a warning log line). */
  warn?: (message: string) => void;
}

export function createSecretsProvider(env: Env = process.env, opts: ProviderOptions = {}): SecretsProvider {
  const secretId = env.SECRET_ARN?.trim();
  if (!secretId) {
    const fromEnv = pickSecrets(env);
    return Object.assign(async () => fromEnv, { ready: Promise.resolve() });
  }
  const { refreshMs, maxStaleMs } = runtimeSecretTimings(env, opts.warn);
  const now = opts.now ?? Date.now;
  const client = import('@aws-sdk/client-secrets-manager').then(({ SecretsManagerClient, GetSecretValueCommand }) => {
    const sm = new SecretsManagerClient({
      maxAttempts: SECRET_TIMEOUTS.maxAttempts,
      requestHandler: {
        connectionTimeout: SECRET_TIMEOUTS.connectionTimeout,
        requestTimeout: SECRET_TIMEOUTS.requestTimeout,
        throwOnRequestTimeout: true,
      },
    });
    return async () => (await sm.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  });

  let cached: { value: Secrets; at: number } | undefined;
  let inflight: Promise<Secrets> | undefined;
  const refresh = (): Promise<Secrets> => {
    inflight ??= client
      .then((get) => get())
      .then((text) => {
        const value = parseSecretString(text);
        cached = { value, at: now() };
        return value;
      })
      .finally(() => { inflight = undefined; });
    return inflight;
  };

  const ready = refresh().then(() => undefined, () => undefined);
  const provider = async (): Promise<Secrets> => {
    const age = cached ? now() - cached.at : Number.POSITIVE_INFINITY;
    if (cached && age < refreshMs) return cached.value;
    if (cached && age < maxStaleMs) {
      // The failure is not lost: the next request past the bound waits for, and reports, a fetch.
      refresh().catch(() => undefined);
      return cached.value;
    }
    return refresh();
  };
  return Object.assign(provider, { ready });
}
