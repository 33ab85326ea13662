/**
 * Stand-in for `@middy/util`, which @middy/http-multipart-body-parser 6.4.5
 * imports but does not declare as a dependency (so `npm ci` does not install
 * it). The parser calls only `createError`, and only on its error paths; the
 * parsing the benchmark times is middy's own code, unchanged.
 */
export class HttpError extends Error {
  constructor(readonly statusCode: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function createError(statusCode: number, message: string, options?: { cause?: unknown }): HttpError {
  return new HttpError(statusCode, message, options);
}
