import { createHash, randomBytes } from 'node:crypto';

/**
 * The webhook secret holds one JSON object. Its CloudFormation template is
 * frozen (infra/secret.ts): a template change would make CloudFormation
 * generate a whole new value and wipe every key. Keys are therefore added by
 * a small custom resource (./handler.ts), which runs this on create and on
 * every update of its properties — and the properties carry the key list and
 * its hash, so adding or renaming a key re-runs it:
 *
 * - a generated key (the watsonx JWT secret, every URL token) missing or
 *   empty is filled with 32 random bytes;
 * - any other key (values only a vendor's console can produce, Basic
 *   credentials, previous values kept during a rotation) missing is added as
 *   an empty string for the user to fill in;
 * - a value that is set is never overwritten, so a user's edit or a rotation
 *   survives every later deploy; keys no longer listed are kept.
 */

export interface KeyList {
  /** Keys the filler generates when missing or empty. */
  generated: readonly string[];
  /** Keys created empty when missing. */
  empty: readonly string[];
}

/** Changes whenever a key is added, removed, renamed or changes kind. */
export function keyListHash(keys: KeyList): string {
  const canonical = JSON.stringify({ generated: [...keys.generated].sort(), empty: [...keys.empty].sort() });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export interface FillResult {
  value: Record<string, unknown>;
  /** Keys we added (never values): safe to log. */
  added: string[];
}

export function fillSecret(current: Record<string, unknown>, keys: KeyList, random: () => string = randomToken): FillResult {
  const value: Record<string, unknown> = { ...current };
  const added: string[] = [];
  for (const name of keys.generated) {
    const v = value[name];
    if (typeof v === 'string' && v.trim() !== '') continue;
    value[name] = random();
    added.push(name);
  }
  for (const name of keys.empty) {
    if (keys.generated.includes(name) || typeof value[name] === 'string') continue;
    value[name] = '';
    added.push(name);
  }
  return { value, added };
}

export class StoredSecretError extends Error {
  override name = 'StoredSecretError';
}

/**
 * Parses the stored secret string. Anything but a JSON object is refused: it
 * is a value someone wrote by hand, and overwriting it would destroy it.
 */
export function parseSecret(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new StoredSecretError('the stored webhook secret is not JSON; fix it by hand (a JSON object of keys and strings) and deploy again');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new StoredSecretError('the stored webhook secret is not a JSON object; fix it by hand and deploy again');
  }
  return { ...parsed };
}
