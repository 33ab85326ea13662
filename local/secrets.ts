import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as v from 'valibot';
import { pickSecrets, type SecretName, type Secrets } from '#shared/config';

/**
 * Local mode's secrets. WATSONX_AUDIO_SECRET is generated
 * when unset (the user pastes it into the watsonx console). A URL token is
 * generated for a source with no check configured at all, and always for
 * Synthflow (its signature does not cover the body); the Volubile and
 * Synthflow signing secrets are created in those vendors' consoles, so they are
 * never generated. Generated values live in DATA_DIR/secrets.json (0600) and
 * are reused on the next start.
 */

type Env = Record<string, string | undefined>;

/** For each source: the variables that count as "a check is configured", and the token generated when none is. */
export const SOURCE_CHECKS = [
  { source: 'volubile', checks: ['VOLUBILE_WEBHOOK_SECRET', 'VOLUBILE_WEBHOOK_TOKEN'], token: 'VOLUBILE_WEBHOOK_TOKEN' },
  // Only the token counts for Synthflow: its signature covers call_id, not the body, so the token is always generated.
  { source: 'synthflow', checks: ['SYNTHFLOW_WEBHOOK_TOKEN'], token: 'SYNTHFLOW_WEBHOOK_TOKEN' },
  { source: 'engage-voice', checks: ['ENGAGE_VOICE_TOKEN', 'ENGAGE_VOICE_BASIC_AUTH'], token: 'ENGAGE_VOICE_TOKEN' },
] as const satisfies readonly { source: string; checks: readonly SecretName[]; token: SecretName }[];

export interface SecretDecision {
  /** Values local mode supplies (generated now or reused from secrets.json): set them into process.env. */
  apply: Secrets;
  /** Names in `apply` generated on this start (the rest were reused). */
  fresh: SecretName[];
  /** What secrets.json should hold afterwards. */
  persist: Secrets;
}

export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

function isSet(env: Env, name: string): boolean {
  const value = env[name];
  return value !== undefined && value.trim() !== '';
}

/** Pure: which secrets local mode must supply, given the environment and what an earlier start stored. */
export function decideSecrets(env: Env, stored: Secrets, generate: () => string = generateSecret): SecretDecision {
  const apply: Secrets = {};
  const fresh: SecretName[] = [];
  const persist: Secrets = { ...stored };
  const supply = (name: SecretName) => {
    const previous = stored[name];
    if (previous !== undefined) {
      apply[name] = previous;
    } else {
      const value = generate();
      apply[name] = value;
      persist[name] = value;
      fresh.push(name);
    }
  };
  if (!isSet(env, 'WATSONX_AUDIO_SECRET')) supply('WATSONX_AUDIO_SECRET');
  for (const { checks, token } of SOURCE_CHECKS) {
    if (!checks.some((name) => isSet(env, name))) supply(token);
  }
  return { apply, fresh, persist };
}

const StoredSecretsSchema = v.record(v.string(), v.unknown());

export function secretsFile(dataDir: string): string {
  return join(dataDir, 'secrets.json');
}

/** Secrets an earlier start generated; an unreadable file is an error the user must look at, not silently replaced. */
export function readStoredSecrets(dataDir: string): Secrets {
  const file = secretsFile(dataDir);
  if (!existsSync(file)) return {};
  const parsed = v.safeParse(StoredSecretsSchema, JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not a JSON object of secrets; fix or delete it`);
  return pickSecrets(parsed.output);
}

export function writeStoredSecrets(dataDir: string, secrets: Secrets): void {
  const file = secretsFile(dataDir);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}
