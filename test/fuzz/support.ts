import { expect } from 'vitest';
import fc from 'fast-check';
import { HttpError } from '#shared/errors';

/**
 * Fuzzing helpers. Every parser, verifier and normalizer either returns or
 * throws an HttpError with a 4xx status and a message; anything else (a
 * TypeError, a RangeError, a 5xx) fails the property.
 *
 * numRuns are fixed per property (RUNS) and written into
 * docs/reliability-input.md; FUZZ_RUNS_SCALE=10 multiplies them for a longer hunt.
 */

const scale = Number(process.env.FUZZ_RUNS_SCALE ?? 1) || 1;

export const RUNS = {
  /** Cheap pure functions. */
  pure: Math.round(1000 * scale),
  /** Parsers that allocate or stream (multipart, JWT verification). */
  parser: Math.round(300 * scale),
  /** Full handler invocations on the embedded storage. */
  handler: Math.round(150 * scale),
};

export type Outcome<T> = { ok: true; value: T } | { ok: false; status: number; code: string };

/** Runs fn; a typed 4xx becomes an outcome, anything else is rethrown (and fails the property). */
export function typed<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    return rejection(err);
  }
}

export async function typedAsync<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return rejection(err);
  }
}

function rejection(err: unknown): { ok: false; status: number; code: string } {
  if (!(err instanceof HttpError)) throw err;
  expect(err.statusCode).toBeGreaterThanOrEqual(400);
  expect(err.statusCode).toBeLessThan(500);
  expect(err.message.length).toBeGreaterThan(0);
  return { ok: false, status: err.statusCode, code: err.code };
}

/** Strings that look like what senders send, plus arbitrary unicode and bytes-as-latin1. */
export const anyText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
);

export const anyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)),
  anyText.map((s) => Buffer.from(s, 'utf8')),
  fc.jsonValue({ maxDepth: 5 }).map((j) => Buffer.from(JSON.stringify(j) ?? 'null')),
);
