import { randomBytes } from 'node:crypto';
import { CREDENTIAL_NAMES, previousName, type CredentialName } from '#shared/config';
import { sourceEntries, type CredentialRole } from '#shared/sources';

/**
 * Rotating one secret or token without refusing a delivery: the new value
 * becomes current and the old one moves to `<NAME>_PREVIOUS`, so the handlers
 * accept both while the vendor console is edited; `--finish` drops the previous
 * value. Pure functions of the secret's key/value object: local mode applies
 * them to DATA_DIR/secrets.json, `--stack` to the Secrets Manager secret.
 */

export interface RotationTarget {
  /** The `rotate` argument that selects it (with --name when a source has several). */
  source: string;
  name: CredentialName;
  /** How the credential is presented (the registry's role): HTTP Basic values are `user:password`. */
  role: CredentialRole;
  /** True when we make the new value; false when only the vendor's console can (then --value is required). */
  generated: boolean;
  /** What the user does in the vendor's console with the new value. */
  paste: string;
  /** Route of the endpoint, for a token that goes into the URL. */
  urlPath?: string;
  /** Stack output holding that endpoint's URL. */
  urlOutput?: string;
}

/** Every credential of every source in the registry (functions/shared/sources.ts). */
export const ROTATION_TARGETS: readonly RotationTarget[] = sourceEntries().flatMap(([source, d]) => d.credentials.map((c) => ({
  source: c.rotateAs ?? source,
  name: c.name as CredentialName,
  role: c.role,
  // A signing secret is made in the vendor's console; everything else we can make anew.
  generated: c.role !== 'signing-secret',
  paste: c.rotate,
  ...(c.role === 'url-token' ? { urlPath: d.path, urlOutput: d.output } : {}),
})));

export const ROTATION_SOURCES = [...new Set(ROTATION_TARGETS.map((t) => t.source))];

export class RotationError extends Error {
  override name = 'RotationError';
}

type Values = Record<string, unknown>;

function valueOf(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

/**
 * The target named by `<source>` (or a variable name) and `--name`. A source
 * with several credentials needs --name unless exactly one of them is set.
 */
export function resolveTarget(arg: string, values: Values, name?: string): RotationTarget {
  const byName = ROTATION_TARGETS.find((t) => t.name === arg.toUpperCase());
  if (byName) return byName;
  const candidates = ROTATION_TARGETS.filter((t) => t.source === arg.toLowerCase());
  if (candidates.length === 0) {
    throw new RotationError(`unknown source "${arg}": use one of ${ROTATION_SOURCES.join(', ')} (or a name: ${CREDENTIAL_NAMES.join(', ')})`);
  }
  if (name !== undefined) {
    const chosen = candidates.find((t) => t.name === name.toUpperCase());
    if (!chosen) throw new RotationError(`${arg} has no credential ${name}: use --name ${candidates.map((t) => t.name).join(' or ')}`);
    return chosen;
  }
  if (candidates.length === 1) return candidates[0]!;
  const set = candidates.filter((t) => valueOf(values, t.name) !== undefined);
  if (set.length === 1) return set[0]!;
  throw new RotationError(`${arg} has ${set.length === 0 ? 'none' : 'several'} of ${candidates.map((t) => t.name).join(', ')} set: say which to rotate with --name <NAME>`);
}

export function generateValue(): string {
  return randomBytes(32).toString('base64url');
}

export interface Rotated {
  /** Keys to set (the new current value and the previous one). */
  set: Partial<Record<string, string>>;
  /** The new value, for the paste instructions. */
  value: string;
  /** Whether there was a current value to keep as previous. */
  hadCurrent: boolean;
}

/**
 * Starts a rotation: `value` (or a generated one) becomes current, the current
 * value becomes previous. Refused while a rotation of the same name is in
 * progress: the value still accepted as previous would be lost.
 */
export function startRotation(values: Values, target: RotationTarget, value?: string, generate: () => string = generateValue): Rotated {
  const current = valueOf(values, target.name);
  const previous = valueOf(values, previousName(target.name));
  if (previous !== undefined) {
    throw new RotationError(`a rotation of ${target.name} is in progress (${previousName(target.name)} is set): finish it first with --finish`);
  }
  const next = value ?? newValue(target, current, generate);
  if (next.trim() === '') throw new RotationError('--value is empty');
  if (target.role === 'basic' && next.indexOf(':') <= 0) {
    throw new RotationError(`${target.name} must be user:password`);
  }
  if (current !== undefined && next === current) throw new RotationError(`the new value of ${target.name} is the current one`);
  const set: Partial<Record<string, string>> = { [target.name]: next };
  if (current !== undefined) set[previousName(target.name)] = current;
  return { set, value: next, hadCurrent: current !== undefined };
}

function newValue(target: RotationTarget, current: string | undefined, generate: () => string): string {
  if (!target.generated) {
    throw new RotationError(`${target.name} is made in the vendor's console: give the new value with --value <secret>`);
  }
  if (target.role !== 'basic') return generate();
  // Same user, new password: the user name is not the secret part.
  const user = current?.slice(0, Math.max(current.indexOf(':'), 0));
  if (!user) throw new RotationError(`${target.name} is not set: give it with --value user:password`);
  return `${user}:${generate()}`;
}

/** Ends a rotation: the previous value is no longer accepted. */
export function finishRotation(values: Values, target: RotationTarget): { drop: string } {
  if (valueOf(values, previousName(target.name)) === undefined) {
    throw new RotationError(`no rotation of ${target.name} is in progress (${previousName(target.name)} is not set)`);
  }
  return { drop: previousName(target.name) };
}

/** Where the new value goes, in the vendor's console: the only place `rotate` prints a value. */
export function pasteInstructions(target: RotationTarget, value: string, endpointUrl: string | undefined): string {
  if (!target.generated) return `  ${target.paste}.`;
  if (target.urlPath !== undefined && endpointUrl !== undefined) {
    const url = new URL(endpointUrl);
    url.searchParams.set('token', value);
    return `  ${target.paste}\n    ${url.toString()}`;
  }
  if (target.role === 'basic') {
    const colon = value.indexOf(':');
    return `  ${target.paste}\n    user ${value.slice(0, colon)}\n    password ${value.slice(colon + 1)}`;
  }
  return `  ${target.paste}\n    ${value}`;
}
