/**
 * `npm run urls [-- --stack <name>] [-- --region <region>]`: what to paste into
 * each vendor's console for a deployed stack. Reads the stack outputs
 * (CloudFormation DescribeStacks) and the webhook secret (GetSecretValue)
 * with the standard AWS credential chain. The formatting is a pure function
 * (formatVendorSetup), tested offline in test/scripts/urls.test.ts.
 *
 * The output contains secrets: it is meant for your terminal, not a log.
 */
import '../quiet-sdk.ts';
import { readFileSync } from 'node:fs';
import { CREDENTIAL_NAMES, pickSecrets, previousName, type Secrets } from '#shared/config';
import { sourceEntries, type CredentialRole, type SourceDeclaration } from '#shared/sources';

/** Every source's endpoint URL (its registry `output`), then the data outputs; CustomDomainName/Target when the stack has a custom domain (context domainName): every URL is on it. */
export const OUTPUT_KEYS = [
  ...sourceEntries().map(([, d]) => d.output),
  'BucketName', 'TableName', 'SecretName', 'SecretArn', 'CustomDomainName', 'CustomDomainTarget',
] as const;

export type StackOutputs = Partial<Record<string, string>>;

/** `url?token=<token>` (or the bare URL when there is no token). */
export function withToken(url: string, token: string | undefined): string {
  if (!token) return url;
  const u = new URL(url);
  u.searchParams.set('token', token);
  return u.toString();
}

const NOT_SET = '(not set)';

/** The field each kind of credential is pasted into. */
const FIELD: Record<CredentialRole, string> = {
  'jwt-secret': 'Secret', 'url-token': 'Token', 'header-token': 'Bearer', 'signing-secret': 'Secret', 'basic': 'Basic',
};

/** One source's block, from its registry entry: what to paste where. */
function sourceSetup(stackName: string, d: SourceDeclaration, url: string | undefined, secrets: Secrets, edit: (key: string) => string): string[] {
  const value = (name: string) => (secrets as Record<string, string | undefined>)[name];
  const lines = [d.console];
  if (url === undefined) return [...lines, `  URL:     ${NOT_SET}: not in stack ${stackName} yet; deploy this version (\`npx cdk deploy\`)`, ''];
  const urlToken = d.credentials.find((c) => c.role === 'url-token')?.name;
  lines.push(`  URL:     ${withToken(url, urlToken === undefined ? undefined : value(urlToken))}`);
  const environments = d.bindings !== undefined && d.credentials.length > 1;
  for (const [i, c] of d.credentials.entries()) {
    if (c.role === 'url-token') continue;
    const field = `${FIELD[c.role]}:`.padEnd(8);
    const v = value(c.name);
    if (environments && i > 0) {
      lines.push(...environmentLines(stackName, d, secrets));
    } else if (c.role === 'signing-secret') {
      lines.push(`  ${field} ${v ? 'configured' : `${NOT_SET}: ${c.vendorStep ?? 'create it in the vendor console'}, then ${edit(c.name)}`}`);
    } else if (c.role === 'basic') {
      const colon = v?.indexOf(':') ?? -1;
      lines.push(v && colon > 0
        ? `  ${field} user ${v.slice(0, colon)}, password ${v.slice(colon + 1)}`
        : `  ${field} ${NOT_SET} (optional): ${edit(c.name)} as user:password`);
    } else {
      lines.push(`  ${field} ${v ?? `${NOT_SET}: ${edit(c.name)}`}`);
    }
  }
  return [...lines, ...d.setup.map((line) => `  ${line}`), ''];
}

/** A source with environments (watsonx draft and live): the second environment's secret and each one's binding. */
function environmentLines(stackName: string, d: SourceDeclaration, secrets: Secrets): string[] {
  const value = (name: string | undefined) => (name === undefined ? undefined : (secrets as Record<string, string | undefined>)[name]);
  const [draftBinding, liveBinding] = d.bindings ?? [];
  const bound = (id: string | undefined) => (id ? ` (only for environment_id ${id})` : '');
  const second = d.credentials[1];
  const live = value(second?.name);
  return live
    ? [`  Draft:   the secret above${bound(value(draftBinding))}`, `  Live:    ${live}${bound(value(liveBinding))}`]
    : [`  Live:    ${NOT_SET} (optional, a second environment with its own secret): npm run rotate -- ${second?.rotateAs ?? second?.name ?? ''} --stack ${stackName}`];
}

/** Per vendor, exactly what to paste where. Pure: no AWS, no clock. */
export function formatVendorSetup(stackName: string, outputs: StackOutputs, secrets: Secrets): string {
  const entries = sourceEntries();
  if (!entries.some(([, d]) => outputs[d.output])) {
    throw new Error(`stack ${stackName} has no output ${entries.map(([, d]) => d.output).join(', ')}: is it deployed from this project?`);
  }
  const secretName = outputs.SecretName ?? 'the webhook secret';
  const edit = (key: string) => `set ${key} in Secrets Manager secret ${secretName} (takes effect within 5 minutes)`;
  const lines: string[] = [`Stack ${stackName}`, ''];
  if (outputs.CustomDomainName) {
    lines.push(`Custom domain: https://${outputs.CustomDomainName} (the execute-api endpoint is disabled; these URLs survive a stack rebuild)`);
    if (outputs.CustomDomainTarget) lines.push(`  DNS: ${outputs.CustomDomainName} → ${outputs.CustomDomainTarget} (created for you with hostedZoneId; otherwise add this CNAME)`);
    lines.push('');
  }

  for (const [, d] of entries) lines.push(...sourceSetup(stackName, d, outputs[d.output], secrets, edit));

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
    const cdk: unknown = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
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

async function run(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv);
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

/** `npm run urls` (scripts/urls.ts): the exit code; a failure is one line on stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await run(argv);
    return 0;
  } catch (err) {
    process.stderr.write(`urls: ${explainAwsError(err, parseArgs(argv).stack ?? defaultStackName())}\n`);
    return 1;
  }
}
