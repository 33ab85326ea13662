import { pathToFileURL } from 'node:url';
import { App, Validations, type Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import { readStackConfig, stackName } from './config.ts';
import { WebhooksStack } from './stack.ts';
import type { KeyList } from './secret-filler/fill.ts';

/**
 * `npx cdk synth` / `npx cdk deploy` entry (cdk.json "app"). One stack per
 * stage: `npx cdk deploy -c stage=prod`. Three cdk-nag packs run on every
 * synth (AwsSolutions, HIPAA Security, NIST 800-53 rev 5); each
 * acknowledgement in infra/ carries a reason specific to this stack.
 */
export function nagPacks(scope: App | Stack): [AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks] {
  return [new AwsSolutionsChecks(scope), new HIPAASecurityChecks(scope), new NIST80053R5Checks(scope)];
}

export function buildApp(app: App = new App(), secretKeys?: KeyList): { app: App; stack: WebhooksStack } {
  const config = readStackConfig(app.node);
  const stack = new WebhooksStack(app, stackName(config.stage), {
    config,
    ...(secretKeys ? { secretKeys } : {}),
    description: `Voice webhooks (${config.stage}): API Gateway HTTP API, Lambda, S3, DynamoDB, Secrets Manager`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Validations.of(app).addPlugins(...nagPacks(app));
  return { app, stack };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildApp().app.synth();
}
