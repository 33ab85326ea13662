import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Architecture, Runtime, type CfnFunction, type Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { SERVICE_NAME } from '#shared/log';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { Bucket, CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { DEFAULT_MAX_BYTES, DEFAULT_RETRY_DELAYS, DEFAULT_SYNTHFLOW_API_URL, DEFAULT_VAPI_API_URL, EVENT_SOURCE, WORKER_TIMEOUT_SEC } from '../functions/recordings/settings.ts';
import { LINKED_SOURCES } from '#shared/sources';
import { REPO_ROOT } from './functions.ts';
import { cdkBundling, lambdaLogging } from './webhook-function.ts';
import type { LogLevelName } from './config.ts';
import { acknowledgeCompliance } from './nag.ts';

/**
 * Recordings the vendors hold (functions/recordings): the queue the webhook
 * functions send to after a delivery is stored, its dead-letter queue, the
 * worker that copies the audio into the bucket, and their alarms.
 *
 * - Retries: the worker sets each failed message's visibility to the next
 *   delay of DEFAULT_RETRY_DELAYS (1, 5, 15, 30, 60, 60 min): 7 attempts over
 *   about 2 h 51 min, then maxReceiveCount moves it to the DLQ.
 * - Concurrency: batches of 5 handled one by one, at most 2 batches at once.
 * - Least privilege: write, read back and abort uploads only under
 *   audio/<source>/ of the sources with linked recordings; list only there;
 *   GetItem/UpdateItem on the table; read the secret; consume its queue.
 */

export interface RecordingsProps {
  bucket: Bucket;
  table: Table;
  secret: ISecret;
  /** The stack's data key (bucket, table, secret, logs), used only through those services. */
  encryptionKey?: IKey;
  logRetention: RetentionDays;
  logLevel?: LogLevelName;
  /** Functions that queue recordings after storing a delivery. */
  senders: LambdaFunction[];
  /** Sources whose recordings the worker copies (default: the registry's, functions/shared/sources.ts). */
  linkedSources?: readonly string[];
  alarmAction?: IAlarmAction;
  /** Metric namespace of the embedded-metric lines. */
  namespace: string;
}

export class Recordings extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly worker: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: RecordingsProps) {
    super(scope, id);
    const maxBytes = Number(this.node.tryGetContext('recordingsMaxBytes') ?? DEFAULT_MAX_BYTES);
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new Error('context recordingsMaxBytes must be a positive whole number of bytes');
    const synthflowApiUrl = String(this.node.tryGetContext('synthflowApiUrl') ?? DEFAULT_SYNTHFLOW_API_URL);
    const vapiApiUrl = String(this.node.tryGetContext('vapiApiUrl') ?? DEFAULT_VAPI_API_URL);

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(EVENT_SOURCE.visibilityTimeoutSec),
      // The retries span about 3 h; keep messages well past that.
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: DEFAULT_RETRY_DELAYS.length + 1 },
    });

    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN, ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}) });
    const role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: 'Runs the recordings worker' });
    this.logGroup.grantWrite(role);
    const logging = lambdaLogging(props.logLevel ?? 'INFO');
    this.worker = new NodejsFunction(this, 'Function', {
      loggingFormat: logging.loggingFormat,
      applicationLogLevelV2: logging.applicationLogLevelV2,
      systemLogLevelV2: logging.systemLogLevelV2,
      entry: join(REPO_ROOT, 'functions/recordings/handler.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      // Streams: two 8 MiB parts in flight at most; the rest is for CPU and network share.
      memorySize: 512,
      timeout: Duration.seconds(WORKER_TIMEOUT_SEC),
      role,
      logGroup: this.logGroup,
      description: 'recordings worker: copies linked vendor audio into the bucket',
      environment: {
        BUCKET_NAME: props.bucket.bucketName,
        TABLE_NAME: props.table.tableName,
        SECRET_ARN: props.secret.secretArn,
        RECORDINGS_QUEUE_URL: this.queue.queueUrl,
        RECORDINGS_MAX_BYTES: String(maxBytes),
        RECORDINGS_RETRY_DELAYS: DEFAULT_RETRY_DELAYS.join(','),
        SYNTHFLOW_API_URL: synthflowApiUrl,
        VAPI_API_URL: vapiApiUrl,
        ...logging.environment,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: cdkBundling(),
    });
    (this.worker.node.defaultChild as CfnFunction).overrideLogicalId('RecordingsWorkerFunction');
    this.worker.addEventSource(new SqsEventSource(this.queue, {
      batchSize: EVENT_SOURCE.batchSize,
      maxConcurrency: EVENT_SOURCE.maxConcurrency,
      reportBatchItemFailures: true,
    }));

    const prefixes = (props.linkedSources ?? LINKED_SOURCES).map((s) => `audio/${s}/*`);
    role.addToPrincipalPolicy(new PolicyStatement({
      actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
      resources: prefixes.map((p) => props.bucket.arnForObjects(p)),
    }));
    role.addToPrincipalPolicy(new PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [props.bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': prefixes } },
    }));
    role.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [props.table.tableArn] }));
    props.secret.grantRead(role);
    if (props.encryptionKey) {
      const region = Stack.of(this).region;
      role.addToPrincipalPolicy(new PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': [`s3.${region}.amazonaws.com`, `dynamodb.${region}.amazonaws.com`, `secretsmanager.${region}.amazonaws.com`] } },
      }));
    }
    const bucketId = Stack.of(this).getLogicalId(props.bucket.node.defaultChild as CfnBucket);
    for (const p of prefixes) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${p}]`,
        reason: `The worker writes one object per recording under ${p}, reads it back to adopt a copy a redelivery finds, and aborts a failed multipart upload; the wildcard is the key within that source's audio prefix.`,
      });
    }

    for (const fn of props.senders) {
      fn.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }));
      fn.addEnvironment('RECORDINGS_QUEUE_URL', this.queue.queueUrl);
    }

    acknowledgeCompliance(role, 'IAMNoInlinePolicy', 'The inline policy is this one worker\'s grants on this stack\'s resources (its audio prefixes, the table, the secret, the key, its queue, its log group); a managed policy could be attached to other principals.');
    acknowledgeCompliance(this.worker, 'LambdaDLQ', 'Invoked by the SQS event source, whose queue has its own dead-letter queue after 7 receives; a function dead-letter queue only applies to asynchronous invocations.');
    acknowledgeCompliance(this.worker, 'LambdaInsideVPC', 'The worker must reach vendor recording hosts on the public internet; a VPC would need a NAT gateway and would not narrow what it may connect to, which the fetcher restricts to public addresses itself.');
    acknowledgeCompliance(this.worker, 'LambdaConcurrency', 'Its concurrency is bounded by the event source (maximum concurrency 2), which is what keeps a burst from hammering a vendor; reserved concurrency would take capacity from the account without adding a limit.');
    this.alarms(props);
    new CfnOutput(scope, 'RecordingsQueueUrl', { value: this.queue.queueUrl, description: 'Queue of recordings to copy (npm run recordings -- --missing --stack <name> sends here)' });
    new CfnOutput(scope, 'RecordingsDeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl, description: 'Recordings that failed every attempt (npm run recordings -- --redrive --stack <name>, or the SQS console\'s DLQ redrive)' });
  }

  private alarms(props: RecordingsProps): void {
    const period = Duration.minutes(5);
    const alarm = (id: string, metric: Metric, threshold: number, description: string) => {
      const a = new Alarm(this, id, {
        metric, threshold, evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      if (props.alarmAction) a.addAlarmAction(props.alarmAction);
    };
    alarm('DeadLetters', this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }), 1,
      'A recording failed every attempt and is in the dead-letter queue: `npm run recordings -- --stack <name>` shows which and why; fix the cause (credentials, vendor outage), then `npm run recordings -- --redrive --stack <name>`');
    // The last retry comes about 2 h 51 min after the first attempt: older than 4 h means the worker is not keeping up.
    alarm('OldestRecording', this.queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }), 4 * 3600,
      'A queued recording is older than 4 hours: the worker is failing or not keeping up');
    alarm('WorkerErrors', this.worker.metricErrors({ period, statistic: 'Sum' }), 1, 'recordings worker: the function failed (crash or timeout)');
    // The worker's EMF count (functions/recordings/worker.ts), service-wide: every source and reason.
    alarm('Failed', new Metric({ namespace: props.namespace, metricName: 'RecordingFailed', dimensionsMap: { service: SERVICE_NAME }, period, statistic: 'Sum' }), 1,
      'A recording could not be copied (refused address, over the cap, or every retry failed): its status says why (npm run recordings -- --stack <name>)');
  }
}
