import { Logger as PowertoolsLogger, type LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricUnit as Unit } from '@aws-lambda-powertools/metrics/types';

/**
 * Logs and metrics through Powertools for AWS Lambda: its Logger (JSON lines
 * with level, message, timestamp, service, X-Ray trace id; the level from
 * Lambda's advanced logging controls, else POWERTOOLS_LOG_LEVEL, else INFO)
 * and its Metrics (CloudWatch embedded metric format, validated).
 *
 * Two things are ours:
 * - where the lines go: one sink, stdout by default; local mode and tests swap it;
 * - a redaction layer (the JSON replacer every line passes through). Callers
 *   pass only fields that are safe to keep (never a secret, token, JWT,
 *   signature or phone number); the replacer is the second line of defence.
 */

export const SERVICE_NAME = 'voice-webhooks';
/** CloudWatch namespace of every metric the functions emit (the stack alarms on it). */
export const METRIC_NAMESPACE = 'VoiceWebhooks';
export { MetricUnit };

type Sink = (line: string) => void;
const stdout: Sink = (line) => { process.stdout.write(line + '\n'); };
let sink: Sink = stdout;

/** Local mode and tests capture the log stream (log lines and EMF records) through this. */
export function setLogSink(next: Sink): Sink {
  const previous = sink;
  sink = next;
  return previous;
}

export const REDACTED = '[redacted]';
/** Field names whose value is a credential or a phone number, whatever it looks like. */
const SECRET_KEY = /authorization|token|secret|password|passwd|signature|jwt|cookie|api[-_]?key|credential|phone|number$|^(ani|dnis|from|to)$/i;
/** Values that are credentials or numbers wherever they appear. */
const SECRET_VALUE = [
  /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g,           // a JWT (header starts with {" base64url)
  /\b(bearer|basic)\s+[\w+/=.~-]{8,}/gi,         // an Authorization header value
  /\+\d[\d ().-]{6,18}\d/g,                       // an international phone number
];

/**
 * The replacer of every log line: a string under a name that holds credentials
 * or numbers loses its value, credential and number shapes are masked inside
 * any string. Counts (`AcceptedOnPreviousSecret: 1`) and names of secrets
 * (`acceptedOnPrevious: "X_SECRET"`) match neither rule and pass.
 */
export function redact(key: string, value: unknown): unknown {
  if (value === null || value === undefined || typeof value === 'boolean') return value;
  if (typeof value !== 'string') return value;
  if (key !== '' && SECRET_KEY.test(key)) return REDACTED;
  let out = value;
  for (const pattern of SECRET_VALUE) out = out.replace(pattern, REDACTED);
  return out;
}

/** Powertools' Logger with its output sent to the sink. */
class SinkLogger extends PowertoolsLogger {
  protected override printLog(_level: number, item: LogItem): void {
    item.prepareForPrint();
    sink(JSON.stringify(item.getAttributes(), this.getJsonReplacer()));
  }

  protected override createLogger(options?: ConstructorOptions): SinkLogger {
    return new SinkLogger(options);
  }
}

const powertools = new SinkLogger({ serviceName: SERVICE_NAME, jsonReplacerFn: redact });

type Fields = Record<string, unknown>;

/**
 * A request's (or a queue message's) logger: its keys ride on every line it
 * writes through the one Powertools Logger. Keys are passed per line rather
 * than with appendKeys because local mode serves concurrent requests from one
 * process, and Powertools' createChild costs ≈90 µs a request (a new Console).
 */
export class Logger {
  constructor(private readonly keys: Fields = {}) {}

  child(extra: Fields): Logger {
    return new Logger({ ...this.keys, ...extra });
  }

  debug(message: string, fields?: Fields): void { powertools.debug(message, { ...this.keys, ...fields }); }
  info(message: string, fields?: Fields): void { powertools.info(message, { ...this.keys, ...fields }); }
  warn(message: string, fields?: Fields): void { powertools.warn(message, { ...this.keys, ...fields }); }
  error(message: string, fields?: Fields): void { powertools.error(message, { ...this.keys, ...fields }); }

  /** An EMF record (see metric below); this logger's string keys (correlation id, source, call id) ride along as metadata. */
  metric(name: string, dimensions: Dimensions | readonly Dimensions[], value = 1, unit: Unit = MetricUnit.Count): void {
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.keys)) if (typeof v === 'string') metadata[k] = v;
    metric(name, dimensions, value, unit, metadata);
  }
}

/** The functions' root logger. */
export const logger = new Logger();

// One Metrics instance builds every record: dimensions, metric and metadata are
// added, serialized and cleared synchronously, so concurrent requests never mix.
// Its own warnings (a bad dimension, a key collision) go through the Logger above.
const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: SERVICE_NAME, logger: powertools });

export type Dimensions = Record<string, string>;

/**
 * One embedded-metric-format record: CloudWatch turns the log line into a
 * metric, no API call on the request path. Several dimension sets make one
 * metric per set from the same line, e.g. `[{ Source, Reason }, {}]`: by
 * source and reason, and for the whole service (`{}` is `service` alone), so
 * an alarm reads one metric without naming every source or reason. Sets do not
 * repeat a key (Powertools warns on each such record); a per-source total of a
 * by-reason metric is a dashboard SUM(SEARCH(...)).
 * Metadata are plain properties of the record (Log Insights reads them).
 */
export function metric(
  name: string,
  dimensions: Dimensions | readonly Dimensions[],
  value = 1,
  unit: Unit = MetricUnit.Count,
  metadata: Record<string, string> = {},
): void {
  const sets: readonly Dimensions[] = Array.isArray(dimensions) ? dimensions : [dimensions];
  const named = new Set<string>();
  for (const set of sets) {
    metrics.addDimensions(set);
    for (const k of Object.keys(set)) named.add(k);
  }
  metrics.addMetric(name, unit, value);
  for (const [k, v] of Object.entries(metadata)) if (!named.has(k)) metrics.addMetadata(k, v);
  try {
    sink(JSON.stringify(metrics.serializeMetrics(), redact));
  } finally {
    metrics.clearMetrics();
    metrics.clearDimensions();
    metrics.clearMetadata();
  }
}

let coldStart = true;
let coldStartCounted = false;

/**
 * Powertools' `ColdStart` metric, once per execution environment (module
 * instance), dimensioned by function name as its captureColdStartMetric does.
 * The handlers count it during init (handler.ts), so the first request does
 * not pay for the first metric record; takeColdStart counts it otherwise.
 */
export function countColdStart(functionName: string): void {
  if (coldStartCounted) return;
  coldStartCounted = true;
  metric('ColdStart', { function_name: process.env.AWS_LAMBDA_FUNCTION_NAME ?? functionName });
}

/** True for the first invocation of this execution environment (its log line says `cold_start: true`). */
export function takeColdStart(functionName: string): boolean {
  if (!coldStart) return false;
  coldStart = false;
  countColdStart(functionName);
  return true;
}

/** Error fields that are safe to log: the kind of error, not its payload. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const status = (err as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
    return { errorName: err.name, ...(typeof code === 'string' ? { errorCode: code } : {}), ...(status ? { httpStatus: status } : {}) };
  }
  return { errorName: typeof err };
}
