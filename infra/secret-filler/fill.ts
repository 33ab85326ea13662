import { randomBytes } from 'node:crypto';
import { SECRET_NAMES, type SecretName } from '#shared/config';

/**
 * The webhook secret holds one JSON object whose keys are exactly SECRET_NAMES.
 * CloudFormation's generateSecretString can generate only one key, so a small
 * custom resource (./handler.ts) runs this on create and update:
 *
 * - values we can generate (the watsonx JWT secret and every URL token) are
 *   filled with 32 random bytes when missing or empty;
 * - values only the vendor's console can produce (Volubile and Synthflow
 *   signing secrets, the Synthflow API key) and the Engage Voice Basic
 *   credentials (webhook and recordings) are present as empty strings for the
 *   user to fill in;
 * - a value that is already set is never overwritten, so a user's edit or a
 *   rotation survives every later deploy;
 * - unknown keys are kept (harmless, and never destroyed by us).
 */
export const GENERATED: readonly SecretName[] = [
  'WATSONX_AUDIO_SECRET',
  'VOLUBILE_WEBHOOK_TOKEN',
  'SYNTHFLOW_WEBHOOK_TOKEN',
  'ENGAGE_VOICE_TOKEN',
];

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export interface FillResult {
  value: Record<string, unknown>;
  /** Keys we added (never values): safe to log. */
  added: string[];
}

export function fillSecret(current: Record<string, unknown>, random: () => string = randomToken): FillResult {
  const value: Record<string, unknown> = { ...current };
  const added: string[] = [];
  for (const name of SECRET_NAMES) {
    const v = value[name];
    const empty = typeof v !== 'string' || v.trim() === '';
    if (!empty) continue;
    if (GENERATED.includes(name)) {
      value[name] = random();
      added.push(name);
    } else if (typeof v !== 'string') {
      value[name] = '';
      added.push(name);
    }
  }
  return { value, added };
}

/** Parses a stored secret string; anything that is not a JSON object counts as empty. */
export function parseSecret(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return { ...parsed };
  } catch {
    // fall through: start over from an empty object
  }
  return {};
}
