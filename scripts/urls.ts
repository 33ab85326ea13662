/**
 * `npm run urls [-- --stack <name>] [-- --region <region>]`: what to paste into
 * each vendor's console for a deployed stack. Reads the stack outputs
 * (CloudFormation DescribeStacks) and the webhook secret (GetSecretValue)
 * with the standard AWS credential chain. The formatting is a pure function
 * (formatVendorSetup), tested offline in test/scripts/urls.test.ts.
 *
 * The output contains secrets: it is meant for your terminal, not a log.
 */
import '../lib/quiet-sdk.ts';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { CREDENTIAL_NAMES, pickSecrets, previousName, type Secrets } from '#shared/config';

export interface StackOutputs {
  AudioWebhookUrl?: string;
  VolubileWebhookUrl?: string;
  SynthflowWebhookUrl?: string;
  EngageVoiceWebhookUrl?: string;
  BucketName?: string;
  TableName?: string;
  SecretName?: string;
  SecretArn?: string;
  /** Set when the stack has a custom domain (context domainName): every URL is on it. */
  CustomDomainName?: string;
  CustomDomainTarget?: string;
}

export const OUTPUT_KEYS = [
  'AudioWebhookUrl', 'VolubileWebhookUrl', 'SynthflowWebhookUrl', 'EngageVoiceWebhookUrl',
  'BucketName', 'TableName', 'SecretName', 'SecretArn', 'CustomDomainName', 'CustomDomainTarget',
] as const satisfies readonly (keyof StackOutputs)[];

/** `url?token=<token>` (or the bare URL when there is no token). */
export function withToken(url: string, token: string | undefined): string {
  if (!token) return url;
  const u = new URL(url);
  u.searchParams.set('token', token);
  return u.toString();
}

const NOT_SET = '(not set)';

/** Per vendor, exactly what to paste where. Pure: no AWS, no clock. */
export function formatVendorSetup(stackName: string, outputs: StackOutputs, secrets: Secrets): string {
  const missing = OUTPUT_KEYS.filter((k) => k.endsWith('Url') && !outputs[k]);
  if (missing.length > 0) throw new Error(`stack ${stackName} has no output ${missing.join(', ')}: is it deployed from this project?`);
  const secretName = outputs.SecretName ?? 'the webhook secret';
  const edit = (key: string) => `set ${key} in Secrets Manager secret ${secretName} (takes effect within 5 minutes)`;
  const lines: string[] = [`Stack ${stackName}`, ''];
  if (outputs.CustomDomainName) {
    lines.push(`Custom domain: https://${outputs.CustomDomainName} (the execute-api endpoint is disabled; these URLs survive a stack rebuild)`);
    if (outputs.CustomDomainTarget) lines.push(`  DNS: ${outputs.CustomDomainName} → ${outputs.CustomDomainTarget} (created for you with hostedZoneId; otherwise add this CNAME)`);
    lines.push('');
  }

  lines.push('IBM watsonx Assistant — phone integration, audio webhook (record step)');
  lines.push(`  URL:     ${outputs.AudioWebhookUrl}`);
  lines.push(`  Secret:  ${secrets.WATSONX_AUDIO_SECRET ?? `${NOT_SET}: ${edit('WATSONX_AUDIO_SECRET')}`}`);
  const bound = (id: string | undefined) => (id ? ` (only for environment_id ${id})` : '');
  if (secrets.WATSONX_AUDIO_SECRET_LIVE) {
    lines.push(`  Draft:   the secret above${bound(secrets.WATSONX_DRAFT_ENVIRONMENT_ID)}`);
    lines.push(`  Live:    ${secrets.WATSONX_AUDIO_SECRET_LIVE}${bound(secrets.WATSONX_LIVE_ENVIRONMENT_ID)}`);
  } else {
    lines.push(`  Live:    ${NOT_SET} (optional, a second environment with its own secret): npm run rotate -- watsonx-live --stack ${stackName}`);
  }
  lines.push('  Signs:   Authorization: Bearer <JWT>, HMAC (HS256/384/512) with the secret above', '');

  lines.push('Volubile — call-completed webhook');
  lines.push(`  URL:     ${withToken(outputs.VolubileWebhookUrl ?? '', secrets.VOLUBILE_WEBHOOK_TOKEN)}`);
  lines.push(`  Secret:  ${secrets.VOLUBILE_WEBHOOK_SECRET ? 'configured' : `${NOT_SET}: enable webhook signing in Volubile, then ${edit('VOLUBILE_WEBHOOK_SECRET')}`}`);
  lines.push('  Signs:   X-Webhook-Signature: lowercase hex HMAC-SHA256(secret, raw body)', '');

  lines.push('Synthflow — post-call webhook');
  lines.push(`  URL:     ${withToken(outputs.SynthflowWebhookUrl ?? '', secrets.SYNTHFLOW_WEBHOOK_TOKEN)}`);
  lines.push(`  Secret:  ${secrets.SYNTHFLOW_WEBHOOK_SECRET ? 'configured' : `${NOT_SET}: generate a webhook secret in Synthflow, then ${edit('SYNTHFLOW_WEBHOOK_SECRET')}`}`);
  lines.push('  Signs:   Synthflow-Signature: base64 HMAC-SHA256(secret, call.call_id)', '');

  lines.push('RingCentral Engage Voice (RingCX) — web service, e.g. on Agent Termination');
  lines.push(`  URL:     ${withToken(outputs.EngageVoiceWebhookUrl ?? '', secrets.ENGAGE_VOICE_TOKEN)}`);
  lines.push('  Method:  POST (JSON or form) or GET; map fields with #tags#, e.g. uii=#uii#&agent_id=#agent_id#&ani=#ani#&dnis=#dnis#&call_start=#call_start#&duration=#duration#');
  const basic = secrets.ENGAGE_VOICE_BASIC_AUTH;
  const colon = basic?.indexOf(':') ?? -1;
  lines.push(basic && colon > 0
    ? `  Basic:   user ${basic.slice(0, colon)}, password ${basic.slice(colon + 1)}`
    : `  Basic:   ${NOT_SET} (optional): ${edit('ENGAGE_VOICE_BASIC_AUTH')} as user:password`);
  lines.push('  Signs:   nothing; the URL token (and Basic credentials when set) authenticate', '');

  const rotating = CREDENTIAL_NAMES.filter((name) => secrets[previousName(name)]);
  if (rotating.length > 0) {
    lines.push('Rotations in progress (the previous value is still accepted):');
    for (const name of rotating) lines.push(`  ${name}: once the vendor sends the new value, npm run rotate -- ${name} --stack ${stackName} --finish`);
    lines.push('');
  }

  lines.push(`Data: bucket ${outputs.BucketName ?? '?'}, table ${outputs.TableName ?? '?'}`);
  return lines.join('\n');
}

