import { normalizePhone } from './phone.ts';
import { parseJsonObject } from './json.ts';
import { hmacSha256, safeEqual } from './auth.ts';

/**
 * Init-time warm-up: first-use work (SDK request pipelines, ICU time-zone
 * data, phone metadata, crypto keys) done while the execution environment
 * initializes, so the first caller waits no longer than the next one
 * (docs/benchmarks.md, "First invocation after a cold start"). Every step
 * is pure or sends nothing, except the one DynamoDB read the deployed
 * configuration makes (storage.ts `warm`), and none can fail the init.
 */

/**
 * Send options that let the SDK build, serialize and sign a request and then
 * stop before the network: its signal is aborted already, which the HTTP
 * handler checks first. Nothing reaches S3, DynamoDB or SQS.
 */
export function unsent(): { abortSignal: AbortSignal } {
  return { abortSignal: AbortSignal.abort() };
}

/** A fictional number (NANP 555-01xx is reserved for fiction): parsed once so the phone metadata is loaded. */
const FICTIONAL_NUMBER = '+1 415 555 0100';

/** The shared parsers every source's interpreter uses, and the HMAC and constant-time compare every credential check uses. */
export function warmParsers(defaultPhoneRegion: string): void {
  normalizePhone(FICTIONAL_NUMBER, defaultPhoneRegion);
  parseJsonObject(new TextEncoder().encode('{"warm":[1,"up"]}'));
  safeEqual(hmacSha256('warm-up', 'warm-up').toString('hex'), 'warm-up');
}

/** Runs each step, sequentially, ignoring failures: a step that fails leaves its work to the first request. */
export async function warmUp(steps: readonly (() => unknown)[]): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch {
      // Best effort by design: the request path does the same work and reports its own errors.
    }
  }
}
