import { SecretsManagerClient, GetSecretValueCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import * as v from 'valibot';
import { fillSecret, parseSecret } from './fill.ts';

/**
 * Custom resource (Lambda-backed, no provider framework): fills the webhook
 * secret's missing keys on Create and Update, does nothing on Delete (the
 * secret itself is retained). CloudFormation waits for an answer on the
 * pre-signed ResponseURL, so every path answers — an invalid event, a stalled
 * or failing Secrets Manager, a stored value that is not JSON — and does so
 * before the function's own time runs out. It never returns or logs a value.
 */

const EventSchema = v.object({
  RequestType: v.picklist(['Create', 'Update', 'Delete']),
  ResponseURL: v.pipe(v.string(), v.url()),
  StackId: v.string(),
  RequestId: v.string(),
  LogicalResourceId: v.string(),
  PhysicalResourceId: v.optional(v.string()),
  ResourceProperties: v.object({
    SecretArn: v.string(),
    GeneratedKeys: v.array(v.string()),
    EmptyKeys: v.array(v.string()),
  }),
});

/** Time kept back from the function's timeout to answer CloudFormation. */
export const ANSWER_RESERVE_MS = 5_000;
/** Per answer attempt; two attempts fit in the reserve. */
const ANSWER_TIMEOUT_MS = 2_000;
/** Without a Lambda context (never in AWS): the function's configured timeout. */
const DEFAULT_REMAINING_MS = 60_000;

// Bounded per attempt (throwOnRequestTimeout: requestTimeout alone only warns);
// the whole job is bounded again by the deadline below.
const sm = new SecretsManagerClient({
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
});

interface Answer {
  ResponseURL: string;
  StackId?: string;
  RequestId?: string;
  LogicalResourceId?: string;
  PhysicalResourceId?: string;
}

function log(level: 'info' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ level, msg, ...fields }));
}

async function respond(event: Answer, status: 'SUCCESS' | 'FAILED', reason: string): Promise<void> {
  const body = JSON.stringify({
    Status: status,
    Reason: reason,
    PhysicalResourceId: event.PhysicalResourceId ?? `fill-${event.LogicalResourceId ?? 'secret'}`,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    NoEcho: true,
  });
  let last: unknown;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const res = await fetch(event.ResponseURL, {
        method: 'PUT', body, headers: { 'content-type': '' }, signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
      });
      if (res.ok) return;
      last = new Error(`HTTP ${res.status}`);
    } catch (err) {
      last = err;
    }
  }
  log('error', 'answering CloudFormation failed', { errorName: last instanceof Error ? last.name : typeof last });
}

async function fill(props: v.InferOutput<typeof EventSchema>['ResourceProperties'], signal: AbortSignal): Promise<string[]> {
  const current = await sm.send(new GetSecretValueCommand({ SecretId: props.SecretArn }), { abortSignal: signal });
  const { value, added } = fillSecret(parseSecret(current.SecretString), { generated: props.GeneratedKeys, empty: props.EmptyKeys });
  if (added.length > 0) {
    await sm.send(new PutSecretValueCommand({ SecretId: props.SecretArn, SecretString: JSON.stringify(value) }), { abortSignal: signal });
  }
  return added;
}

function stringField(raw: unknown, key: string): string | undefined {
  const value: unknown = typeof raw === 'object' && raw !== null ? Reflect.get(raw, key) : undefined;
  return typeof value === 'string' ? value : undefined;
}

export const handler = async (raw: unknown, context?: { getRemainingTimeInMillis?: () => number }): Promise<void> => {
  const parsed = v.safeParse(EventSchema, raw);
  if (!parsed.success) {
    const responseUrl = stringField(raw, 'ResponseURL');
    const issues = parsed.issues.map((i) => `${v.getDotPath(i) ?? '(event)'}: ${i.message}`);
    log('error', 'not a valid custom resource event', { issues });
    if (responseUrl && URL.canParse(responseUrl)) {
      const ids = Object.fromEntries(['StackId', 'RequestId', 'LogicalResourceId', 'PhysicalResourceId']
        .flatMap((k) => { const s = stringField(raw, k); return s === undefined ? [] : [[k, s]]; })) as Omit<Answer, 'ResponseURL'>;
      await respond({ ResponseURL: responseUrl, ...ids }, 'FAILED', `invalid custom resource event: ${issues.join('; ').slice(0, 500)}`);
    }
    return;
  }
  const event = parsed.output;
  if (event.RequestType === 'Delete') {
    await respond(event, 'SUCCESS', 'the secret is retained');
    return;
  }
  const remaining = context?.getRemainingTimeInMillis?.() ?? DEFAULT_REMAINING_MS;
  const budget = Math.max(remaining - ANSWER_RESERVE_MS, 1_000);
  const signal = AbortSignal.timeout(budget);
  try {
    const added = await fill(event.ResourceProperties, signal);
    log('info', 'webhook secret checked', { added });
    await respond(event, 'SUCCESS', added.length > 0 ? `added ${added.join(', ')}` : 'nothing missing');
  } catch (err) {
    const name = signal.aborted ? 'Timeout' : err instanceof Error ? err.name : 'Error';
    const detail = err instanceof Error && err.name === 'StoredSecretError' ? `: ${err.message}` : '';
    log('error', 'filling the webhook secret failed', { errorName: name });
    await respond(event, 'FAILED', `filling the webhook secret failed (${name})${detail}`);
  }
};
