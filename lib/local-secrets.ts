import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as v from 'valibot';
import { pickSecrets, SECRET_NAMES, type SecretName, type Secrets } from '#shared/config';
import { sourceEntries } from '#shared/sources';

/**
 * Local mode's secrets, as each source's `generate` in the registry says
 * (functions/shared/sources.ts): the watsonx secret when unset (the user
 * pastes it into the watsonx console); a URL or Bearer token for a source with
 * no check configured at all, and always for Synthflow (its signature does not
 * cover the body). Signing secrets are made in the vendors' consoles, so they
 * are never generated.
 * Generated values live in DATA_DIR/secrets.json (0600) and
 * are reused on the next start; `npm run rotate` edits the same file, and a
 * running `npm start` re-reads it when it changes.
 */

type Env = Record<string, string | undefined>;

/**
 * For each source with a `generate` in the registry: the variables that count
 * as "a check is configured" (none: generated whenever unset), and the value generated when none is.
 */
export const SOURCE_CHECKS = sourceEntries().flatMap(([source, d]) => (d.generate
  ? [{ source, checks: (d.generate.unless ?? []) as readonly SecretName[], token: d.generate.name as SecretName, always: d.generate.unless === undefined }]
  : []));

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

/** A token generated only because its source had no check (`VOLUBILE_WEBHOOK_TOKEN`, or its `_PREVIOUS` during a rotation). */
function generatedTokenOf(name: string): (typeof SOURCE_CHECKS)[number] | undefined {
  return SOURCE_CHECKS.find(({ token, always }) => !always && (name === token || name === `${token}_PREVIOUS`));
}

/**
 * Pure: which secrets local mode must supply, given the environment and
 * DATA_DIR/secrets.json (values an earlier start generated, and values
 * `npm run rotate` wrote). The environment wins: a name it sets is never
 * supplied. A stored URL token is dropped once the environment configures
 * another check for its source, as it was only generated for lack of one.
 */
export function decideSecrets(env: Env, stored: Secrets, generate: () => string = generateSecret): SecretDecision {
  const apply: Secrets = {};
  const fresh: SecretName[] = [];
  const persist: Secrets = { ...stored };
  for (const name of SECRET_NAMES) {
    const value = stored[name];
    if (value === undefined || isSet(env, name)) continue;
    const source = generatedTokenOf(name);
    if (source && source.checks.some((check) => isSet(env, check))) continue;
    apply[name] = value;
  }
  const supply = (name: SecretName) => {
    if (apply[name] !== undefined) return;
    const value = generate();
    apply[name] = value;
    persist[name] = value;
    fresh.push(name);
  };
  const configured = (name: SecretName) => isSet(env, name) || apply[name] !== undefined;
  for (const { checks, token, always } of SOURCE_CHECKS) {
    if (always ? !isSet(env, token) : !checks.some(configured)) supply(token);
  }
  return { apply, fresh, persist };
}

/**
 * Sets local mode's secrets into `target` (process.env) and removes the ones an
 * earlier call set that are no longer supplied (a finished rotation's
 * `_PREVIOUS`). Returns the decision; the caller resets the handlers' cached
 * configuration so the next request reads the new values.
 */
export function applyLocalSecrets(target: Env, userEnv: Env, dataDir: string, applied: Set<string>): SecretDecision {
  const decision = decideSecrets(userEnv, readStoredSecrets(dataDir));
  if (decision.fresh.length > 0) writeStoredSecrets(dataDir, decision.persist);
  for (const name of applied) {
    if (!(name in decision.apply) && !isSet(userEnv, name)) delete target[name];
  }
  applied.clear();
  for (const [name, value] of Object.entries(decision.apply)) {
    target[name] = value;
    applied.add(name);
  }
  return decision;
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
  // Written aside and renamed: a running npm start re-reads the file and must never see half of it.
  const aside = `${file}.${process.pid}.tmp`;
  writeFileSync(aside, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  chmodSync(aside, 0o600);
  renameSync(aside, file);
}

/**
 * Re-applies DATA_DIR/secrets.json whenever it changes (polled every
 * `intervalMs`; `npm run rotate` writes it), then calls `changed` so the
 * handlers drop their cached configuration. A file that does not parse keeps
 * the secrets in force. Returns a function that stops watching.
 */
export function watchLocalSecrets(
  target: Env, userEnv: Env, dataDir: string, applied: Set<string>,
  changed: (error?: unknown) => void, intervalMs = 1000,
): () => void {
  const file = secretsFile(dataDir);
  const listener = () => {
    try {
      applyLocalSecrets(target, userEnv, dataDir, applied);
      changed();
    } catch (err) {
      changed(err);
    }
  };
  watchFile(file, { interval: intervalMs }, listener);
  return () => unwatchFile(file, listener);
}
