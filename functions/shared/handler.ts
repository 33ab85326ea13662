import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { HttpError, MethodNotAllowed, ServiceUnavailable } from './errors.ts';
import { decodeEvent, type WebhookRequest } from './request.ts';
import { type Dimensions, type Logger, MetricUnit, countColdStart, errorFields, logger, takeColdStart } from './log.ts';
import { readSettings, type CredentialName, type Settings, type Secrets } from './config.ts';
import { createSecretsProvider, type SecretsProvider } from './secrets.ts';
import { warmParsers, warmUp } from './warm.ts';
import type { Outcome } from './storage.ts';

/**
 * The one place a request becomes a response (middy's http-error-handler idea):
 * decode the event, check the method, run the handler's pipeline, map typed
 * errors to JSON `{ error, message }`, count the outcome as an embedded metric,
 * and log one line per request with nothing secret or personal in it.
 */

export type LambdaHandler = (event: APIGatewayProxyEventV2, context?: Partial<Context>) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Invocation {
  req: WebhookRequest;
  log: Logger;
  settings: Settings;
  /** Resolves the current secrets (cached; refreshed in AWS). */
  secrets: () => Promise<Secrets>;
}

export interface Accepted {
  /** Which source the delivery was for (metrics dimension). */
  source: string;
  /** `not-a-call`: an authenticated delivery kept in the S3 archive that is not a call (Vapi's other server messages). */
  outcome: Outcome | 'not-a-call';
  /** Extra fields for the response body (ids, keys); nothing secret. */
  body?: Record<string, unknown>;
  statusCode?: number;
  /** Credentials the delivery passed on their previous value: a rotation the vendor has not caught up with. */
  previous?: readonly CredentialName[];
}

export interface HandlerOptions {
  name: string;
  methods: readonly string[];
  /** Metrics/log label for a request rejected before its source is known. */
  sourceOf?: (req: WebhookRequest) => string;
  /**
   * First-use work to do during init rather than in the first request (./warm.ts),
   * given the settings when they are valid. Writes nothing; a failure is ignored.
   * `code`: parsers, crypto, interpreters, always. `clients`: the SDK clients' first
   * requests, only in the deployed configuration (SECRET_ARN set), where the
   * environment is fixed before init: a client memoizes its endpoint, region and
   * credentials at its first request, and tools (npm start, invoke) import the
   * handlers before they point the environment at their storage.
   */
  warm?: { code?: (settings: Settings) => WarmSteps; clients?: (settings: Settings) => WarmSteps };
}

type WarmSteps = readonly (() => unknown)[];

const METRIC_OF: Record<Outcome | 'not-a-call', string> = {
  stored: 'Accepted', duplicate: 'Duplicate', stale: 'Stale', archived: 'IndexWriteFailed', 'not-a-call': 'NotACall',
};

/** Dimension sets of a count: per source (dashboard), and the whole service (what the alarms read). */
const perSource = (source: string): Dimensions[] => [{ Source: source }, {}];

/** What a sender (or the user replaying) reads when the bytes are safe but the index write failed. */
export const ARCHIVED_MESSAGE = 'archived, not indexed: the delivery is safe in the S3 archive but the index write failed; run `npm run reindex` to index it';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(err: HttpError): APIGatewayProxyStructuredResultV2 {
  return jsonResponse(err.statusCode, { error: err.code, message: err.message }, err.headers);
}

let settings: Settings | undefined;
let secrets: SecretsProvider | undefined;

/** The deployed configuration: the secrets come from Secrets Manager, and Lambda fixed the environment before init. */
const deployed = (): boolean => Boolean(process.env.SECRET_ARN?.trim());

/**
 * In AWS (SECRET_ARN set) the first secret fetch starts when the handler is
 * built, beside the warm-up (warmInit), and its composition root awaits
 * `ready` at top level, so the execution environment's init waits for both,
 * not the first request. A failed
 * or invalid fetch never fails the init: the first request retries it, and
 * answers 503 if it fails again.
 */
