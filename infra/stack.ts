import { join } from 'node:path';
import { CfnOutput, CustomResource, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { Bucket, BlockPublicAccess, type CfnBucket, BucketEncryption, ObjectLockRetention, StorageClass, type LifecycleRule } from 'aws-cdk-lib/aws-s3';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FilterPattern, LogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { TABLE_SCHEMA, TTL_ATTRIBUTE } from '#shared/table';
import { SECRET_NAMES } from '#shared/config';
import type { StackConfig } from './config.ts';
import { REPO_ROOT, WEBHOOK_FUNCTIONS, type FunctionName } from './functions.ts';
import { WebhookFunction, cdkBundling } from './webhook-function.ts';
import { ErasureOperator } from './erasure-operator.ts';

export interface WebhooksStackProps extends StackProps {
  config: StackConfig;
}

/** Metric namespace of the handlers' embedded-metric-format lines (functions/shared/log.ts). */
export const METRIC_NAMESPACE = 'VoiceWebhooks';

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
 * (DESIGN.md section 8); every knob comes from CDK context (./config.ts).
 */
export class WebhooksStack extends Stack {
  readonly bucket: Bucket;
  readonly table: Table;
  readonly secret: Secret;
  readonly api: HttpApi;
  readonly functions: Record<FunctionName, WebhookFunction>;
  /** Days raw payloads, audio and index items are kept; undefined: forever. */
  readonly retentionDays: number | undefined;

  constructor(scope: Construct, id: string, props: WebhooksStackProps) {
    super(scope, id, props);
    const { config } = props;

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
      encryption: BucketEncryption.S3_MANAGED,
      versioned: true,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules,
      ...(config.objectLock
        ? {
            objectLockEnabled: true,
            objectLockDefaultRetention: config.objectLock.mode === 'COMPLIANCE'
              ? ObjectLockRetention.compliance(Duration.days(config.objectLock.days))
              : ObjectLockRetention.governance(Duration.days(config.objectLock.days)),
          }
        : {}),
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'Server access logs would need a second bucket per stage; object-level auditing is done with CloudTrail data events, which the account owner enables account-wide (docs/deploy.md).',
    });

    const { partitionKey, sortKey, indexes } = TABLE_SCHEMA;
    this.table = new Table(this, 'Table', {
      partitionKey: { name: partitionKey, type: AttributeType.STRING },
      sortKey: { name: sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // Items carry it only with a retention in days (RETENTION_DAYS below); held items carry none.
      timeToLiveAttribute: TTL_ATTRIBUTE,
    });
    for (const index of Object.values(indexes)) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
      });
    }

    // ---- Secret -------------------------------------------------------
    // One JSON secret, keys exactly SECRET_NAMES. CloudFormation generates the
    // watsonx secret; the custom resource below fills the URL tokens (and
    // never overwrites a value that is set); the vendor-made signing secrets
    // and Engage Voice Basic credentials start empty for the user to paste.
    const template: Record<string, string> = {};
    for (const name of SECRET_NAMES) if (name !== 'WATSONX_AUDIO_SECRET') template[name] = '';
    this.secret = new Secret(this, 'WebhookSecret', {
      description: `Webhook secrets and URL tokens for ${id} (JSON; keys: ${SECRET_NAMES.join(', ')})`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify(template),
        generateStringKey: 'WATSONX_AUDIO_SECRET',
        excludePunctuation: true,
        passwordLength: 48,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The values are shared with vendor consoles (URL tokens, signing secrets): an automatic rotation would break every integration until someone re-pastes them. Rotate by editing the secret and the vendor console together; handlers pick up the new value within 5 minutes (SECRET_REFRESH_SECONDS).',
    });
    this.fillSecret();

    // ---- Functions ----------------------------------------------------
    // Names, not values: the handlers fetch the secret by ARN (config.ts).
    const environment: Record<string, string> = {
      BUCKET_NAME: this.bucket.bucketName,
      TABLE_NAME: this.table.tableName,
      SECRET_ARN: this.secret.secretArn,
      ENGAGE_VOICE_TIMEZONE: config.engageVoiceTimeZone,
      DEFAULT_PHONE_REGION: config.defaultPhoneRegion,
      ...(this.retentionDays !== undefined ? { RETENTION_DAYS: String(this.retentionDays) } : {}),
      ...(config.localInvoke ? LOCAL_INVOKE_ENVIRONMENT : {}),
    };
    const fns: Partial<Record<FunctionName, WebhookFunction>> = {};
    for (const spec of WEBHOOK_FUNCTIONS) {
      const wf = new WebhookFunction(this, spec.id, { spec, environment, logRetention: config.logRetention });
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
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: config.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    this.api = new HttpApi(this, 'Api', {
      // A display name (API names need not be unique), so stages are easy to tell apart in the console.
      apiName: this.stackName,
      description: `Voice webhooks (${config.stage})`,
      createDefaultStage: false,
    });
    this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.throttle.rateLimit, burstLimit: config.throttle.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    for (const spec of WEBHOOK_FUNCTIONS) {
      const integration = new HttpLambdaIntegration(`${spec.id}Integration`, this.functions[spec.name].fn);
      for (const path of spec.paths) {
        // ANY: the handler answers 405 for a wrong method, exactly as in local mode.
        const routes = this.api.addRoutes({ path, methods: [HttpMethod.ANY], integration });
        for (const route of routes) {
          Validations.of(route).acknowledge({
            id: 'AwsSolutions-APIG4',
            reason: 'Vendors authenticate with body HMAC signatures, webhook JWTs signed with a shared secret, URL tokens or Basic credentials, which only the handler can check (it needs the raw body); the handler fails closed when no check is configured.',
          });
        }
      }
    }

    // ---- Operations ---------------------------------------------------
    this.alarms(config);
    const erasure = new ErasureOperator(this, 'ErasureOperator', { bucket: this.bucket, table: this.table });

    // ---- Outputs ------------------------------------------------------
    const base = this.api.apiEndpoint;
    new CfnOutput(this, 'AudioWebhookUrl', { value: `${base}/audio-webhook`, description: 'watsonx Assistant audio webhook URL' });
    new CfnOutput(this, 'VolubileWebhookUrl', { value: `${base}/call-completed/volubile`, description: 'Volubile call-completed webhook URL (add ?token=…)' });
    new CfnOutput(this, 'SynthflowWebhookUrl', { value: `${base}/call-completed/synthflow`, description: 'Synthflow post-call webhook URL (add ?token=…)' });
    new CfnOutput(this, 'EngageVoiceWebhookUrl', { value: `${base}/engage-voice`, description: 'Engage Voice web service URL (add ?token=…)' });
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'SecretName', { value: this.secret.secretName });
    new CfnOutput(this, 'SecretArn', { value: this.secret.secretArn });
    new CfnOutput(this, 'RetentionDays', { value: this.retentionDays === undefined ? 'forever' : String(this.retentionDays), description: 'Days raw payloads, audio and index items are kept' });
    new CfnOutput(this, 'ErasureOperatorPolicyArn', { value: erasure.policy.managedPolicyArn, description: 'Attach to the people or roles that run `calls forget` and `calls hold` (docs/compliance.md)' });
    new CfnOutput(this, 'ReceiptKeySecretArn', { value: erasure.receiptKey.secretArn, description: 'Key of the salted phone hashes in erasure receipts' });
  }

  /** Custom resource that fills the generated tokens (infra/secret-filler). */
  private fillSecret(): void {
    const logGroup = new LogGroup(this, 'SecretFillerLogs', { retention: 30, removalPolicy: RemovalPolicy.DESTROY });
    const role = new Role(this, 'SecretFillerRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Fills missing generated tokens in the webhook secret at deploy time',
    });
    logGroup.grantWrite(role);
    this.secret.grantRead(role);
    this.secret.grantWrite(role);
    const fn = new NodejsFunction(this, 'SecretFiller', {
      entry: join(REPO_ROOT, 'infra/secret-filler/handler.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      role,
      logGroup,
      description: 'Deploy-time: fills missing generated tokens in the webhook secret',
      bundling: { ...cdkBundling(), externalModules: ['@aws-sdk/*'] },
    });
    new CustomResource(this, 'FillWebhookSecret', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::WebhookSecretFiller',
      properties: { SecretArn: this.secret.secretArn, Version: 1 },
    });
  }

  /**
   * Alarms: function errors and throttles, API 5xx, index write failures and
   * bursts of authentication failures.
   *
   * Authentication failures are counted with a metric filter on the handler's
   * one log line per rejected request (`msg: "delivery rejected"`, `status:
   * 401`) rather than metric math over the EMF `Rejected` metric: math would
   * need every Source x Reason pair spelled out here, and a reason code added
   * to a handler later would silently escape the alarm. Every 401 is an
   * authentication failure, whatever its reason.
   */
  private alarms(config: StackConfig): void {
    const topic = config.alarmEmail ? new Topic(this, 'AlarmTopic', { displayName: `Voice webhooks alarms (${config.stage})`, enforceSSL: true }) : undefined;
    if (topic && config.alarmEmail) {
      topic.addSubscription(new EmailSubscription(config.alarmEmail));
      Validations.of(topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason: 'Alarm notifications carry no customer data; CloudWatch alarms cannot publish to a topic encrypted with the AWS managed aws/sns key, and a customer managed key per stage costs more than the data is worth.',
      });
    }
    const action = topic ? new SnsAction(topic) : undefined;
    const period = Duration.minutes(5);
    const alarm = (id: string, metric: Metric, threshold: number, description: string) => {
      const a = new Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      if (action) a.addAlarmAction(action);
      return a;
    };

    for (const spec of WEBHOOK_FUNCTIONS) {
      const wf = this.functions[spec.name];
      alarm(`${spec.id}Errors`, wf.fn.metricErrors({ period, statistic: 'Sum' }), 1, `${spec.name}: the function failed (crash or timeout)`);
      alarm(`${spec.id}Throttles`, wf.fn.metricThrottles({ period, statistic: 'Sum' }), 1, `${spec.name}: invocations were throttled`);
      new MetricFilter(this, `${spec.id}AuthRejectedFilter`, {
        logGroup: wf.logGroup,
        filterPattern: FilterPattern.all(
          FilterPattern.stringValue('$.msg', '=', 'delivery rejected'),
          FilterPattern.numberValue('$.status', '=', 401),
        ),
        metricNamespace: METRIC_NAMESPACE,
        metricName: 'AuthRejected',
        metricValue: '1',
      });
      new MetricFilter(this, `${spec.id}IndexWriteFailedFilter`, {
        logGroup: wf.logGroup,
        filterPattern: FilterPattern.stringValue('$.msg', '=', 'index write failed'),
        metricNamespace: METRIC_NAMESPACE,
        metricName: 'IndexWriteFailures',
        metricValue: '1',
      });
    }
    alarm('Api5xx', this.api.metricServerError({ period, statistic: 'Sum' }), 1, 'The API answered 5xx (storage unavailable, function failure or timeout)');
    alarm('AuthFailures',
      new Metric({ namespace: METRIC_NAMESPACE, metricName: 'AuthRejected', period, statistic: 'Sum' }),
      config.authFailureAlarmThreshold,
      `At least ${config.authFailureAlarmThreshold} requests failed authentication in 5 minutes: a misconfigured vendor, a rotated secret, or someone probing the endpoints`);
    alarm('IndexWriteFailures',
      new Metric({ namespace: METRIC_NAMESPACE, metricName: 'IndexWriteFailures', period, statistic: 'Sum' }),
      1,
      'An index write failed after the archive write (watsonx answers 2xx anyway): run the reindex tool');
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
