import { resolve } from 'node:path';
import { CREDENTIAL_NAMES, previousName, type Secrets } from '#shared/config';
import { SOURCES, sourceEntries, type SourceDeclaration } from '#shared/sources';
import { LOCAL_DEFAULTS } from './local-config.ts';

/**
 * The start-up banner: every source's endpoint (from the registry) as a
 * ready-to-paste URL, the secrets local mode generated (never one that came
 * from the environment), one example command per source, and how to read the
 * data with the AWS CLI.
 */

type Env = Record<string, string | undefined>;

export interface BannerInput {
  baseUrl: string;
  /** The environment as the user set it (before local mode added anything). */
  env: Env;
  /** Values local mode supplied (generated now or earlier): these may be shown. */
  generated: Secrets;
  dataDir: string;
  bucketName: string;
  tableName: string;
  /** '' when external storage is on the SDK's default endpoints. */
  s3Endpoint: string;
  dynamoEndpoint: string;
  /** The user's own S3 and DynamoDB (their credentials), not the embedded servers. */
  externalStorage?: boolean;
}

function set(env: Env, name: string): boolean {
  const value = env[name];
  return value !== undefined && value.trim() !== '';
}

/** A word the shell passes through unchanged, else single-quoted. */
export function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * `npm run replay -- <sample>` for this server as it runs: the replay tool defaults to
 * 127.0.0.1:3000 and ./.data, so a non-default address goes in `--url` and a
 * non-default DATA_DIR (where the generated secrets are) in front of the command.
 */
export function replayCommand(b: Pick<BannerInput, 'baseUrl' | 'dataDir'>, sample: string): string {
  const defaultUrl = `http://${LOCAL_DEFAULTS.HOST}:${LOCAL_DEFAULTS.PORT}`;
  const dataDir = resolve(b.dataDir) === resolve(LOCAL_DEFAULTS.DATA_DIR) ? '' : `DATA_DIR=${shellWord(b.dataDir)} `;
  const url = b.baseUrl.replace(/\/+$/, '') === defaultUrl ? '' : ` --url ${shellWord(b.baseUrl)}`;
  return `${dataDir}npm run replay -- ${sample}${url}`;
}

/** One source's endpoint and credentials, from its registry entry. */
function endpointLines(b: BannerInput, d: SourceDeclaration): string[] {
  const value = (name: string) => (b.generated as Record<string, string | undefined>)[name];
  const fromEnv = (name: string, what: string) => (set(b.env, name) ? [`      ${what}: ${name} from your environment`] : []);
  // A URL token goes into the URL (generated: its value; from the environment: a placeholder); the rest get a line each.
  const urlToken = d.credentials.find((c) => c.role === 'url-token')?.name;
  const tokenQuery = urlToken === undefined ? ''
    : value(urlToken) !== undefined ? `?token=${encodeURIComponent(value(urlToken) ?? '')}`
    : set(b.env, urlToken) ? `?token=<your ${urlToken}>` : '';
  const lines = [`  ${d.title.padEnd(21)} ${d.methods.join('/').padStart(8)} ${b.baseUrl}${d.path}${tokenQuery}`];
  const environments = d.bindings !== undefined && d.credentials.length > 1;
  for (const c of d.credentials) {
    if (c.role === 'url-token' || (environments && c !== d.credentials[0])) continue;
    const generated = value(c.name);
    lines.push(...(generated !== undefined ? [`      ${c.label} (generated): ${generated}`] : fromEnv(c.name, c.label)));
  }
  if (environments) lines.push(...watsonxEnvironments(b, d));
  return lines;
}

/** Draft and live side by side: each environment's own secret, optionally bound to its environment_id. */
function watsonxEnvironments(b: BannerInput, d: SourceDeclaration): string[] {
  const [, live] = d.credentials;
  const [draftBinding, liveBinding] = d.bindings ?? [];
  if (live === undefined || draftBinding === undefined || liveBinding === undefined) return [];
  const generated = b.generated as Record<string, string | undefined>;
  const binding = (name: string) => {
    const id = generated[name] ?? (set(b.env, name) ? b.env[name]?.trim() : undefined);
    return id ? `, only for environment_id ${id}` : ', any environment_id';
  };
  if (generated[live.name] === undefined && !set(b.env, live.name)) return [];
  return [
    `      draft environment: the secret above${binding(draftBinding)}`,
    generated[live.name] !== undefined
      ? `      live environment:  ${generated[live.name]}${binding(liveBinding)}`
      : `      live environment:  ${live.name} from your environment${binding(liveBinding)}`,
  ];
}

export function renderBanner(b: BannerInput): string {
  const lines: string[] = [];
  lines.push('voice-webhooks local mode', '');
  lines.push('Endpoints (paste into the vendor console, through a tunnel for a real vendor):');
  for (const [, d] of sourceEntries()) lines.push(...endpointLines(b, d));

  const rotating = CREDENTIAL_NAMES.filter((name) => b.generated[previousName(name)] !== undefined || set(b.env, previousName(name)));
  if (rotating.length > 0) {
    lines.push('', 'Rotations in progress (the previous value is still accepted; finish once the vendor sends the new one):');
    for (const name of rotating) lines.push(`  ${name}: npm run rotate -- ${name} --finish`);
  }

  const generatedNames = Object.keys(b.generated);
  if (generatedNames.length > 0) {
    lines.push('', `Secrets kept in ${b.dataDir}/secrets.json (generated, or set by npm run rotate; reused on the next start): ${generatedNames.join(', ')}`);
  }

  lines.push('', 'Send a signed sample (add --new for a new call each time):');
  for (const source of SOURCES) lines.push(`  ${replayCommand(b, source)}`);

  if (b.externalStorage) {
    const at = (endpoint: string) => (endpoint ? ` --endpoint-url ${endpoint}` : '');
    lines.push('', `Stored data (external storage, your own credentials; bucket and table created if missing):`);
    lines.push(`  aws${at(b.s3Endpoint)} s3 ls s3://${b.bucketName} --recursive`);
    lines.push(`  aws${at(b.dynamoEndpoint)} dynamodb scan --table-name ${b.tableName}`);
  } else {
    const creds = 'AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1';
    lines.push('', `Stored data (under ${b.dataDir}):`);
    lines.push(`  ${creds} aws --endpoint-url ${b.s3Endpoint} s3 ls s3://${b.bucketName} --recursive`);
    lines.push(`  ${creds} aws --endpoint-url ${b.dynamoEndpoint} dynamodb scan --table-name ${b.tableName}`);
  }
  lines.push('');
  return lines.join('\n');
}
