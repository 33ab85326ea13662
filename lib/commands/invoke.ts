import '../quiet-sdk.ts';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import * as v from 'valibot';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { isFunctionName, FUNCTION_NAMES, type FunctionName } from '../api-gateway.ts';
import { createLambdaContext } from '../lambda-context.ts';
import { loadHandler } from '../handlers.ts';
import { readLocalConfig } from '../local-config.ts';
import { startEmbeddedStorage, sdkEnvironment, ensureBucketAndTable } from '../embedded.ts';
import { EVENTS_DIR } from '../samples.ts';
import { readInputFile } from '../invoke/input-file.ts';
import { oneLine, safeJson } from '../text.ts';

/**
 * `npm run invoke -- <function> <event-file>`: what `sam local invoke` does,
 * without Docker. Environment from events/env.json's Parameters (a variable
 * already set in the shell wins), storage on the embedded servers: those of a
 * running `npm start` when its ports answer, else fresh ones on the same
 * DATA_DIR. Prints the handler's result as JSON; exits 0 whenever the handler
 * returned, whatever the status.
 */

/** Lambda takes at most 6 MB of event in a synchronous invoke: a larger event file could never be delivered. */
export const MAX_EVENT_BYTES = 6 * 1024 * 1024;
const MAX_ENV_BYTES = 1024 * 1024;

/** JSON of a file, with a parse error that names the file and echoes nothing raw from it. */
function readJson(file: string, maxBytes: number): unknown {
  const text = readInputFile(file, maxBytes).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${oneLine(file)} is not JSON: ${oneLine(err instanceof Error ? err.message : String(err))}`);
  }
}

const EnvFile = v.object({ Parameters: v.record(v.string(), v.union([v.string(), v.number(), v.boolean()])) });

/** Parameters of a SAM --env-vars file, as strings. */
export function readEnvFile(file: string): Record<string, string> {
  const parsed = v.parse(EnvFile, readJson(file, MAX_ENV_BYTES));
  return Object.fromEntries(Object.entries(parsed.Parameters).map(([k, val]) => [k, String(val)]));
}

const StringMap = v.record(v.string(), v.string());

/** An API Gateway HTTP API payload 2.0 event, every field the type declares (authorizer fields are dropped). */
export const EventSchema = v.object({
  version: v.literal('2.0'),
  routeKey: v.string(),
  rawPath: v.string(),
  rawQueryString: v.string(),
  cookies: v.optional(v.array(v.string())),
  headers: StringMap,
  queryStringParameters: v.optional(StringMap),
  pathParameters: v.optional(StringMap),
  stageVariables: v.optional(StringMap),
  requestContext: v.object({
    accountId: v.string(),
    apiId: v.string(),
    domainName: v.string(),
    domainPrefix: v.string(),
    http: v.object({ method: v.string(), path: v.string(), protocol: v.string(), sourceIp: v.string(), userAgent: v.string() }),
    requestId: v.string(),
    routeKey: v.string(),
    stage: v.string(),
    time: v.string(),
    timeEpoch: v.number(),
  }),
  body: v.optional(v.string()),
  isBase64Encoded: v.boolean(),
});

export function readEvent(file: string): APIGatewayProxyEventV2 {
  const parsed = v.safeParse(EventSchema, readJson(file, MAX_EVENT_BYTES));
  if (!parsed.success) {
    throw new Error(`${oneLine(file)} is not an API Gateway HTTP API payload 2.0 event: ${oneLine(v.summarize(parsed.issues).split('\n')[0] ?? '')}`);
  }
  return parsed.output;
}

/** Run one handler on one event in this process, with a Lambda-like context. */
export async function invokeHandler(name: FunctionName, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const handler = await loadHandler(name);
  return handler(event, createLambdaContext({ functionName: name, awsRequestId: event.requestContext.requestId }));
}

function portAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const USAGE = `usage: npm run invoke -- <${FUNCTION_NAMES.join('|')}> <event-file>
  e.g. npm run invoke -- call-completed events/volubile-call-completed.json`;

async function run(argv: readonly string[]): Promise<number> {
  const [fn, eventFile] = argv;
  if (fn === undefined || eventFile === undefined || !isFunctionName(fn)) {
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  const envFile = process.env.ENV_FILE ?? join(EVENTS_DIR, 'env.json');
  if (existsSync(envFile)) {
    for (const [k, val] of Object.entries(readEnvFile(envFile))) process.env[k] ??= val;
  }
  const event = readEvent(eventFile);
  const cfg = readLocalConfig(process.env);
  process.env.BUCKET_NAME ??= cfg.bucketName;
  process.env.TABLE_NAME ??= cfg.tableName;

  const running = (await portAnswers(cfg.host, cfg.s3Port)) && (await portAnswers(cfg.host, cfg.dynamoPort));
  const endpoints = running
    ? { s3Endpoint: `http://${cfg.host}:${cfg.s3Port}`, dynamoEndpoint: `http://${cfg.host}:${cfg.dynamoPort}` }
    : await startEmbeddedStorage({ dataDir: cfg.dataDir, host: cfg.host });
  process.stderr.write(running
    ? `using the storage of the running npm start (${endpoints.s3Endpoint}, ${endpoints.dynamoEndpoint})\n`
    : `started embedded storage on ${cfg.dataDir}\n`);
  Object.assign(process.env, sdkEnvironment(endpoints));
  try {
    await ensureBucketAndTable(endpoints, process.env.BUCKET_NAME, process.env.TABLE_NAME);
    const result = await invokeHandler(fn, event);
    process.stdout.write(safeJson(result, 2) + '\n');
    return 0;
  } finally {
    if ('stop' in endpoints) await endpoints.stop();
  }
}

/** `npm run invoke` (scripts/invoke.ts): the exit code; a failure is one line on stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    process.stderr.write(`invoke failed: ${oneLine(err instanceof Error ? err.message : String(err))}\n`);
    return 1;
  }
}
