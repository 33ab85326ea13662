/**
 * Configuration, read once per cold start. Settings come from environment
 * variables; secrets come from the environment locally and, in AWS, from the
 * one Secrets Manager secret named by SECRET_ARN (./secrets.ts: fetched at
 * init, refreshed in the background so a rotation takes effect without a deploy).
 */

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
  /** Days an index item is kept (its TTL); unset: forever. The stack passes the stage's retentionDays. */
  retentionDays?: number;
  /** Queue of vendor recordings to copy into the bucket (functions/recordings); none: nothing is queued. */
  recordingsQueueUrl?: string;
}

import { secretKeysOf, type BINDING_NAMES, type CredentialName, type OUTBOUND_NAMES } from './sources.ts';

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
  const retention = env.RETENTION_DAYS?.trim();
  if (retention && !/^[1-9]\d{0,4}$/.test(retention)) throw new ConfigError(`RETENTION_DAYS "${retention}" is not a whole number of days`);
  return {
    bucketName: required(env, 'BUCKET_NAME'),
    tableName: required(env, 'TABLE_NAME'),
    engageTimeZone,
    defaultPhoneRegion,
    ...(retention ? { retentionDays: Number(retention) } : {}),
    recordingsQueueUrl: env.RECORDINGS_QUEUE_URL?.trim() || undefined,
  };
}

/**
 * Inbound credentials (what a delivery must present), watsonx environment
 * bindings and the recordings worker's outbound credentials: each source
 * declares its own in the registry (./sources.ts). During a rotation each
 * credential may also have a previous value, `<NAME>_PREVIOUS`, accepted beside
 * the current one until the rotation is finished.
 */
export { CREDENTIAL_NAMES, BINDING_NAMES, OUTBOUND_NAMES, type CredentialName } from './sources.ts';
export type PreviousName = `${CredentialName}_PREVIOUS`;

export function previousName<N extends CredentialName>(name: N): `${N}_PREVIOUS` {
  return `${name}_PREVIOUS`;
}

/** Every key of the secret (and local environment variable) the handlers read. */
export const SECRET_NAMES = secretKeysOf() as readonly SecretName[];
export type SecretName = CredentialName | PreviousName | (typeof BINDING_NAMES)[number] | (typeof OUTBOUND_NAMES)[number];
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
