import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';

/**
 * Everything a user may change without editing code, read from CDK context
 * (`cdk.json` "context", or `npx cdk deploy -c key=value`). Each value is
 * checked here, once, with a message that names the key: a typo fails the
 * synth instead of deploying something unexpected.
 *
 * | context key                 | default  | meaning |
 * |-----------------------------|----------|---------|
 * | stage                       | dev      | stage name; part of the stack name so stages can share an account |
 * | audioTransitionDays         | 30       | days before audio/ moves to S3 Standard-IA |
 * | audioExpirationDays         | (never)  | days after which audio/ objects expire |
 * | rawTransitionDays           | 30       | days before raw/ moves to S3 Standard-IA |
 * | rawExpirationDays           | (never)  | days after which raw/ payloads expire |
 * | noncurrentVersionExpirationDays | 90   | days an overwritten/deleted object version is kept |
 * | objectLockDays              | (off)    | default Object Lock retention in days; enables Object Lock |
 * | objectLockMode              | GOVERNANCE | GOVERNANCE or COMPLIANCE (compliance cannot be shortened, not even by root) |
 * | logRetentionDays            | 90       | retention of function and access log groups (a CloudWatch RetentionDays value) |
 * | engageVoiceTimeZone         | UTC      | IANA zone of Engage Voice `call_start` |
 * | defaultPhoneRegion          | US       | region for phone numbers without a country code |
 * | throttleRateLimit           | 50       | API stage steady-state requests per second |
 * | throttleBurstLimit          | 100      | API stage burst |
 * | authFailureAlarmThreshold   | 20       | 401 answers in 5 minutes that raise the auth-failure alarm |
 * | alarmEmail                  | (none)   | e-mail subscribed to the alarm topic; no topic without it |
 * | localInvoke                 | false    | template for `sam local invoke` only (never deploy it): see below |
 *
 * `sam local invoke --env-vars` can only override variables the template
 * declares. With `-c localInvoke=true` the functions' environment also
 * declares every secret variable (empty), SECRET_ARN empty (so the handlers
 * read secrets from the environment, as in local mode) and the SDK endpoint
 * variables pointing at `npm start`'s embedded servers from inside Docker.
 * A deployed template never carries any of them.
 */
export interface StackConfig {
  stage: string;
  audioTransitionDays: number;
  audioExpirationDays?: number;
  rawTransitionDays: number;
  rawExpirationDays?: number;
  noncurrentVersionExpirationDays: number;
  objectLock?: { days: number; mode: 'GOVERNANCE' | 'COMPLIANCE' };
  logRetention: RetentionDays;
  engageVoiceTimeZone: string;
  defaultPhoneRegion: string;
  throttle: { rateLimit: number; burstLimit: number };
  authFailureAlarmThreshold: number;
  alarmEmail?: string;
  localInvoke: boolean;
}

export class ContextError extends Error {
  override name = 'ContextError';
}

type Lookup = (key: string) => unknown;

function str(get: Lookup, key: string): string | undefined {
  const v = get(key);
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw new ContextError(`context ${key} must be a string`);
  return String(v).trim();
}

function int(get: Lookup, key: string, min: number, max: number): number | undefined {
  const s = str(get, key);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s)) throw new ContextError(`context ${key} must be a whole number, got "${s}"`);
  const n = Number(s);
  if (n < min || n > max) throw new ContextError(`context ${key} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(get: Lookup, key: string): boolean {
  const v = get(key);
  if (v === undefined || v === null || v === '' || v === false || v === 'false') return false;
  if (v === true || v === 'true') return true;
  throw new ContextError(`context ${key} must be true or false`);
}

const RETENTION_VALUES = new Set<number>(Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'));

/** Reads and validates the stack configuration from a construct node's context (or any lookup). */
export function readStackConfig(source: Node | Lookup): StackConfig {
  const get: Lookup = typeof source === 'function' ? source : (key) => source.tryGetContext(key);
  const stage = str(get, 'stage') ?? 'dev';
  if (!/^[a-z][a-z0-9-]{0,19}$/.test(stage)) {
    throw new ContextError(`context stage must be 1-20 lowercase letters, digits or dashes starting with a letter, got "${stage}"`);
  }
  const logDays = int(get, 'logRetentionDays', 1, 3653) ?? 90;
  if (!RETENTION_VALUES.has(logDays)) {
    throw new ContextError(`context logRetentionDays must be one of ${[...RETENTION_VALUES].filter((d) => d > 0).sort((a, b) => a - b).join(', ')}`);
  }
  const engageVoiceTimeZone = str(get, 'engageVoiceTimeZone') ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: engageVoiceTimeZone });
  } catch {
    throw new ContextError(`context engageVoiceTimeZone "${engageVoiceTimeZone}" is not an IANA time zone (e.g. America/New_York)`);
  }
  const defaultPhoneRegion = (str(get, 'defaultPhoneRegion') ?? 'US').toUpperCase();
  if (!/^[A-Z]{2}$/.test(defaultPhoneRegion)) throw new ContextError(`context defaultPhoneRegion must be a two-letter region code`);

  const audioTransitionDays = int(get, 'audioTransitionDays', 30, 3650) ?? 30;
  const rawTransitionDays = int(get, 'rawTransitionDays', 30, 3650) ?? 30;
  const audioExpirationDays = int(get, 'audioExpirationDays', 1, 36500);
  const rawExpirationDays = int(get, 'rawExpirationDays', 1, 36500);
  if (audioExpirationDays !== undefined && audioExpirationDays <= audioTransitionDays) {
    throw new ContextError('context audioExpirationDays must be greater than audioTransitionDays');
  }
  if (rawExpirationDays !== undefined && rawExpirationDays <= rawTransitionDays) {
    throw new ContextError('context rawExpirationDays must be greater than rawTransitionDays');
  }

  const lockDays = int(get, 'objectLockDays', 1, 36500);
  const lockMode = (str(get, 'objectLockMode') ?? 'GOVERNANCE').toUpperCase();
  if (lockMode !== 'GOVERNANCE' && lockMode !== 'COMPLIANCE') throw new ContextError('context objectLockMode must be GOVERNANCE or COMPLIANCE');

  const rateLimit = int(get, 'throttleRateLimit', 1, 10_000) ?? 50;
  const burstLimit = int(get, 'throttleBurstLimit', 1, 5_000) ?? 100;

  const alarmEmail = str(get, 'alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    throw new ContextError(`context alarmEmail is not an e-mail address`);
  }

  return {
    stage,
    audioTransitionDays,
    ...(audioExpirationDays !== undefined ? { audioExpirationDays } : {}),
    rawTransitionDays,
    ...(rawExpirationDays !== undefined ? { rawExpirationDays } : {}),
    noncurrentVersionExpirationDays: int(get, 'noncurrentVersionExpirationDays', 1, 3650) ?? 90,
    ...(lockDays !== undefined ? { objectLock: { days: lockDays, mode: lockMode } } : {}),
    logRetention: logDays,
    engageVoiceTimeZone,
    defaultPhoneRegion,
    throttle: { rateLimit, burstLimit },
    authFailureAlarmThreshold: int(get, 'authFailureAlarmThreshold', 1, 100_000) ?? 20,
    ...(alarmEmail !== undefined ? { alarmEmail } : {}),
    localInvoke: bool(get, 'localInvoke'),
  };
}

/** Stack name for a stage: two stages live side by side in one account. */
export function stackName(stage: string): string {
  return `VoiceWebhooks-${stage}`;
}
