import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm, ComparisonOperator, Dashboard, GraphWidget, MathExpression, Metric, SearchExpression, Stats, TextWidget, TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, MetricFilter, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE, SERVICE_NAME } from '#shared/log';
import { SOURCES } from '#shared/model';
import { declarationOf, type Source } from '#shared/sources';
import type { StackConfig } from './config.ts';
import type { WebhookFunctionSpec } from './functions.ts';

/**
 * Alarms and the dashboard. The functions' own counts are embedded-metric-format
 * records (Powertools Metrics, functions/shared/log.ts): every count has a
 * per-source dimension set for the dashboard and a service-wide one
 * (`service` alone) the alarms read, so an alarm never lists sources or
 * reasons and a new reason code cannot escape it. AWS/ApiGateway (detailed,
 * per route) and AWS/Lambda metrics cover the rest; the one metric filter
 * counts 429s from the access log's structured status field (HTTP APIs
 * publish no 429 metric), never a log message string.
 *
 * Every alarm has an action: the stack's own topic (KMS-encrypted, e-mail
 * subscription with alarmEmail) or alarmTopicArn. docs/runbook.md says what
 * each alarm means and what to do.
 */

export interface ObservedFunction {
  spec: WebhookFunctionSpec;
  fn: IFunction;
  /** Reserved concurrency, when the function has some. */
  reservedConcurrency?: number;
}

export interface ObservabilityProps {
  config: StackConfig;
  key: Key;
  api: HttpApi;
  /** HTTP API stage name (metric dimension). */
  stageName: string;
  accessLogs: ILogGroup;
  functions: readonly ObservedFunction[];
}

export interface ObservedRecordings {
  worker: IFunction;
  workerTimeoutSeconds: number;
  deadLetterQueue: IQueue;
  queue: IQueue;
}

/** The service-wide dimension set of every EMF count. */
export const SERVICE_DIMENSIONS = { service: SERVICE_NAME } as const;
/** Metric of the 429 access-log filter (dimension Route = the route key). */
export const THROTTLED_METRIC = 'Throttled';
/** Share of a function's timeout, or of a concurrency limit, that raises the "near" alarms. */
export const NEAR_LIMIT = 0.8;

const PERIOD = Duration.minutes(5);

