import * as v from 'valibot';
import { BadRequest } from '#shared/errors';
import { isPlainObject } from '../json.ts';
import type { CallStatus, Interpretation, InterpretContext, NormalizedCall, Source } from '#shared/model';
import type { CredentialName, SecretName, Secrets } from '#shared/config';
import type { WebhookRequest } from '#shared/request';

/**
 * One vendor behind `POST /call-completed/<provider>`. Pure functions of the
 * request bytes and headers: no AWS, no clock. Adding a vendor is one file
 * exporting one of these (listed in `index.ts`) plus its registry entry
 * (functions/shared/sources.ts); see ../README.md.
 */
export interface CallProvider {
  /** Path segment and stored `source`. */
  readonly source: Source;
  /** Secret names that configure its checks (fail closed when none is set). */
  readonly authVariables: readonly SecretName[];
  /**
   * Throws Unauthorized (401) unless every configured check passes; returns the
   * credentials that passed on their previous value (a rotation in progress).
   */
  authenticate(req: WebhookRequest, secrets: Secrets): readonly CredentialName[];
  /** The archived raw body to the normalized call (throws BadRequest on a malformed body). */
  interpret(raw: Uint8Array, ctx: InterpretContext): Interpretation;
  /**
   * For vendors that post more than calls to one URL (Vapi's server messages):
   * the call, or a delivery to archive raw without indexing. Absent: every
   * delivery is a call (`interpret`).
   */
  read?(raw: Uint8Array, ctx: InterpretContext): Interpretation | NotACall;
  /**
   * Recordings the vendor holds that the delivery did not link to, added before
   * the call is stored when the vendor's API key is configured (so the
   * recordings worker fetches them through the API). Absent: none.
   */
  withApiRecordings?(call: NormalizedCall, secrets: Secrets): NormalizedCall;
}

/** An authenticated delivery that is not a call: archived raw, not indexed. */
export interface NotACall {
  notACall: true;
  /** The vendor's message type, e.g. Vapi's `status-update`. */
  messageType: string;
  /** The call it belongs to, when it names one with a safe id. */
  callId?: string;
}

export { SafeId } from '#shared/keys';

/** valibot result or a 400 naming the first offending field. */
export function validate<const S extends v.GenericSchema>(schema: S, input: unknown, what: string): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = v.getDotPath(issue) ?? '';
  throw new BadRequest(`${what}: ${path ? `${path} ` : ''}${issue.message}`, 'invalid_payload');
}

/**
 * Orders events for one call: the vendor's own event time (epoch ms) then a
 * status rank, so a final status beats IN_PROGRESS carrying the same time.
 * The result stays far below 2^53 (ms * 10 ≈ 1.8e13).
 */
export const STATUS_RANK = { inProgress: 0, unknown: 1, final: 2 } as const;

export function statusRank(status: CallStatus | undefined): number {
  if (status === 'in-progress') return STATUS_RANK.inProgress;
  return status === 'unknown' || status === undefined ? STATUS_RANK.unknown : STATUS_RANK.final;
}

export function eventVersion(eventMs: number | undefined, status: CallStatus | undefined): number {
  return (eventMs ?? 0) * 10 + statusRank(status);
}

/** A JSON object map (valibot's record would turn an array into one). */
export const JsonMap = v.nullish(v.custom<Record<string, unknown>>(isPlainObject, 'must be a JSON object'));
