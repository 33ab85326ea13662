/**
 * Structured JSON logs, one object a line, with the request id. Callers pass
 * only fields that are safe to keep: never a secret, token, JWT, signature or
 * phone number (use maskPhone when a number must be referred to).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
type Sink = (line: string) => void;

let sink: Sink = (line) => process.stdout.write(line + '\n');

/** Tests capture the log stream through this. */
export function setLogSink(next: Sink): Sink {
  const previous = sink;
  sink = next;
  return previous;
}

export class Logger {
  constructor(private readonly context: Record<string, unknown> = {}) {}

  child(extra: Record<string, unknown>): Logger {
    return new Logger({ ...this.context, ...extra });
  }

  log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    sink(JSON.stringify({ level, time: new Date().toISOString(), msg, ...this.context, ...fields }));
  }

  info(msg: string, fields?: Record<string, unknown>): void { this.log('info', msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.log('warn', msg, fields); }
  error(msg: string, fields?: Record<string, unknown>): void { this.log('error', msg, fields); }

  /**
   * A CloudWatch embedded-metric-format record: one count per delivery outcome,
   * dimensioned by source (and reason for rejections). CloudWatch turns these
   * log lines into metrics without an API call on the request path.
   */
  metric(name: string, dimensions: Record<string, string>, value = 1): void {
    sink(JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [{ Namespace: 'VoiceWebhooks', Dimensions: [Object.keys(dimensions)], Metrics: [{ Name: name, Unit: 'Count' }] }],
      },
      ...this.context,
      ...dimensions,
      [name]: value,
    }));
  }
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
