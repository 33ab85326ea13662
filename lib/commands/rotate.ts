/**
 * `npm run rotate -- <source> [--name NAME] [--value v] [--stack name] [--region r]`
 * and `npm run rotate -- <source> [--name NAME] [--stack name] --finish`.
 *
 * Starts or finishes the rotation of one secret or token (lib/rotate/rotation.ts):
 * locally in DATA_DIR/secrets.json (a running `npm start` re-reads it), with
 * --stack in the stack's Secrets Manager secret (the functions re-read it within
 * SECRET_REFRESH_SECONDS). Prints the new value only where it must be pasted.
 */
import '../quiet-sdk.ts';
import { previousName } from '#shared/config';
import { readLocalConfig } from '../local-config.ts';
import { readStoredSecrets, secretsFile, writeStoredSecrets } from '../local-secrets.ts';
import {
  ROTATION_SOURCES, RotationError, finishRotation, pasteInstructions, resolveTarget, startRotation, type RotationTarget,
} from '../rotate/rotation.ts';
import { outputsFrom, type StackOutputs } from './urls.ts';

type Env = Record<string, string | undefined>;

export interface RotateArgs {
  source: string;
  name?: string;
  value?: string;
  stack?: string;
  region?: string;
  finish: boolean;
}

export const USAGE = `usage: npm run rotate -- <source> [--name NAME] [--value v] [--stack name] [--region r] [--finish]
  source   ${ROTATION_SOURCES.join(', ')} (or a variable name, e.g. VOLUBILE_WEBHOOK_SECRET)
  --name   which credential, when the source has several set (e.g. SYNTHFLOW_WEBHOOK_SECRET)
  --value  the new value (required for the Volubile and Synthflow signing secrets, made in their consoles)
  --stack  rotate in a deployed stack's Secrets Manager secret instead of DATA_DIR/secrets.json
  --finish drop the previous value: only the new one is accepted from then on`;

export function parseRotateArgs(argv: readonly string[]): RotateArgs {
  const out: RotateArgs = { source: '', finish: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--finish') { out.finish = true; continue; }
    if (a === '--name' || a === '--value' || a === '--stack' || a === '--region') {
      const v = argv[++i];
      if (v === undefined || v === '') throw new RotationError(`${a} needs a value\n${USAGE}`);
      out[a.slice(2) as 'name' | 'value' | 'stack' | 'region'] = v;
      continue;
    }
    if (a.startsWith('--') || out.source !== '') throw new RotationError(`unexpected argument ${a}\n${USAGE}`);
    out.source = a;
  }
  if (out.source === '') throw new RotationError(USAGE);
  if (out.finish && out.value !== undefined) throw new RotationError('--finish takes no --value');
  return out;
}

/** Where the secret lives: read its key/value object, write changes back. */
export interface SecretStore {
  where: string;
  /** When the handlers see a change. */
  takesEffect: string;
  read(): Promise<Record<string, unknown>>;
  write(set: Record<string, string>, drop: readonly string[]): Promise<void>;
  /** Endpoint URL for a target's route (for tokens that go in the URL). */
  endpointUrl(target: RotationTarget): string | undefined;
}

export function localStore(env: Env): SecretStore {
  const cfg = readLocalConfig(env);
  return {
    where: secretsFile(cfg.dataDir),
    takesEffect: 'a running npm start uses both within about a second (it re-reads the file); otherwise on its next start',
    read: async () => ({ ...readStoredSecrets(cfg.dataDir) }),
    write: async (set, drop) => {
      const next: Record<string, string> = { ...readStoredSecrets(cfg.dataDir), ...set };
      for (const name of drop) Reflect.deleteProperty(next, name);
      writeStoredSecrets(cfg.dataDir, next);
    },
    endpointUrl: (t) => (t.urlPath ? `http://${cfg.host}:${cfg.port}${t.urlPath}` : undefined),
  };
}

