import { HttpError } from '#shared/errors';

/** The typed HTTP error a synchronous call throws, as plain data; fails the test if it throws nothing or something untyped. */
export function rejection(fn: () => unknown): { status: number; code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpError) return { status: err.statusCode, code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a rejection');
}
