import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, LogGroupLogDestination, type CfnStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { Bucket, BlockPublicAccess, type CfnBucket, BucketEncryption, StorageClass, type LifecycleRule } from 'aws-cdk-lib/aws-s3';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption, type CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { Key, type CfnKey } from 'aws-cdk-lib/aws-kms';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { INDEX_PROJECTION, TABLE_SCHEMA, TTL_ATTRIBUTE } from '#shared/table';
import { SECRET_NAMES } from '#shared/config';
import { METRIC_NAMESPACE } from '#shared/log';
import { generatedNames, linkedSourcesOf, recordingSendersOf, secretKeysOf, sourceEntries, type Registry } from '#shared/sources';
import type { StackConfig } from './config.ts';
import { webhookFunctions, type FunctionName, type WebhookFunctionSpec } from './functions.ts';
import { WebhookFunction } from './webhook-function.ts';
import { WebhookSecret, secretKeyList } from './secret.ts';
import { acknowledgeCompliance } from './nag.ts';
import type { KeyList } from './secret-filler/fill.ts';
import { ErasureOperator } from './erasure-operator.ts';
import { declaredIndexes } from './table-indexes.ts';
import { Recordings } from './recordings.ts';
import { Observability } from './observability.ts';
import { CustomDomain } from './domain.ts';
import { AuditTrail } from './audit-trail.ts';
import { WORKER_TIMEOUT_SEC } from '../functions/recordings/settings.ts';

export interface WebhooksStackProps extends StackProps {
  config: StackConfig;
  /** The secret's keys (default: every SECRET_NAMES entry); tests change it to prove the secret template does not move. */
  secretKeys?: KeyList;
  /** The source registry (default functions/shared/sources.ts); a test adds a made-up source to prove nothing else names one. */
  sources?: Registry;
}

/** Logical ids of the stateful resources, as first deployed (see pinLogicalIds). Never change them. */
export const PINNED_LOGICAL_IDS = {
  bucket: 'Bucket83908E77',
  table: 'TableCD117FA1',
  secret: 'WebhookSecretF21E29CC',
  key: 'DataKey',
} as const;

/** Metric namespace of the handlers' embedded-metric-format lines (Powertools Metrics, functions/shared/log.ts). */
export { METRIC_NAMESPACE };

/** Access log line: route and status, never the query string or headers (URL tokens live there). */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  time: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  method: '$context.httpMethod',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
} as const;

/**
 * Only with `-c localInvoke=true` (a template for `sam local invoke`, never
 * deployed): declares what `--env-vars events/env.json` may override, and
 * points the SDK at `npm start`'s embedded servers from inside SAM's container.
 */
export const LOCAL_INVOKE_ENVIRONMENT: Readonly<Record<string, string>> = {
  SECRET_ARN: '',
  ...Object.fromEntries(SECRET_NAMES.map((name) => [name, ''])),
  AWS_ENDPOINT_URL_S3: 'http://host.docker.internal:4569',
  AWS_ENDPOINT_URL_DYNAMODB: 'http://host.docker.internal:4567',
  AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
  AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
};

/**
 * One stack per stage: HTTP API → three webhook functions → one bucket (system
 * of record) + one table (index), one secret, alarms. Secure by default
 * (encrypted, versioned, retained, least privilege); every knob comes from CDK context (./config.ts).
 */
export class WebhooksStack extends Stack {
  readonly bucket: Bucket;
  readonly table: Table;
  readonly secret: Secret;
  readonly webhookSecret: WebhookSecret;
  /** Customer managed key for the bucket, table, secret, logs and alarm topic. */
  readonly key: Key;
  /** Where every alarm goes. */
  readonly alarmTopic: ITopic;
  readonly api: HttpApi;
  readonly functions: Record<FunctionName, WebhookFunction>;
  /** Each webhook function with the routes, prefixes and events of the sources it serves. */
  readonly functionSpecs: readonly WebhookFunctionSpec[];
  /** Days raw payloads, audio and index items are kept; undefined: forever. */
  readonly retentionDays: number | undefined;

