import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { readSecretTimings, type SecretTimings } from '#shared/secrets';
import { LAST_INDEX_MIGRATION_STEP } from './table-indexes.ts';

/**
 * Everything a user may change without editing code, read from CDK context
 * (`cdk.json` "context", or `npx cdk deploy -c key=value`). Each value is
 * checked here, once, with a message that names the key: a typo fails the
 * synth instead of deploying something unexpected.
 *
 * | context key                 | default  | meaning |
 * |-----------------------------|----------|---------|
 * | stage                       | dev      | stage name; part of the stack name so stages can share an account |
 * | retentionDays               | (dev: forever; other stages: required) | days raw payloads, audio and index items are kept, or `forever` (docs/compliance.md) |
 * | audioTransitionDays         | 30       | days before audio/ moves to S3 Standard-IA |
 * | audioExpirationDays         | retentionDays | days after which audio/ objects expire (at most retentionDays) |
 * | rawTransitionDays           | 30       | days before raw/ moves to S3 Standard-IA |
 * | rawExpirationDays           | retentionDays | days after which raw/ payloads expire (at most retentionDays) |
 * | noncurrentVersionExpirationDays | 90   | days an overwritten/deleted object version is kept |
 * | objectLockDays              | (off)    | default Object Lock retention in days; enables Object Lock |
 * | objectLockMode              | GOVERNANCE | GOVERNANCE or COMPLIANCE (compliance cannot be shortened, not even by root) |
 * | logRetentionDays            | 90       | retention of function and access log groups (a CloudWatch RetentionDays value) |
 * | secretRefreshSeconds        | 300      | how often the functions re-read the webhook secret (1-86400) |
 * | secretMaxStaleSeconds       | 3600     | how long a cached secret is served while Secrets Manager fails (at least the refresh) |
 * | logLevel                    | INFO     | functions' log level (DEBUG, INFO, WARN, ERROR): Lambda's advanced logging controls, read by Powertools |
 * | engageVoiceTimeZone         | UTC      | IANA zone of Engage Voice `call_start` |
 * | defaultPhoneRegion          | US       | region for phone numbers without a country code |
 * | throttleRateLimit           | 50       | API stage steady-state requests per second |
 * | throttleBurstLimit          | 100      | API stage burst |
 * | authFailureAlarmThreshold   | 20       | 401 answers in 5 minutes that raise the auth-failure alarm |
 * | clientErrorAlarmThreshold   | 50       | 4xx answers of one route in 5 minutes that raise its 4xx-surge alarm |
 * | throttledAlarmThreshold     | 5        | 429 answers of one route in 5 minutes that raise its throttle alarm |
 * | latencyAlarmMs              | 3000     | p99 integration latency of a route (15 minutes) that raises its latency alarm |
 * | alarmEmail                  | (none)   | e-mail subscribed to the stack's alarm topic |
 * | alarmTopicArn               | (none)   | an existing SNS topic for the alarms instead of the stack's own |
 * |                             |          | a stage other than dev refuses to synthesize without one of the two |
 * | audioReservedConcurrency    | 10; dev 0 | concurrency reserved for the watsonx audio function (0 = none) |
 * | audioThrottleRateLimit      | 20       | requests per second of the watsonx route's own throttle bucket |
 * | audioThrottleBurstLimit     | 40       | burst of the watsonx route |
 * | accountConcurrencyLimit     | 1000     | the account's Lambda concurrency quota, for the concurrency alarm |
 * | domainName                  | (none)   | custom domain of the API (needs certificateArn or hostedZoneId) |
 * | certificateArn              | (none)   | ACM certificate for domainName, in the stack's region |
 * | hostedZoneId, hostedZoneName | (none)  | Route 53 zone: a DNS-validated certificate and an alias record are created |
 * | auditTrail                  | false    | a CloudTrail trail of S3 data events (reads and writes) on the bucket |
 * | indexMigration              | (none)   | 0-5: a step of moving a deployed table to the slim GSIs (infra/table-indexes.ts, docs/deploy.md); none = slim only
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
  /** How long raw payloads, audio and index items are kept: a number of days, or forever. */
  retention: { days: number } | 'forever';
  audioTransitionDays: number;
  audioExpirationDays?: number;
  rawTransitionDays: number;
  rawExpirationDays?: number;
  noncurrentVersionExpirationDays: number;
  objectLock?: { days: number; mode: 'GOVERNANCE' | 'COMPLIANCE' };
  logRetention: RetentionDays;
  logLevel: LogLevelName;
  /** Secret refresh interval and staleness bound, seconds (SECRET_REFRESH_SECONDS, SECRET_MAX_STALE_SECONDS). */
  secretTimings: { refreshSeconds: number; maxStaleSeconds: number };
  engageVoiceTimeZone: string;
  defaultPhoneRegion: string;
  throttle: { rateLimit: number; burstLimit: number };
  authFailureAlarmThreshold: number;
  clientErrorAlarmThreshold: number;
  throttledAlarmThreshold: number;
  latencyAlarmMs: number;
  alarmEmail?: string;
  alarmTopicArn?: string;
  /** Reserved concurrency of the audio function; 0 = none. */
  audioReservedConcurrency: number;
  audioThrottle: { rateLimit: number; burstLimit: number };
  accountConcurrencyLimit: number;
  domain?: { name: string; certificateArn?: string; hostedZone?: { id: string; name: string } };
  auditTrail: boolean;
  /** A step of the GSI migration (0-5); undefined = the final, slim indexes only. */
  indexMigration?: number;
  localInvoke: boolean;
}

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** The stage that may run without an alarm target (and without reserved concurrency by default). */
export const DEV_STAGE = 'dev';

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
  const logLevel = (str(get, 'logLevel') ?? 'INFO').toUpperCase();
  if (!LOG_LEVELS.some((l) => l === logLevel)) throw new ContextError(`context logLevel must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  // The functions' own rule (functions/shared/secrets.ts), applied at synth so a bad value cannot deploy.
  let timings: SecretTimings;
  try {
    timings = readSecretTimings({ SECRET_REFRESH_SECONDS: str(get, 'secretRefreshSeconds'), SECRET_MAX_STALE_SECONDS: str(get, 'secretMaxStaleSeconds') });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ContextError(`context ${message.replace('SECRET_REFRESH_SECONDS', 'secretRefreshSeconds').replace('SECRET_MAX_STALE_SECONDS', 'secretMaxStaleSeconds')}`);
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
  const retention = readRetention(get, stage);
  const retentionDays = retention === 'forever' ? undefined : retention.days;
  const refine = (key: string): number | undefined => {
    const days = int(get, key, 1, 36500);
    if (days !== undefined && retentionDays !== undefined && days > retentionDays) {
      throw new ContextError(`context ${key} (${days}) may only shorten retentionDays (${retentionDays}): index items expire after retentionDays`);
    }
    return days ?? retentionDays;
  };
  const audioExpirationDays = refine('audioExpirationDays');
  const rawExpirationDays = refine('rawExpirationDays');
  // An explicit per-prefix expiration must come after its transition; one taken
  // from retentionDays drops the transition instead (the stack skips it).
  if (get('audioExpirationDays') !== undefined && audioExpirationDays !== undefined && audioExpirationDays <= audioTransitionDays) {
    throw new ContextError('context audioExpirationDays must be greater than audioTransitionDays');
  }
  if (get('rawExpirationDays') !== undefined && rawExpirationDays !== undefined && rawExpirationDays <= rawTransitionDays) {
    throw new ContextError('context rawExpirationDays must be greater than rawTransitionDays');
  }

  const lockDays = int(get, 'objectLockDays', 1, 36500);
  const lockMode = (str(get, 'objectLockMode') ?? 'GOVERNANCE').toUpperCase();
  if (lockMode !== 'GOVERNANCE' && lockMode !== 'COMPLIANCE') throw new ContextError('context objectLockMode must be GOVERNANCE or COMPLIANCE');
  if (lockDays !== undefined && retentionDays !== undefined && lockDays > retentionDays) {
    throw new ContextError(`context objectLockDays (${lockDays}) keeps every object longer than retentionDays (${retentionDays}): set retentionDays to at least ${lockDays}`);
  }

  const rateLimit = int(get, 'throttleRateLimit', 1, 10_000) ?? 50;
  const burstLimit = int(get, 'throttleBurstLimit', 1, 5_000) ?? 100;

  const alarmEmail = str(get, 'alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    throw new ContextError(`context alarmEmail is not an e-mail address`);
  }

  const alarmTopicArn = str(get, 'alarmTopicArn');
  if (alarmTopicArn !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(alarmTopicArn)) {
    throw new ContextError('context alarmTopicArn is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)');
  }
  if (stage !== DEV_STAGE && alarmEmail === undefined && alarmTopicArn === undefined) {
    throw new ContextError(`stage ${stage} needs somewhere to send its alarms: set context alarmEmail (e.g. -c alarmEmail=ops@example.com) or alarmTopicArn (an existing SNS topic)`);
  }

  const domainName = str(get, 'domainName')?.toLowerCase();
  const certificateArn = str(get, 'certificateArn');
  const hostedZoneId = str(get, 'hostedZoneId');
  const hostedZoneName = str(get, 'hostedZoneName')?.toLowerCase().replace(/\.$/, '');
  let domain: StackConfig['domain'];
  if (domainName !== undefined) {
    if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domainName)) throw new ContextError(`context domainName "${domainName}" is not a domain name`);
    if (certificateArn !== undefined && !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(certificateArn)) {
      throw new ContextError('context certificateArn is not an ACM certificate ARN');
    }
    if ((hostedZoneId === undefined) !== (hostedZoneName === undefined)) throw new ContextError('context hostedZoneId and hostedZoneName go together');
    if (certificateArn === undefined && hostedZoneId === undefined) {
      throw new ContextError('context domainName needs certificateArn (an ACM certificate in the stack region) or hostedZoneId + hostedZoneName (to create one)');
    }
    if (hostedZoneName !== undefined && domainName !== hostedZoneName && !domainName.endsWith(`.${hostedZoneName}`)) {
      throw new ContextError(`context domainName ${domainName} is not inside hostedZoneName ${hostedZoneName}`);
    }
    domain = {
      name: domainName,
      ...(certificateArn !== undefined ? { certificateArn } : {}),
      ...(hostedZoneId !== undefined && hostedZoneName !== undefined ? { hostedZone: { id: hostedZoneId, name: hostedZoneName } } : {}),
    };
  } else if (certificateArn !== undefined || hostedZoneId !== undefined) {
    throw new ContextError('context certificateArn and hostedZoneId need domainName');
  }

  const indexMigration = int(get, 'indexMigration', 0, LAST_INDEX_MIGRATION_STEP);
  return {
    stage,
    retention,
    audioTransitionDays,
    ...(audioExpirationDays !== undefined ? { audioExpirationDays } : {}),
    rawTransitionDays,
    ...(rawExpirationDays !== undefined ? { rawExpirationDays } : {}),
    noncurrentVersionExpirationDays: int(get, 'noncurrentVersionExpirationDays', 1, 3650) ?? 90,
    ...(lockDays !== undefined ? { objectLock: { days: lockDays, mode: lockMode } } : {}),
    logRetention: logDays,
    logLevel: logLevel as LogLevelName,
    secretTimings: { refreshSeconds: timings.refreshMs / 1000, maxStaleSeconds: timings.maxStaleMs / 1000 },
    engageVoiceTimeZone,
    defaultPhoneRegion,
    throttle: { rateLimit, burstLimit },
    authFailureAlarmThreshold: int(get, 'authFailureAlarmThreshold', 1, 100_000) ?? 20,
    clientErrorAlarmThreshold: int(get, 'clientErrorAlarmThreshold', 1, 1_000_000) ?? 50,
    throttledAlarmThreshold: int(get, 'throttledAlarmThreshold', 1, 1_000_000) ?? 5,
    latencyAlarmMs: int(get, 'latencyAlarmMs', 100, 30_000) ?? 3000,
    ...(alarmEmail !== undefined ? { alarmEmail } : {}),
    ...(alarmTopicArn !== undefined ? { alarmTopicArn } : {}),
    audioReservedConcurrency: int(get, 'audioReservedConcurrency', 0, 1000) ?? (stage === DEV_STAGE ? 0 : 10),
    audioThrottle: { rateLimit: int(get, 'audioThrottleRateLimit', 1, 10_000) ?? 20, burstLimit: int(get, 'audioThrottleBurstLimit', 1, 5_000) ?? 40 },
    accountConcurrencyLimit: int(get, 'accountConcurrencyLimit', 10, 100_000) ?? 1000,
    ...(domain ? { domain } : {}),
    auditTrail: bool(get, 'auditTrail'),
    ...(indexMigration !== undefined ? { indexMigration } : {}),
    localInvoke: bool(get, 'localInvoke'),
  };
}

/**
 * A stage other than dev must choose its retention: `-c retentionDays=<days>`
 * or `-c retentionDays=forever`. Personal data kept "by default, forever" is
 * a choice nobody made.
 */
function readRetention(get: Lookup, stage: string): StackConfig['retention'] {
  const raw = str(get, 'retentionDays');
  if (raw === undefined) {
    if (stage === 'dev') return 'forever';
    throw new ContextError(`stage ${stage} needs an explicit retention: set context retentionDays to a number of days (e.g. -c retentionDays=365) or to forever (-c retentionDays=forever); see docs/compliance.md`);
  }
  if (raw.toLowerCase() === 'forever') return 'forever';
  if (!/^\d+$/.test(raw)) throw new ContextError(`context retentionDays must be a whole number of days or forever, got "${raw}"`);
  const days = int(get, 'retentionDays', 1, 36500);
  return { days: days ?? 0 };
}

/** Stack name for a stage: two stages live side by side in one account. */
export function stackName(stage: string): string {
  return `VoiceWebhooks-${stage}`;
}
