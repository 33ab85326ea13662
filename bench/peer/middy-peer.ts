import middy from '@middy/core';
import httpMultipartBodyParser from '@middy/http-multipart-body-parser';

/**
 * The peer: middy's multipart body parser (on @fastify/busboy), configured to
 * keep the audio bytes intact — `isPartAFile` makes the filename-less audio
 * part a file (busboy would otherwise UTF-8 decode it as a text field and cut
 * it at 1 MiB). Bundled by bench/hot.ts with `@middy/util` aliased to
 * ./middy-util-shim.ts (see there).
 */

export interface MiddyParsed {
  audio: Buffer | undefined;
  metadata: unknown;
}

const lambdaContext = {
  callbackWaitsForEmptyEventLoop: true, functionName: 'bench', functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench', memoryLimitInMB: '1024',
  awsRequestId: 'bench', logGroupName: 'bench', logStreamName: 'bench',
  getRemainingTimeInMillis: () => 30_000, done: () => {}, fail: () => {}, succeed: () => {},
};

function field(v: unknown, name: string): unknown {
  return typeof v === 'object' && v !== null ? Reflect.get(v, name) : undefined;
}

export function createMiddyPeer(): (event: object) => Promise<MiddyParsed> {
  // middy's option type omits @fastify/busboy's isPartAFile, which it passes through.
  const busboy = { isPartAFile: (name: string) => name === 'audio_recording', limits: {} };
  const h = middy<unknown, unknown>()
    .use(httpMultipartBodyParser({ busboy, disableContentTypeError: false }))
    .handler(async (event: unknown) => field(event, 'body'));
  return async (event) => {
    // middy replaces event.body with the parsed parts: hand it a fresh shallow copy.
    const parsed: unknown = await Reflect.apply(h, undefined, [{ ...event }, lambdaContext]);
    const audio = field(field(parsed, 'audio_recording'), 'content');
    return { audio: Buffer.isBuffer(audio) ? audio : undefined, metadata: field(parsed, 'metadata') };
  };
}
