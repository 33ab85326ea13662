/**
 * Typed HTTP errors, thrown where the problem is found and mapped to a response
 * once (see handler.ts). Anything below 500 shows its message to the sender;
 * anything else becomes a generic body.
 */

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    /** Short machine-readable code, e.g. `invalid_signature`. */
    readonly code: string,
    message: string,
    /** Extra response headers (e.g. `allow` for 405). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequest extends HttpError {
  constructor(message: string, code = 'bad_request') { super(400, code, message); }
}

export class Unauthorized extends HttpError {
  constructor(message: string, code = 'unauthorized') { super(401, code, message); }
}

export class NotFound extends HttpError {
  constructor(message: string, code = 'not_found') { super(404, code, message); }
}

export class MethodNotAllowed extends HttpError {
  constructor(allowed: readonly string[]) {
    super(405, 'method_not_allowed', `use ${allowed.join(' or ')}`, { allow: allowed.join(', ') });
  }
}

export class PayloadTooLarge extends HttpError {
  constructor(message: string) { super(413, 'payload_too_large', message); }
}

export class UnsupportedMediaType extends HttpError {
  constructor(message: string) { super(415, 'unsupported_media_type', message); }
}

/** Storage could not be reached in time: the sender may retry. */
export class ServiceUnavailable extends HttpError {
  constructor(message = 'storage is unavailable, retry later', cause?: unknown) {
    super(503, 'service_unavailable', message, { 'retry-after': '5' });
    if (cause !== undefined) this.cause = cause;
  }
}

export function isHttpError(err: unknown): err is HttpError {
  return err instanceof HttpError;
}