  constructor(scope: Construct, id: string, props: WebhooksStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.functionSpecs = webhookFunctions(props.sources);
    const functionSpecs = this.functionSpecs;

    // ---- Key ----------------------------------------------------------
    // Recordings and phone numbers are personal data: one customer managed key
    // (yearly rotation) encrypts the bucket (with an S3 Bucket Key), the table,
    // the secret, the log groups and the alarm topic. Retained: deleting it
    // would make every object, item and log encrypted with it unreadable.
    this.key = new Key(this, 'DataKey', {
      description: `Voice webhooks (${config.stage}): recordings, call index, webhook secret, logs`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.key.addToResourcePolicy(new PolicyStatement({
      principals: [new ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:*` } },
    }));

    // ---- Data ---------------------------------------------------------
    this.retentionDays = config.retention === 'forever' ? undefined : config.retention.days;
    const lifecycleRules: LifecycleRule[] = [
      prefixRule('audio', config.audioTransitionDays, config.audioExpirationDays),
      prefixRule('raw', config.rawTransitionDays, config.rawExpirationDays),
      {
        // Every other prefix (receipts/ included: they never expire).
        id: 'versions-and-uploads',
        noncurrentVersionExpiration: Duration.days(config.noncurrentVersionExpirationDays),
        abortIncompleteMultipartUploadAfter: Duration.days(7),
        expiredObjectDeleteMarker: true,
      },
    ];
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      versioned: true,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules,
    });
    if (config.objectLock) {
      // Only ObjectLockConfiguration (update: No interruption), never the top-level
      // ObjectLockEnabled, whose change CloudFormation documents as Replacement: on
      // this retained bucket that would create a new, empty bucket (docs/deploy.md).
      // S3 enables Object Lock on an existing versioned bucket through this call.
      (this.bucket.node.defaultChild as CfnBucket).objectLockConfiguration = {
        objectLockEnabled: 'Enabled',
        rule: { defaultRetention: { mode: config.objectLock.mode, days: config.objectLock.days } },
      };
    }
    acknowledgeCompliance(this.bucket, 'S3BucketLoggingEnabled', 'Reads and writes of recordings are audited with CloudTrail S3 data events (context auditTrail=true, docs/deploy.md), which record the caller identity; server access logs would need a second bucket and record less.');
    acknowledgeCompliance(this.bucket, 'S3BucketReplicationEnabled', 'Versioning and a retained bucket protect against deletion and overwrite; a cross-region copy of call recordings doubles storage and moves personal data to a second region, a choice the data owner makes (docs/deploy.md).');
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Server access logs would need a second bucket per stage; object-level auditing is done with CloudTrail data events, which the account owner enables account-wide (docs/deploy.md).',
    });

    const { partitionKey, sortKey } = TABLE_SCHEMA;
    this.table = new Table(this, 'Table', {
      partitionKey: { name: partitionKey, type: AttributeType.STRING },
      sortKey: { name: sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // Items carry it only with a retention in days (RETENTION_DAYS below); held items carry none.
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });
    acknowledgeCompliance(this.table, 'DynamoDBInBackupPlan', 'The table is an index rebuilt from the bucket (npm run reindex) and has point-in-time recovery for 35 days; an AWS Backup plan would add a third copy of data the bucket already holds.');
    // Slim indexes (the keys + INDEX_PROJECTION); -c indexMigration=N only while a deployed stack moves off the ALL ones.
    for (const index of declaredIndexes(config.indexMigration)) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        ...(index.slim ? { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...INDEX_PROJECTION] } : { projectionType: ProjectionType.ALL }),
      });
    }

    // ---- Secret -------------------------------------------------------
    this.webhookSecret = new WebhookSecret(this, 'WebhookSecret', {
      encryptionKey: this.key,
      ...(props.secretKeys ?? props.sources
        ? { keys: props.secretKeys ?? secretKeyList(secretKeysOf(props.sources), generatedNames(props.sources)) }
        : {}),
      description: `Webhook secrets and URL tokens for ${id} (one JSON object; keys: ${SECRET_NAMES.join(', ')})`,
    });
    this.secret = this.webhookSecret.secret;

    this.pinLogicalIds();

    // ---- Functions ----------------------------------------------------
    // Names, not values: the handlers fetch the secret by ARN (config.ts).
    const environment: Record<string, string> = {
      BUCKET_NAME: this.bucket.bucketName,
      TABLE_NAME: this.table.tableName,
      SECRET_ARN: this.secret.secretArn,
      SECRET_REFRESH_SECONDS: String(config.secretTimings.refreshSeconds),
      SECRET_MAX_STALE_SECONDS: String(config.secretTimings.maxStaleSeconds),
      ENGAGE_VOICE_TIMEZONE: config.engageVoiceTimeZone,
      DEFAULT_PHONE_REGION: config.defaultPhoneRegion,
      ...(this.retentionDays !== undefined ? { RETENTION_DAYS: String(this.retentionDays) } : {}),
      ...(config.localInvoke ? LOCAL_INVOKE_ENVIRONMENT : {}),
    };
    const fns: Partial<Record<FunctionName, WebhookFunction>> = {};
    for (const spec of functionSpecs) {
      // Reserved concurrency for the audio function only: a watsonx caller is on
      // the line, and a burst of post-call webhooks must not take its capacity.
      const reserved = spec.name === 'audio-webhook' && config.audioReservedConcurrency > 0 ? config.audioReservedConcurrency : undefined;
      const wf = new WebhookFunction(this, spec.id, {
        spec, environment, logRetention: config.logRetention, logLevel: config.logLevel, logKey: this.key, ...(reserved ? { reservedConcurrency: reserved } : {}),
      });
      if (!reserved) {
        acknowledgeCompliance(wf.fn, 'LambdaConcurrency', spec.name === 'audio-webhook'
          ? 'Off on the dev stage by default: a new account\'s concurrency quota (10) leaves nothing to reserve. Set -c audioReservedConcurrency=N (docs/deploy.md); every other stage reserves 10 by default.'
          : `The ${spec.name} senders retry, and this function answers only after storage: it shares the account pool, while the watsonx audio function, whose caller is on the line, has concurrency reserved (docs/deploy.md).`);
      }
      // Least privilege: PutObject only under the function's own prefixes,
      // PutItem/GetItem on the table (storage.ts: conditional put, then a
      // consistent get to tell duplicate from stale), read the one secret.
      wf.role.addToPrincipalPolicy(new PolicyStatement({
        actions: ['s3:PutObject'],
        resources: spec.writePrefixes.map((p) => this.bucket.arnForObjects(p)),
      }));
      wf.role.addToPrincipalPolicy(new PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:GetItem'],
        resources: [this.table.tableArn],
      }));
      this.secret.grantRead(wf.role);
      acknowledgeCompliance(wf.role, 'IAMNoInlinePolicy', `The inline policy is this one function's grants on this stack's resources (its S3 prefixes, the table, the secret, the key, its log group); a managed policy could be attached to other principals.`);
      acknowledgeCompliance(wf.fn, 'LambdaDLQ', 'Invoked synchronously by API Gateway: a failure is answered to the vendor (503), which retries; a dead-letter queue only applies to asynchronous invocations.');
      acknowledgeCompliance(wf.fn, 'LambdaInsideVPC', 'The function reaches only AWS service endpoints (S3, DynamoDB, Secrets Manager); a VPC would add NAT gateways or interface endpoints and a cold-start cost without narrowing what it can reach, which IAM already scopes.');
      // The key, only through the three services and only for what they do on
      // the function's behalf: a data key per new object (S3, with the Bucket
      // Key), decrypting the table's and the secret's data keys.
      wf.role.addToPrincipalPolicy(new PolicyStatement({
        actions: ['kms:GenerateDataKey'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${this.region}.amazonaws.com` } },
      }));
      wf.role.addToPrincipalPolicy(new PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': [`dynamodb.${this.region}.amazonaws.com`, `secretsmanager.${this.region}.amazonaws.com`] } },
      }));
      for (const prefix of spec.writePrefixes) {
        Validations.of(wf.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.bucket.node.defaultChild as CfnBucket)}.Arn>/${prefix}]`,
          reason: `The ${spec.name} handler writes content-addressed objects under ${prefix}; the wildcard is the key suffix within its own prefix, and the only action is s3:PutObject.`,
        });
      }
      fns[spec.name] = wf;
    }
    this.functions = fns as Record<FunctionName, WebhookFunction>;

    // ---- API ----------------------------------------------------------
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: config.logRetention, removalPolicy: RemovalPolicy.RETAIN, encryptionKey: this.key });
    this.api = new HttpApi(this, 'Api', {
      // A display name (API names need not be unique), so stages are easy to tell apart in the console.
      apiName: this.stackName,
      description: `Voice webhooks (${config.stage})`,
      createDefaultStage: false,
      // With a custom domain, its URL is the only way in (infra/domain.ts).
      disableExecuteApiEndpoint: config.domain !== undefined,
    });
    const stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      detailedMetricsEnabled: true,
      throttle: { rateLimit: config.throttle.rateLimit, burstLimit: config.throttle.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    const routeSettings: Record<string, Record<string, number | boolean>> = {};
    for (const spec of functionSpecs) {
      const integration = new HttpLambdaIntegration(`${spec.id}Integration`, this.functions[spec.name].fn);
      for (const path of spec.paths) {
        // ANY: the handler answers 405 for a wrong method, exactly as in local mode.
        const routes = this.api.addRoutes({ path, methods: [HttpMethod.ANY], integration });
        // Per-route throttling: each route has its own token bucket, so a burst of
        // post-call webhooks spends its own and never the watsonx route's.
        const limits = spec.name === 'audio-webhook' ? config.audioThrottle : config.throttle;
        for (const route of routes) {
          routeSettings[`ANY ${path}`] = { ThrottlingRateLimit: limits.rateLimit, ThrottlingBurstLimit: limits.burstLimit, DetailedMetricsEnabled: true };
          stage.node.addDependency(route);
          Validations.of(route).acknowledge({
            id: 'AwsSolutions-APIG4',
            reason: 'Vendors authenticate with body HMAC signatures, webhook JWTs signed with a shared secret, URL tokens or Basic credentials, which only the handler can check (it needs the raw body); the handler fails closed when no check is configured.',
          });
        }
      }
    }

    (stage.node.defaultChild as CfnStage).routeSettings = routeSettings;

    // ---- Operations: alarm topic, alarms, dashboard (infra/observability.ts)
    const ops = new Observability(this, 'Operations', {
      config, key: this.key, api: this.api, stageName: stage.stageName, accessLogs,
      functions: functionSpecs.map((spec) => ({ spec, fn: this.functions[spec.name].fn, reservedConcurrency: this.functions[spec.name].reservedConcurrency })),
    });
    this.alarmTopic = ops.topic;

    // ---- Recordings the vendors hold: queue, DLQ, worker, alarms (infra/recordings.ts)
    const recordings = new Recordings(this, 'Recordings', {
      bucket: this.bucket, table: this.table, secret: this.secret, logRetention: config.logRetention, logLevel: config.logLevel,
      senders: recordingSendersOf(props.sources).map((name) => this.functions[name].fn),
      linkedSources: linkedSourcesOf(props.sources),
      namespace: METRIC_NAMESPACE,
      alarmAction: ops.alarmAction,
      encryptionKey: this.key,
    });
    recordings.worker.addEnvironment('SECRET_REFRESH_SECONDS', String(config.secretTimings.refreshSeconds));
    recordings.worker.addEnvironment('SECRET_MAX_STALE_SECONDS', String(config.secretTimings.maxStaleSeconds));
    ops.addRecordings({ worker: recordings.worker, workerTimeoutSeconds: WORKER_TIMEOUT_SEC, queue: recordings.queue, deadLetterQueue: recordings.deadLetterQueue });
    const erasure = new ErasureOperator(this, 'ErasureOperator', { bucket: this.bucket, table: this.table, encryptionKey: this.key });

    // ---- Outputs ------------------------------------------------------
    // ---- Optional: custom domain (infra/domain.ts), CloudTrail data events on the bucket (infra/audit-trail.ts)
    const domain = config.domain ? new CustomDomain(this, 'CustomDomain', { domain: config.domain, api: this.api, stage }) : undefined;
    if (config.auditTrail) new AuditTrail(this, 'AuditTrail', { bucket: this.bucket, key: this.key, retentionDays: this.retentionDays });

    const base = domain?.url ?? this.api.apiEndpoint;
    for (const [, source] of sourceEntries(props.sources)) {
      const token = source.credentials.some((c) => c.role === 'url-token') ? ' (add ?token=…)' : '';
      new CfnOutput(this, source.output, { value: `${base}${source.path}`, description: `${source.console}: URL${token}` });
    }
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'SecretName', { value: this.secret.secretName });
    new CfnOutput(this, 'SecretArn', { value: this.secret.secretArn });
    new CfnOutput(this, 'RetentionDays', { value: this.retentionDays === undefined ? 'forever' : String(this.retentionDays), description: 'Days raw payloads, audio and index items are kept' });
    new CfnOutput(this, 'ErasureOperatorPolicyArn', { value: erasure.policy.managedPolicyArn, description: 'Attach to the people or roles that run `calls forget` and `calls hold` (docs/compliance.md)' });
    new CfnOutput(this, 'ReceiptKeySecretArn', { value: erasure.receiptKey.secretArn, description: 'Key of the salted phone hashes in erasure receipts' });
  }

  /**
   * Stateful resources keep the logical ids they were first deployed with,
   * wherever they sit in the construct tree: a path-derived id that changes
   * makes CloudFormation create a new, empty resource and orphan the data.
   */
  private pinLogicalIds(): void {
    (this.bucket.node.defaultChild as CfnBucket).overrideLogicalId(PINNED_LOGICAL_IDS.bucket);
    (this.table.node.defaultChild as CfnTable).overrideLogicalId(PINNED_LOGICAL_IDS.table);
    this.webhookSecret.cfn.overrideLogicalId(PINNED_LOGICAL_IDS.secret);
    (this.key.node.defaultChild as CfnKey).overrideLogicalId(PINNED_LOGICAL_IDS.key);
  }

}

/**
 * Lifecycle of one data prefix: to Standard-IA after `transitionDays`, and with
 * an expiration (the stage's retention), current versions expire then and the
 * versions that leaves behind a day later. A retention shorter than the
 * transition skips the transition. Object Lock holds and retention periods
 * still win: S3 never expires a locked version.
 */
function prefixRule(prefix: 'audio' | 'raw', transitionDays: number, expirationDays: number | undefined): LifecycleRule {
  return {
    id: prefix,
    prefix: `${prefix}/`,
    ...(expirationDays === undefined || expirationDays > transitionDays
      ? { transitions: [{ storageClass: StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(transitionDays) }] }
      : {}),
    ...(expirationDays !== undefined ? { expiration: Duration.days(expirationDays), noncurrentVersionExpiration: Duration.days(1) } : {}),
  };
}
