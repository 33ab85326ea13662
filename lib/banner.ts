import { resolve } from 'node:path';
import { CREDENTIAL_NAMES, previousName, type Secrets } from '#shared/config';
import { LOCAL_DEFAULTS } from './local-config.ts';

/**
 * The start-up banner: every endpoint as a ready-to-paste URL, the secrets
 * local mode generated (never one that came from the environment), one
 * example command per source, and how to read the data with the AWS CLI.
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

export function renderBanner(b: BannerInput): string {
  const lines: string[] = [];
  const tokenQuery = (name: 'VOLUBILE_WEBHOOK_TOKEN' | 'SYNTHFLOW_WEBHOOK_TOKEN' | 'ENGAGE_VOICE_TOKEN') => {
    const generated = b.generated[name];
    if (generated !== undefined) return `?token=${encodeURIComponent(generated)}`;
    if (set(b.env, name)) return `?token=<your ${name}>`;
    return '';
  };
  const fromEnv = (name: string, what: string) => (set(b.env, name) ? [`      ${what}: ${name} from your environment`] : []);

  lines.push('voice-webhooks local mode', '');
  lines.push('Endpoints (paste into the vendor console, through a tunnel for a real vendor):');

  lines.push(`  watsonx audio webhook   POST ${b.baseUrl}/audio-webhook`);
  if (b.generated.WATSONX_AUDIO_SECRET !== undefined) {
    lines.push(`      secret (generated): ${b.generated.WATSONX_AUDIO_SECRET}`);
  } else {
    lines.push(...fromEnv('WATSONX_AUDIO_SECRET', 'secret'));
  }
  // Draft and live side by side: each environment's own secret, optionally bound to its environment_id.
  const binding = (name: 'WATSONX_DRAFT_ENVIRONMENT_ID' | 'WATSONX_LIVE_ENVIRONMENT_ID') => {
    const id = b.generated[name] ?? (set(b.env, name) ? b.env[name]?.trim() : undefined);
    return id ? `, only for environment_id ${id}` : ', any environment_id';
  };
  const hasLive = b.generated.WATSONX_AUDIO_SECRET_LIVE !== undefined || set(b.env, 'WATSONX_AUDIO_SECRET_LIVE');
  if (hasLive) {
    lines.push(`      draft environment: the secret above${binding('WATSONX_DRAFT_ENVIRONMENT_ID')}`);
    lines.push(b.generated.WATSONX_AUDIO_SECRET_LIVE !== undefined
      ? `      live environment:  ${b.generated.WATSONX_AUDIO_SECRET_LIVE}${binding('WATSONX_LIVE_ENVIRONMENT_ID')}`
      : `      live environment:  WATSONX_AUDIO_SECRET_LIVE from your environment${binding('WATSONX_LIVE_ENVIRONMENT_ID')}`);
  }

  lines.push(`  Volubile                POST ${b.baseUrl}/call-completed/volubile${tokenQuery('VOLUBILE_WEBHOOK_TOKEN')}`);
  lines.push(...fromEnv('VOLUBILE_WEBHOOK_SECRET', 'signature secret (X-Webhook-Signature)'));

  lines.push(`  Synthflow               POST ${b.baseUrl}/call-completed/synthflow${tokenQuery('SYNTHFLOW_WEBHOOK_TOKEN')}`);
  lines.push(...fromEnv('SYNTHFLOW_WEBHOOK_SECRET', 'signature secret (X-Synthflow-Signature)'));

  lines.push(`  Engage Voice        GET/POST ${b.baseUrl}/engage-voice${tokenQuery('ENGAGE_VOICE_TOKEN')}`);
  lines.push(...fromEnv('ENGAGE_VOICE_BASIC_AUTH', 'HTTP Basic credentials'));

  // Vapi sends its credential in a header (a Bearer Token credential in its dashboard), so the URL stays bare.
  lines.push(`  Vapi                    POST ${b.baseUrl}/call-completed/vapi`);
  if (b.generated.VAPI_WEBHOOK_TOKEN !== undefined) {
    lines.push(`      Bearer Token credential (generated): ${b.generated.VAPI_WEBHOOK_TOKEN}`);
  } else {
    lines.push(...fromEnv('VAPI_WEBHOOK_TOKEN', 'Bearer Token credential (Authorization: Bearer / X-Vapi-Secret)'));
  }
  lines.push(...fromEnv('VAPI_WEBHOOK_SECRET', 'HMAC credential secret (x-vapi-signature)'));

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
  for (const source of ['watsonx', 'volubile', 'synthflow', 'engage-voice', 'vapi']) lines.push(`  ${replayCommand(b, source)}`);

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
