import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { ApplicationLogLevel, Architecture, LoggingFormat, Runtime, SystemLogLevel, type CfnFunction, type FunctionOptions } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, LogLevel, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ESBUILD_OPTIONS, REPO_ROOT, type WebhookFunctionSpec } from './functions.ts';
import type { LogLevelName } from './config.ts';

/** NodejsFunction bundling derived from the plain ESBUILD_OPTIONS, so every tool bundles the same way. */
export function cdkBundling(): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: ESBUILD_OPTIONS.target,
    minify: ESBUILD_OPTIONS.minify,
    sourceMap: ESBUILD_OPTIONS.sourcemap,
    sourcesContent: ESBUILD_OPTIONS.sourcesContent,
    mainFields: [...ESBUILD_OPTIONS.mainFields],
    banner: ESBUILD_OPTIONS.banner.js,
    externalModules: [...ESBUILD_OPTIONS.external],
    tsconfig: ESBUILD_OPTIONS.tsconfig,
    logLevel: LogLevel.WARNING,
    // Local esbuild only (installed as a dev dependency): no Docker.
    forceDockerBundling: false,
  };
}

/**
 * Lambda's advanced logging controls: JSON logs, the application level set by
 * Lambda (AWS_LAMBDA_LOG_LEVEL, which Powertools' Logger obeys), the same level
 * in POWERTOOLS_LOG_LEVEL for runs outside Lambda (sam local). Platform lines
 * (START, REPORT) stay at INFO: the runbook's duration queries read them.
 */
export function lambdaLogging(level: LogLevelName): Pick<FunctionOptions, 'loggingFormat' | 'applicationLogLevelV2' | 'systemLogLevelV2'> & { environment: Record<string, string> } {
  return {
    loggingFormat: LoggingFormat.JSON,
    applicationLogLevelV2: ApplicationLogLevel[level],
    systemLogLevelV2: SystemLogLevel.INFO,
    environment: { POWERTOOLS_LOG_LEVEL: level },
  };
}

export interface WebhookFunctionProps {
  spec: WebhookFunctionSpec;
  environment: Record<string, string>;
  logRetention: RetentionDays;
  /** Customer managed key of the function's log group. */
  logKey: IKey;
  /** Application log level (context logLevel). */
  logLevel?: LogLevelName;
  /** Concurrency reserved for (and capping) this function; none when absent. */
  reservedConcurrency?: number;
}

/**
 * "A webhook function": pins runtime, architecture, bundling, log group and
 * role, so each handler is declared in a few lines. The role starts empty (no
 * AWSLambdaBasicExecutionRole managed policy): it may write its own log group
 * and whatever the stack grants it explicitly, nothing else.
 */
export class WebhookFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  /** Concurrency reserved for this function, if any. */
  readonly reservedConcurrency: number | undefined;

  constructor(scope: Construct, id: string, props: WebhookFunctionProps) {
    super(scope, id);
    const { spec } = props;
    this.reservedConcurrency = props.reservedConcurrency;
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN, encryptionKey: props.logKey });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${spec.name} webhook handler`,
    });
    this.logGroup.grantWrite(this.role);
    const logging = lambdaLogging(props.logLevel ?? 'INFO');
    this.fn = new NodejsFunction(this, 'Function', {
      loggingFormat: logging.loggingFormat,
      applicationLogLevelV2: logging.applicationLogLevelV2,
      systemLogLevelV2: logging.systemLogLevelV2,
      entry: join(REPO_ROOT, spec.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      description: `${spec.name} webhook`,
      environment: { ...props.environment, ...logging.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: cdkBundling(),
      ...(props.reservedConcurrency ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
    });
    // A stable logical id, so `sam local invoke <id>` in docs/deploy.md keeps working.
    (this.fn.node.defaultChild as CfnFunction).overrideLogicalId(`${spec.id}Function`);
  }
}