export class Observability extends Construct {
  readonly topic: ITopic;
  readonly alarmAction: SnsAction;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];
  private readonly config: StackConfig;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { config } = props;
    this.config = config;
    this.topic = this.alarmTopic(config, props.key);
    this.alarmAction = new SnsAction(this.topic);

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(new TextWidget({
      markdown: `# Voice webhooks (${config.stage})\nPer source: deliveries by outcome, rejections by reason, handler latency, recordings. Alarms: docs/runbook.md.`,
      width: 24, height: 2,
    }));

    this.apiAlarms(props);
    this.functionAlarms(props.functions);
    this.deliveryAlarms();
    for (const source of SOURCES) this.sourceRow(source);
  }

  /** Recordings the vendors hold: the worker near its timeout, and its rows on the dashboard. */
  addRecordings(r: ObservedRecordings): void {
    this.alarm('RecordingsWorkerDurationNearTimeout',
      r.worker.metricDuration({ period: PERIOD, statistic: Stats.MAXIMUM }),
      Math.round(r.workerTimeoutSeconds * 1000 * NEAR_LIMIT),
      `recordings worker: an invocation ran past ${NEAR_LIMIT * 100} % of its ${r.workerTimeoutSeconds} s timeout (a slow vendor or a large recording)`);
    this.dashboard.addWidgets(
      graph('Recordings queue', [
        r.queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: Stats.MAXIMUM, label: 'queued' }),
        r.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: Stats.MAXIMUM, label: 'dead letters' }),
      ], 12),
      graph('Recordings worker', [
        r.worker.metricDuration({ period: PERIOD, statistic: Stats.p(99), label: 'duration p99' }),
        r.worker.metricErrors({ period: PERIOD, statistic: Stats.SUM, label: 'errors' }),
      ], 12),
    );
  }

  // ---- Topic ----------------------------------------------------------

  private alarmTopic(config: StackConfig, key: Key): ITopic {
    // At stack scope with the id it was first deployed with: a new topic would
    // drop every confirmed e-mail subscription.
    const stack = Stack.of(this);
    if (config.alarmTopicArn) return Topic.fromTopicArn(stack, 'AlarmTopic', config.alarmTopicArn);
    const own = new Topic(stack, 'AlarmTopic', { displayName: `Voice webhooks alarms (${config.stage})`, enforceSSL: true, masterKey: key });
    if (config.alarmEmail) own.addSubscription(new EmailSubscription(config.alarmEmail));
    // CloudWatch publishes to the encrypted topic with the stack's key.
    key.addToResourcePolicy(new PolicyStatement({
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }));
    return own;
  }

  private alarm(id: string, metric: IMetric, threshold: number, description: string, periods = 1): Alarm {
    const a = new Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    a.addAlarmAction(this.alarmAction);
    this.alarms.push(a);
    return a;
  }

  // ---- API: per route ---------------------------------------------------

  private apiAlarms(props: ObservabilityProps): void {
    const { config, api, stageName } = props;
    new MetricFilter(this, 'ThrottledFilter', {
      logGroup: props.accessLogs,
      // The access log's status is a string field ("429"); Route is its routeKey field.
      filterPattern: FilterPattern.stringValue('$.status', '=', '429'),
      metricNamespace: METRIC_NAMESPACE,
      metricName: THROTTLED_METRIC,
      metricValue: '1',
      dimensions: { Route: '$.routeKey' },
    });
    this.alarm('Api5xx', api.metricServerError({ period: PERIOD, statistic: Stats.SUM }), 1,
      'The API answered 5xx (storage unavailable, function failure or timeout)');

    const perRoute: IMetric[][] = [[], [], []];
    for (const { spec } of props.functions) {
      for (const path of spec.paths) {
        const route = `ANY ${path}`;
        // One route per source (functions/shared/sources.ts): a function serving several is told apart by its path.
        const id = spec.paths.length === 1 ? spec.id : `${spec.id}${pascalCase(path.split('/').pop() ?? '')}`;
        // Detailed metrics (on for every route) are dimensioned by ApiId, Stage, Resource and Method.
        const dims = { ApiId: api.apiId, Stage: stageName, Resource: path, Method: 'ANY' };
        // Alarms take metrics without labels (a label turns the alarm into a metric-math query); graphs add one.
        const apiMetric = (metricName: string, statistic: string) =>
          new Metric({ namespace: 'AWS/ApiGateway', metricName, dimensionsMap: dims, period: PERIOD, statistic });
        const throttled = new Metric({ namespace: METRIC_NAMESPACE, metricName: THROTTLED_METRIC, dimensionsMap: { Route: route }, period: PERIOD, statistic: Stats.SUM });
        this.alarm(`${id}Throttled429`, throttled, config.throttledAlarmThreshold,
          `${route}: at least ${config.throttledAlarmThreshold} requests answered 429 in 5 minutes (the route's throttle bucket is empty)`);
        this.alarm(`${id}ClientErrorSurge`, apiMetric('4xx', Stats.SUM), config.clientErrorAlarmThreshold,
          `${route}: at least ${config.clientErrorAlarmThreshold} 4xx answers in 5 minutes (a misconfigured vendor, a rotation, a payload change, or probing)`);
        this.alarm(`${id}IntegrationLatencyP99`, apiMetric('IntegrationLatency', Stats.p(99)), config.latencyAlarmMs,
          `${route}: p99 integration latency at or above ${config.latencyAlarmMs} ms for 15 minutes (slow storage or Secrets Manager, or the function near its timeout)`, 3);
        perRoute[0]?.push(apiMetric('Count', Stats.SUM).with({ label: `requests ${path}` }));
        perRoute[1]?.push(apiMetric('4xx', Stats.SUM).with({ label: `4xx ${path}` }), apiMetric('5xx', Stats.SUM).with({ label: `5xx ${path}` }), throttled.with({ label: `429 ${path}` }));
        perRoute[2]?.push(apiMetric('IntegrationLatency', Stats.p(99)).with({ label: `p99 ${path}` }));
      }
    }
    this.dashboard.addWidgets(
      graph('API requests per route', perRoute[0] ?? [], 8),
      graph('API 4xx / 5xx / 429 per route', perRoute[1] ?? [], 8),
      graph('API integration latency p99 (ms)', perRoute[2] ?? [], 8),
    );
  }

  // ---- Functions --------------------------------------------------------

  private functionAlarms(fns: readonly ObservedFunction[]): void {
    const { accountConcurrencyLimit } = this.config;
    const durations: IMetric[] = [];
    const concurrency: IMetric[] = [];
    for (const { spec, fn, reservedConcurrency } of fns) {
      this.alarm(`${spec.id}Errors`, fn.metricErrors({ period: PERIOD, statistic: Stats.SUM }), 1, `${spec.name}: the function failed (crash or timeout)`);
      this.alarm(`${spec.id}Throttles`, fn.metricThrottles({ period: PERIOD, statistic: Stats.SUM }), 1, `${spec.name}: invocations were throttled`);
      const nearTimeoutMs = Math.round(spec.timeoutSeconds * 1000 * NEAR_LIMIT);
      this.alarm(`${spec.id}DurationNearTimeout`, fn.metricDuration({ period: PERIOD, statistic: Stats.MAXIMUM }), nearTimeoutMs,
        `${spec.name}: an invocation ran ${nearTimeoutMs} ms or more, ${NEAR_LIMIT * 100} % of its ${spec.timeoutSeconds} s timeout (a stalled store; the next step is a timeout)`);
      const running = fn.metric('ConcurrentExecutions', { period: PERIOD, statistic: Stats.MAXIMUM });
      if (reservedConcurrency) {
        const near = Math.max(1, Math.floor(reservedConcurrency * NEAR_LIMIT));
        this.alarm(`${spec.id}ConcurrencyNearLimit`, running, near,
          `${spec.name}: ${near} of its ${reservedConcurrency} reserved concurrent executions in use; beyond the reservation callers are throttled`);
      }
      durations.push(fn.metricDuration({ period: PERIOD, statistic: Stats.p(99), label: `${spec.name} p99 (timeout ${spec.timeoutSeconds} s)` }));
      concurrency.push(running.with({ label: spec.name }));
    }
    const nearAccount = Math.floor(accountConcurrencyLimit * NEAR_LIMIT);
    const account = new Metric({ namespace: 'AWS/Lambda', metricName: 'ConcurrentExecutions', period: PERIOD, statistic: Stats.MAXIMUM });
    this.alarm('AccountConcurrencyNearLimit', account, nearAccount,
      `The account runs ${nearAccount} or more concurrent Lambda executions, ${NEAR_LIMIT * 100} % of its ${accountConcurrencyLimit} quota (context accountConcurrencyLimit): the functions without reserved concurrency are next to be throttled`);
    this.dashboard.addWidgets(
      graph('Function duration p99 (ms)', durations, 12),
      graph('Concurrent executions', [...concurrency, account.with({ label: 'account' })], 12),
    );
  }

  // ---- Deliveries (EMF, service-wide) -----------------------------------

  private deliveryAlarms(): void {
    const { authFailureAlarmThreshold } = this.config;
    this.alarm('AuthFailures', emf('AuthFailed', SERVICE_DIMENSIONS), authFailureAlarmThreshold,
      `At least ${authFailureAlarmThreshold} requests failed authentication (401) in 5 minutes: a misconfigured vendor, a rotated secret, or someone probing the endpoints`);
    this.alarm('IndexWriteFailed', emf('IndexWriteFailed', SERVICE_DIMENSIONS), 1,
      'A watsonx recording is safe in S3 but its index write failed (watsonx was answered 2xx anyway): run npm run reindex');
    this.alarm('RecordingEnqueueFailed', emf('RecordingEnqueueFailed', SERVICE_DIMENSIONS), 1,
      'A stored call\'s vendor recordings could not be queued for copying: npm run recordings -- --missing queues them again');
    this.alarm('UnhandledErrors', emf('Error', SERVICE_DIMENSIONS), 1,
      'A handler answered 500 (an unexpected error, a bug): the log line "unhandled error" names the error class');
  }

  private sourceRow(source: Source): void {
    const dims = { ...SERVICE_DIMENSIONS, Source: source };
    const count = (name: string, label: string) => emf(name, dims, label);
    const byReason = (name: string) => `SEARCH('{${METRIC_NAMESPACE},Reason,Source,service} MetricName="${name}" Source="${source}"', 'Sum', ${PERIOD.toSeconds()})`;
    const total = (name: string, label: string) => new MathExpression({ expression: `SUM(${byReason(name)})`, label, period: PERIOD });
    const recordings: IMetric[] = declarationOf(source).archive.audio.length > 0
      // A source that sends the audio itself (watsonx): a stored delivery is a stored recording.
      ? [count('Accepted', 'stored with the delivery'), count('IndexWriteFailed', 'stored, not indexed')]
      : [count('RecordingArchived', 'copied from the vendor'), total('RecordingFailed', 'failed every attempt'), count('RecordingEnqueueFailed', 'not queued')];
    this.dashboard.addWidgets(
      new TextWidget({ markdown: `## ${source}`, width: 24, height: 1 }),
      graph(`${source}: deliveries`, [
        count('Accepted', 'accepted'), count('Duplicate', 'duplicate'), count('Stale', 'stale'), count('IndexWriteFailed', 'archived, not indexed'),
        total('Rejected', 'rejected'), total('Unavailable', 'unavailable (503)'),
      ], 6),
      graph(`${source}: rejected by reason`, [new SearchExpression({ expression: byReason('Rejected'), label: '', period: PERIOD })], 6),
      graph(`${source}: handler latency (ms)`, [
        emf('Latency', dims, 'p50', Stats.p(50)), emf('Latency', dims, 'p99', Stats.p(99)),
      ], 6),
      graph(`${source}: recordings`, recordings, 6),
    );
  }
}

function emf(metricName: string, dimensionsMap: Record<string, string>, label?: string, statistic: string = Stats.SUM): Metric {
  return new Metric({ namespace: METRIC_NAMESPACE, metricName, dimensionsMap, period: PERIOD, statistic, ...(label ? { label } : {}) });
}

function graph(title: string, left: IMetric[], width: number): GraphWidget {
  return new GraphWidget({ title, left, width, height: 6 });
}

/** `engage-voice` → `EngageVoice`: a construct id from a path segment. */
function pascalCase(segment: string): string {
  return segment.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]?.toUpperCase() + w.slice(1)).join('');
}
