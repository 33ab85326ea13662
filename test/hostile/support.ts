import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { resetConfiguration } from '#shared/handler';
import { SECRET_NAMES } from '#shared/config';
import { ensureBucketAndTable } from '../../lib/embedded.ts';
import { countAll } from '../support/storage.ts';
import { HOSTILE_SECRETS, type HttpInput } from '../fixtures/hostile/common.ts';

/**
 * A bucket and a table of this test file's own (other files write to the
 * shared ones concurrently), so "no write" can count everything in them.
 */
export async function ownStorage(label: string, secrets: Record<string, string> = HOSTILE_SECRETS): Promise<{ bucket: string; table: string }> {
  const suffix = randomUUID().slice(0, 8);
  const bucket = `${label}-${suffix}`;
  const table = `${label}-${suffix}`;
  await ensureBucketAndTable({ s3Endpoint: env('AWS_ENDPOINT_URL_S3'), dynamoEndpoint: env('AWS_ENDPOINT_URL_DYNAMODB') }, bucket, table);
  for (const name of SECRET_NAMES) delete process.env[name];
  delete process.env.SECRET_ARN;
  Object.assign(process.env, { BUCKET_NAME: bucket, TABLE_NAME: table, DEFAULT_PHONE_REGION: 'US', ENGAGE_VOICE_TIMEZONE: 'America/New_York' }, secrets);
  resetConfiguration();
  return { bucket, table };
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through vitest (test/support/global-storage.ts)`);
  return value;
}

export async function writes(bucket: string, table: string): Promise<number> {
  const { objects, items } = await countAll(bucket, table);
  return objects + items;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends one request to a local server; resolves on the answer even if the server stopped reading the body. */
export function send(baseUrl: string, input: HttpInput): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const body = input.body === undefined ? undefined : Buffer.from(input.body);
    const url = new URL(baseUrl);
    let answered = false;
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method: input.method ?? 'POST',
      path: input.target,
      headers: { ...input.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
    }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', (err) => { if (!answered) reject(err); });
    if (body) req.end(body);
    else req.end();
  });
}

/** `{ error, message }` with both non-empty strings, or a description of what is wrong. */
export function errorBody(body: string | undefined): { error: string; message: string } | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    return `body is not JSON: ${JSON.stringify((body ?? '').slice(0, 120))}`;
  }
  if (typeof parsed !== 'object' || parsed === null) return 'body is not a JSON object';
  const error = 'error' in parsed ? parsed.error : undefined;
  const message = 'message' in parsed ? parsed.message : undefined;
  if (typeof error !== 'string' || error === '') return 'no error code';
  if (typeof message !== 'string' || message.trim() === '') return 'no message';
  return { error, message };
}