/** Outputs array of DescribeStacks → known keys only. */
export function outputsFrom(list: readonly { OutputKey?: string; OutputValue?: string }[]): StackOutputs {
  const out: StackOutputs = {};
  for (const { OutputKey, OutputValue } of list) {
    const key = OUTPUT_KEYS.find((k) => k === OutputKey);
    if (key && OutputValue !== undefined) out[key] = OutputValue;
  }
  return out;
}

/** Default stack: the stage in cdk.json context (`VoiceWebhooks-<stage>`). */
function defaultStackName(): string {
  try {
    const cdk: unknown = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8'));
    const stage = typeof cdk === 'object' && cdk !== null && 'context' in cdk && typeof cdk.context === 'object' && cdk.context !== null && 'stage' in cdk.context
      ? cdk.context.stage : undefined;
    return `VoiceWebhooks-${typeof stage === 'string' && stage ? stage : 'dev'}`;
  } catch {
    return 'VoiceWebhooks-dev';
  }
}

export function parseArgs(argv: readonly string[]): { stack?: string; region?: string } {
  const out: { stack?: string; region?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--stack' || a === '--region') {
      const v = argv[++i];
      if (!v) throw new Error(`${a} needs a value`);
      out[a === '--stack' ? 'stack' : 'region'] = v;
    } else {
      throw new Error(`unknown argument ${a}: use --stack <name> and/or --region <region>`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const stackName = args.stack ?? defaultStackName();
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const clientConfig = args.region ? { region: args.region } : {};
  const cfn = new CloudFormationClient(clientConfig);
  const described = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs = outputsFrom(described.Stacks?.[0]?.Outputs ?? []);
  if (!outputs.SecretArn) throw new Error(`stack ${stackName} has no SecretArn output`);
  const sm = new SecretsManagerClient(clientConfig);
  const secret = await sm.send(new GetSecretValueCommand({ SecretId: outputs.SecretArn }));
  const parsed: unknown = JSON.parse(secret.SecretString ?? '{}');
  const secrets = typeof parsed === 'object' && parsed !== null ? pickSecrets({ ...parsed }) : {};
  process.stdout.write(formatVendorSetup(stackName, outputs, secrets) + '\n');
}

/** What to do about a failure to reach the stack, in the user's terms rather than the SDK's. */
export function explainAwsError(err: unknown, stackName: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const name = err instanceof Error ? err.name : '';
  if (/region is missing/i.test(message)) {
    return 'no AWS region: pass --region <region> (the one you deployed to), or set AWS_REGION, or AWS_PROFILE for a profile that has a region';
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return 'no AWS credentials: set AWS_PROFILE=<profile> (after `aws configure` or `aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  }
  if (/does not exist/i.test(message)) {
    return `stack ${stackName} not found in this account and region: run \`npx cdk deploy\` first, or pass --stack <name> and --region <region>`;
  }
  return message;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`urls: ${explainAwsError(err, parseArgs(process.argv.slice(2)).stack ?? defaultStackName())}\n`);
    process.exitCode = 1;
  });
}