/** The stack's secret, through the SDK (standard credential chain; AWS_ENDPOINT_URL_* overrides apply). */
export async function stackStore(stackName: string, region?: string): Promise<SecretStore> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const { SecretsManagerClient, GetSecretValueCommand, PutSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const config = region ? { region } : {};
  const described = await new CloudFormationClient(config).send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs: StackOutputs = outputsFrom(described.Stacks?.[0]?.Outputs ?? []);
  const secretId = outputs.SecretArn;
  if (!secretId) throw new RotationError(`stack ${stackName} has no SecretArn output: is it deployed from this project?`);
  const sm = new SecretsManagerClient(config);
  const read = async (): Promise<Record<string, unknown>> => {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
    const parsed: unknown = JSON.parse(out.SecretString ?? '{}');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new RotationError(`the secret of ${stackName} is not a JSON object`);
    return { ...parsed };
  };
  return {
    where: `Secrets Manager secret ${outputs.SecretName ?? secretId} (stack ${stackName})`,
    takesEffect: 'the functions use both within their refresh interval (SECRET_REFRESH_SECONDS, 5 minutes): wait that long before changing the vendor console',
    read,
    write: async (set, drop) => {
      // Read again right before writing, and keep every other key as it is; a
      // dropped key stays present and empty (the secret's keys are SECRET_NAMES).
      const next: Record<string, unknown> = { ...(await read()), ...set };
      for (const name of drop) next[name] = '';
      await sm.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(next) }));
    },
    endpointUrl: (t) => (t.urlOutput ? outputs[t.urlOutput as keyof StackOutputs] : undefined),
  };
}

/** Runs one rotate command against a store; returns what to print. */
export async function runRotate(args: RotateArgs, store: SecretStore, env: Env = {}): Promise<string> {
  const values = await store.read();
  const target = resolveTarget(args.source, values, args.name);
  const isLocal = args.stack === undefined;
  if (isLocal) {
    for (const name of [target.name, previousName(target.name)]) {
      if (env[name] !== undefined && env[name].trim() !== '') {
        throw new RotationError(`${name} is set in your environment, which wins over ${store.where}: rotate it there (${previousName(target.name)}=<old value>, ${target.name}=<new value>, restart npm start; later unset ${previousName(target.name)}), or unset it to let rotate manage it`);
      }
    }
  }
  const again = `npm run rotate -- ${args.source}${args.name ? ` --name ${args.name}` : ''}${args.stack ? ` --stack ${args.stack}` : ''}`;
  if (args.finish) {
    const { drop } = finishRotation(values, target);
    await store.write({}, [drop]);
    return `${target.name}: rotation finished in ${store.where}; the previous value is no longer accepted (${isLocal ? 'a running npm start within about a second' : 'by the functions within their refresh interval, 5 minutes'}).`;
  }
  const rotated = startRotation(values, target, args.value);
  await store.write(Object.fromEntries(Object.entries(rotated.set).filter((e): e is [string, string] => e[1] !== undefined)), []);
  return [
    `${target.name}: new value set in ${store.where}${rotated.hadCurrent ? `; the old one is kept as ${previousName(target.name)} and still accepted` : ' (there was no value before)'}.`,
    `When: ${store.takesEffect}.`,
    'Then paste the new value:',
    pasteInstructions(target, rotated.value, store.endpointUrl(target)),
    ...(rotated.hadCurrent
      ? [
          `Deliveries still signed with the old value are accepted and counted: metric AcceptedOnPreviousSecret (Source=${target.source.replace('-live', '')}), log field acceptedOnPrevious.`,
          `Once that count stays at zero, finish: ${again} --finish`,
        ]
      : []),
  ].join('\n');
}

async function run(argv: readonly string[]): Promise<void> {
  const args = parseRotateArgs(argv);
  const store = args.stack ? await stackStore(args.stack, args.region) : localStore(process.env);
  process.stdout.write((await runRotate(args, store, process.env)) + '\n');
}

/** `npm run rotate` (scripts/rotate.ts): the exit code; a failure is one line on stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await run(argv);
    return 0;
  } catch (err) {
    process.stderr.write(`rotate: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
