import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readStackConfig, stackName } from './config.ts';
import { WebhooksStack } from './stack.ts';

/**
 * `npx cdk synth` / `npx cdk deploy` entry (cdk.json "app"). One stack per
 * stage: `npx cdk deploy -c stage=prod`. cdk-nag's AwsSolutions pack runs on
 * every synth; each acknowledgement in stack.ts carries its reason.
 */
export function buildApp(app: App = new App()): { app: App; stack: WebhooksStack } {
  const config = readStackConfig(app.node);
  const stack = new WebhooksStack(app, stackName(config.stage), {
    config,
    description: `Voice webhooks (${config.stage}): API Gateway HTTP API, Lambda, S3, DynamoDB, Secrets Manager`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildApp().app.synth();
}