function startSecrets(): Promise<void> {
  if (secrets || !deployed()) return Promise.resolve();
  try {
    secrets = createSecretsProvider();
    return secrets.ready;
  } catch {
    secrets = undefined;
    return Promise.resolve();
  }
}

/** Reading the settings once during init also loads ICU's time-zone data (the Engage Voice zone is validated). */
async function warmInit(opts: HandlerOptions): Promise<void> {
  countColdStart(opts.name);
  let valid: Settings;
  try {
    valid = readSettings();
  } catch {
    return; // every request answers the configuration error itself
  }
  await warmUp([
    () => warmParsers(valid.defaultPhoneRegion),
    ...(opts.warm?.code?.(valid) ?? []),
    ...(deployed() ? opts.warm?.clients?.(valid) ?? [] : []),
  ]);
}

/** Test seam: forget configuration read from the environment, as a new cold start would. */
export function resetConfiguration(): void {
  settings = undefined;
  secrets = undefined;
}

export function webhookHandler(opts: HandlerOptions, run: (inv: Invocation) => Promise<Accepted>): LambdaHandler & { ready: Promise<void> } {
  const ready = Promise.all([startSecrets(), warmInit(opts)]).then(() => undefined);
  const handle: LambdaHandler = async (event, context) => {
    const started = Date.now();
    // Correlation id = API Gateway's request id, the id of the access log line too.
    const correlationId = event.requestContext?.requestId ?? context?.awsRequestId ?? 'local';
    let log = logger.child({
      handler: opts.name,
      correlation_id: correlationId,
      ...(context?.awsRequestId ? { function_request_id: context.awsRequestId } : {}),
      cold_start: takeColdStart(context?.functionName ?? opts.name),
    });
    let source = opts.name;
    try {
      settings ??= readSettings();
      const provider = secrets ??= createSecretsProvider();
      const req = decodeEvent(event);
      source = opts.sourceOf?.(req) ?? opts.name;
      log = log.child({ source });
      if (!opts.methods.includes(req.method)) throw new MethodNotAllowed(opts.methods);
      const loadSecrets = async () => {
        try {
          return await provider();
        } catch (err) {
          log.error('secrets unavailable', errorFields(err));
          throw new ServiceUnavailable('configuration is unavailable, retry later', err);
        }
      };
      const result = await run({ req, log, settings, secrets: loadSecrets });
      const ms = Date.now() - started;
      log.metric(METRIC_OF[result.outcome], perSource(result.source));
      log.metric('Latency', { Source: result.source }, ms, MetricUnit.Milliseconds);
      // Names only: the operator finishes a rotation once this count stays at zero.
      const previous = result.previous?.length ? { acceptedOnPrevious: result.previous.join(',') } : {};
      if (result.previous?.length) log.metric('AcceptedOnPreviousSecret', { Source: result.source });
      log.info('delivery accepted', { outcome: result.outcome, status: result.statusCode ?? 200, ms, ...previous });
      const note = result.outcome === 'archived' ? { indexed: false, message: ARCHIVED_MESSAGE } : {};
      return jsonResponse(result.statusCode ?? 200, { ok: true, outcome: result.outcome, ...note, ...result.body });
    } catch (err) {
      if (err instanceof HttpError) {
        const kind = err.statusCode >= 500 ? 'Unavailable' : 'Rejected';
        log.metric(kind, [{ Source: source, Reason: err.code }, {}]);
        // Every 401, whatever its reason: the auth-failure alarm reads the service-wide count.
        if (err.statusCode === 401) log.metric('AuthFailed', perSource(source));
        log.warn(err.statusCode >= 500 ? 'delivery failed' : 'delivery rejected', {
          status: err.statusCode, reason: err.code, ms: Date.now() - started,
        });
        return errorResponse(err);
      }
      log.error('unhandled error', { ...errorFields(err), ms: Date.now() - started });
      log.metric('Error', perSource(source));
      return jsonResponse(500, { error: 'internal_error', message: 'internal error' });
    }
  };
  return Object.assign(handle, { ready });
}
