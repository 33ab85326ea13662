import { join } from 'node:path';
import { CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Secret, type CfnSecret } from 'aws-cdk-lib/aws-secretsmanager';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { SECRET_NAMES, type SecretName } from '#shared/config';
import { generatedNames } from '#shared/sources';
import { keyListHash, type KeyList } from './secret-filler/fill.ts';
import { REPO_ROOT } from './functions.ts';
import { cdkBundling } from './webhook-function.ts';
import { acknowledgeCompliance } from './nag.ts';

/** Keys the filler generates when missing (each source's `generate` in the registry); the rest start empty. */
export const GENERATED = generatedNames() as readonly SecretName[];

/** The stack's key list: every secret name, generated or empty. */
export function secretKeyList(names: readonly string[] = SECRET_NAMES, generated: readonly string[] = GENERATED): KeyList {
  return { generated: names.filter((n) => generated.includes(n)), empty: names.filter((n) => !generated.includes(n)) };
}

/**
 * FROZEN. CloudFormation regenerates a secret's whole value whenever its
 * GenerateSecretString changes, wiping every token and pasted vendor secret.
 * This is the template the first release deployed, kept byte for byte so no
 * existing stack sees a change; keys added since are created by the filler.
 * Never derive it from SECRET_NAMES and never edit it.
 */
export const FROZEN_SECRET_TEMPLATE =
  '{"VOLUBILE_WEBHOOK_SECRET":"","VOLUBILE_WEBHOOK_TOKEN":"","SYNTHFLOW_WEBHOOK_SECRET":"","SYNTHFLOW_WEBHOOK_TOKEN":"","ENGAGE_VOICE_TOKEN":"","ENGAGE_VOICE_BASIC_AUTH":""}';
export const FROZEN_GENERATED_KEY = 'WATSONX_AUDIO_SECRET';

/** CloudFormation's own wait for the filler's answer (its default is one hour). */
export const FILLER_SERVICE_TIMEOUT = Duration.minutes(5);
/** The filler function's timeout: Secrets Manager calls are bounded well inside it (secret-filler/handler.ts). */
export const FILLER_TIMEOUT = Duration.seconds(60);

export interface WebhookSecretProps {
  encryptionKey: IKey;
  /** The keys the secret must hold (default: SECRET_NAMES, GENERATED generated). */
  keys?: KeyList;
  description: string;
}

/**
 * The one JSON secret of the stack: CloudFormation creates it (with the
 * watsonx secret generated), a deploy-time custom resource adds every other
 * key and never overwrites a set value (secret-filler/). Encrypted with the
 * stack's customer managed key, retained.
 */
export class WebhookSecret extends Construct {
  readonly secret: Secret;
  readonly keys: KeyList;

  constructor(scope: Construct, id: string, props: WebhookSecretProps) {
    super(scope, id);
    this.keys = props.keys ?? secretKeyList();
    this.secret = new Secret(this, 'Secret', {
      description: props.description,
      encryptionKey: props.encryptionKey,
      generateSecretString: {
        secretStringTemplate: FROZEN_SECRET_TEMPLATE,
        generateStringKey: FROZEN_GENERATED_KEY,
        excludePunctuation: true,
        passwordLength: 48,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The values are shared with vendor consoles (URL tokens, signing secrets): an automatic rotation would break every integration until someone re-pastes them. Rotate by editing the secret and the vendor console together (docs/runbook.md); handlers pick up the new value within SECRET_REFRESH_SECONDS.',
    });
    acknowledgeCompliance(this.secret, 'SecretsManagerRotationEnabled', 'Same as AwsSolutions-SMG4: the values are pasted into vendor consoles, so rotation is a coordinated manual step (docs/runbook.md), not a Lambda rotation schedule.');
    this.filler(props.encryptionKey);
  }

  /** The CfnSecret, for pinning its logical id. */
  get cfn(): CfnSecret {
    return this.secret.node.defaultChild as CfnSecret;
  }

  private filler(key: IKey): void {
    const logGroup = new LogGroup(this, 'FillerLogs', { retention: 30, removalPolicy: RemovalPolicy.DESTROY, encryptionKey: key });
    const role = new Role(this, 'FillerRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Adds missing keys to the webhook secret at deploy time',
    });
    logGroup.grantWrite(role);
    // Read the value and write a new version; nothing else (no DescribeSecret, no rotation, no delete).
    role.addToPrincipalPolicy(new PolicyStatement({
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
      resources: [this.secret.secretArn],
    }));
    role.addToPrincipalPolicy(new PolicyStatement({
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
    }));
    const fn = new NodejsFunction(this, 'Filler', {
      entry: join(REPO_ROOT, 'infra/secret-filler/handler.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: FILLER_TIMEOUT,
      role,
      logGroup,
      description: 'Deploy-time: adds missing keys to the webhook secret',
      bundling: { ...cdkBundling(), externalModules: ['@aws-sdk/*'] },
    });
    acknowledgeCompliance(fn, 'LambdaConcurrency', 'Deploy-time custom resource: CloudFormation invokes it once per stack create or update, so there is no traffic to reserve concurrency for.');
    acknowledgeCompliance(fn, 'LambdaDLQ', 'Deploy-time custom resource: every failure is answered to CloudFormation (FAILED), which rolls the deploy back; a dead-letter queue would only keep a copy of a one-off event.');
    acknowledgeCompliance(fn, 'LambdaInsideVPC', 'The function reaches only the Secrets Manager API and the CloudFormation response URL; a VPC would add NAT or endpoints and change nothing about what it can reach.');
    acknowledgeCompliance(role, 'IAMNoInlinePolicy', 'The inline policy is the grant of this one role on this one secret and key (GetSecretValue, PutSecretValue, its log group); a managed policy could be attached to other principals.');
    new CustomResource(this, 'Fill', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::WebhookSecretFiller',
      serviceTimeout: FILLER_SERVICE_TIMEOUT,
      properties: {
        SecretArn: this.secret.secretArn,
        GeneratedKeys: [...this.keys.generated],
        EmptyKeys: [...this.keys.empty],
        // A changed key list changes the properties, so CloudFormation sends an Update and the new keys are filled.
        KeyListHash: keyListHash(this.keys),
      },
    });
  }
}
