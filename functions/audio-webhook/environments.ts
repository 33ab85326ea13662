import { HttpError, Unauthorized } from '#shared/errors';
import { previousName, type Secrets } from '#shared/config';

/**
 * watsonx Assistant has a Draft and a Live environment, each with its own audio
 * webhook settings and its own secret. Both may point at this one endpoint:
 * WATSONX_AUDIO_SECRET is the draft (or only) environment's secret,
 * WATSONX_AUDIO_SECRET_LIVE the live one's; during a rotation each also has a
 * `_PREVIOUS` value. WATSONX_DRAFT_ENVIRONMENT_ID / WATSONX_LIVE_ENVIRONMENT_ID
 * bind a secret to one environment_id.
 *
 * Verify first, then parse: the JWT is verified against every candidate secret
 * before anything in the body is used, and the matches are remembered; the
 * binding is enforced once the metadata (and its environment_id) is parsed.
 * The JWT library is only behind `verify`, so this logic survives a swap.
 */

export type WatsonxEnvironment = 'draft' | 'live';

export interface WatsonxKey {
  environment: WatsonxEnvironment;
  /** The secret's name (without `_PREVIOUS`): for logs and the rotation metric, never the value. */
  name: 'WATSONX_AUDIO_SECRET' | 'WATSONX_AUDIO_SECRET_LIVE';
  previous: boolean;
  secret: string;
  /** When set, this key verifies only recordings whose metadata has this environment_id. */
  environmentId?: string;
}

const ENVIRONMENTS = [
  { environment: 'draft', name: 'WATSONX_AUDIO_SECRET', binding: 'WATSONX_DRAFT_ENVIRONMENT_ID' },
  { environment: 'live', name: 'WATSONX_AUDIO_SECRET_LIVE', binding: 'WATSONX_LIVE_ENVIRONMENT_ID' },
] as const;

export const WATSONX_AUTH_VARIABLES = ENVIRONMENTS.map((e) => e.name);

/** Every secret a JWT may verify with: each configured environment's current value, then its previous one. */
export function watsonxKeys(secrets: Secrets): WatsonxKey[] {
  const keys: WatsonxKey[] = [];
  for (const { environment, name, binding } of ENVIRONMENTS) {
    const current = secrets[name];
    if (current === undefined) continue;
    const environmentId = secrets[binding]?.trim() || undefined;
    keys.push({ environment, name, previous: false, secret: current, environmentId });
    const previous = secrets[previousName(name)];
    if (previous !== undefined) keys.push({ environment, name, previous: true, secret: previous, environmentId });
  }
  return keys;
}

/**
 * Verifies with every key (all of them, so the time taken does not tell which
 * matched) and resolves to the keys the JWT verified with. None → the most
 * telling 401: a claim failure (expired, not yet valid) means the signature did
 * match a key, so it wins over "signature does not match".
 */
export async function verifyWithAny(keys: readonly WatsonxKey[], verify: (secret: string) => Promise<void>): Promise<WatsonxKey[]> {
  const outcomes = await Promise.allSettled(keys.map((key) => verify(key.secret)));
  const matched = keys.filter((_, i) => outcomes[i]?.status === 'fulfilled');
  if (matched.length > 0) return matched;
  const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
  const telling = errors.find((e) => e instanceof HttpError && e.code !== 'invalid_signature') ?? errors[0];
  throw telling instanceof Error ? telling : new Unauthorized('the JWT signature does not match the configured secret', 'invalid_signature');
}

/**
 * After the metadata is parsed: the matched key allowed for this recording's
 * environment_id (a current value before a previous one), or a 401 when every
 * key the JWT verified with is bound to another environment.
 */
export function keyForEnvironment(matched: readonly WatsonxKey[], environmentId: string | undefined): WatsonxKey {
  const allowed = matched.filter((k) => k.environmentId === undefined || k.environmentId === environmentId);
  const key = allowed.find((k) => !k.previous) ?? allowed[0];
  if (key) return key;
  const bound = [...new Set(matched.map((k) => ENVIRONMENTS.find((e) => e.name === k.name)?.binding))].join(', ');
  throw new Unauthorized(
    `the JWT is signed with a secret bound to another watsonx environment (${bound}): metadata.environment_id must be that environment's id, or each environment must sign with its own secret`,
    'environment_mismatch',
  );
}
