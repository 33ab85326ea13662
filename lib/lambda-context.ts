import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/**
 * A Lambda-like invocation context for running a handler outside Lambda
 * (local server, invoke tool): the fields Lambda's Node.js runtime provides,
 * with a deadline so getRemainingTimeInMillis() counts down like the real one.
 */
export interface LambdaContextOptions {
  functionName: string;
  timeoutMs?: number;
  memoryLimitInMB?: number;
  awsRequestId?: string;
  region?: string;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export function createLambdaContext(opts: LambdaContextOptions): Context {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const functionName = `voice-webhooks-${opts.functionName}`;
  const awsRequestId = opts.awsRequestId ?? randomUUID();
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const unsupported = () => {
    throw new Error('callback-style completion is not supported: return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:123456789012:function:${functionName}`,
    memoryLimitInMB: String(opts.memoryLimitInMB ?? 256),
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${awsRequestId.replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
