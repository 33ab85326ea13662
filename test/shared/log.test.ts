import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as LogModule from '#shared/log';
import type * as HandlerModule from '../../functions/call-completed/handler.ts';
import { toApiGatewayEvent } from '../../lib/api-gateway.ts';
import { SERVICE_DIMENSIONS } from '../../infra/observability.ts';

/**
 * Logs and metrics go through Powertools (functions/shared/log.ts). Each case
 * loads the modules afresh with its own environment, as a new execution
 * environment would, and reads the lines the sink received.
 */

type Line = Record<string, unknown>;

async function fresh(env: Record<string, string | undefined>): Promise<{ log: typeof LogModule; lines: Line[] }> {
  vi.resetModules();
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  const log = await import('#shared/log');
  const lines: Line[] = [];
  log.setLogSink((l) => { lines.push(JSON.parse(l) as Line); });
  return { log, lines };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('log level', () => {
  it('is INFO by default: debug lines are dropped, info and above kept', async () => {
    const { log, lines } = await fresh({ POWERTOOLS_LOG_LEVEL: undefined, AWS_LAMBDA_LOG_LEVEL: undefined });
    log.logger.debug('d');
    log.logger.info('i');
    log.logger.error('e');
    expect(lines.map((l) => [l.level, l.message])).toEqual([['INFO', 'i'], ['ERROR', 'e']]);
  });

  it('comes from POWERTOOLS_LOG_LEVEL', async () => {
    const { log, lines } = await fresh({ POWERTOOLS_LOG_LEVEL: 'WARN', AWS_LAMBDA_LOG_LEVEL: undefined });
    log.logger.info('i');
    log.logger.warn('w');
    expect(lines.map((l) => l.message)).toEqual(['w']);
  });

  it("Lambda's advanced logging controls (AWS_LAMBDA_LOG_LEVEL) win over POWERTOOLS_LOG_LEVEL", async () => {
    const { log, lines } = await fresh({ POWERTOOLS_LOG_LEVEL: 'ERROR', AWS_LAMBDA_LOG_LEVEL: 'DEBUG' });
    log.logger.debug('d');
    // Powertools warns once that the two disagree; the debug line is printed.
    expect(lines.map((l) => l.message)).toContain('d');
  });
});

describe('redaction layer', () => {
  it('masks credential and number fields and shapes, keeps counts and names of secrets', async () => {
    const { log, lines } = await fresh({});
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXZhbHVl';
    log.logger.child({ token: 'tok-9f2c1a7e', customerNumber: '4155550123' }).warn('odd', {
      note: `Bearer abcdefgh12345678 and ${jwt} from +1 415 555 0123`,
      authorization: 'Basic cmluZ2N4OnB3',
      acceptedOnPrevious: 'VOLUBILE_WEBHOOK_SECRET',
      status: 401,
    });
    const text = JSON.stringify(lines);
    for (const needle of ['tok-9f2c1a7e', '4155550123', 'abcdefgh12345678', jwt, 'eyJzdWIiOiJ4In0', '415 555 0123', 'cmluZ2N4OnB3']) expect(text).not.toContain(needle);
    expect(lines[0]).toMatchObject({ token: log.REDACTED, customerNumber: log.REDACTED, authorization: log.REDACTED, acceptedOnPrevious: 'VOLUBILE_WEBHOOK_SECRET', status: 401 });
  });

  it('leaves timestamps, S3 keys and 30-digit Engage Voice call ids alone', async () => {
    const { log } = await fresh({});
    const kept = { at: '2026-12-02T01:28:25.000+02:00', rawS3Key: 'raw/engage-voice/2026/12/02/abc.json', callId: '123456789012345678901234567890' };
    for (const [k, v] of Object.entries(kept)) expect(log.redact(k, v)).toBe(v);
  });
});

describe('metrics', () => {
  it('one EMF record per metric, its own dimensions, in the VoiceWebhooks namespace, with the logger keys as metadata', async () => {
    const { log, lines } = await fresh({});
    log.logger.child({ correlation_id: 'req-1', source: 'volubile' }).metric('Rejected', { Source: 'volubile', Reason: 'invalid_signature' });
    log.metric('RecordingBytes', { Source: 'synthflow' }, 1234, log.MetricUnit.Bytes);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'VoiceWebhooks', Dimensions: [['service', 'Source', 'Reason']], Metrics: [{ Name: 'Rejected', Unit: 'Count' }] }] },
      service: 'voice-webhooks', Source: 'volubile', Reason: 'invalid_signature', Rejected: 1, correlation_id: 'req-1',
    });
    expect(lines[1]).toMatchObject({ _aws: { CloudWatchMetrics: [{ Dimensions: [['service', 'Source']], Metrics: [{ Name: 'RecordingBytes', Unit: 'Bytes' }] }] }, RecordingBytes: 1234 });
    expect(lines[1]).not.toHaveProperty('Reason');
    expect(lines[1]).not.toHaveProperty('correlation_id');
  });
});

describe('a webhook function', () => {
  async function handler(): Promise<{ run: typeof HandlerModule.handler; lines: Line[] }> {
    const { lines } = await fresh({
      BUCKET_NAME: 'b', TABLE_NAME: 't', SECRET_ARN: undefined, AWS_LAMBDA_FUNCTION_NAME: 'VoiceWebhooks-dev-CallCompletedFunction',
      VOLUBILE_WEBHOOK_SECRET: 'log-test-volubile-secret-4d1e', VOLUBILE_WEBHOOK_TOKEN: undefined,
    });
    const mod = await import('../../functions/call-completed/handler.ts');
    return { run: mod.handler, lines };
  }
  // A wrong method is refused before any storage call: the lines are the handler's alone.
  const event = (requestId: string) => toApiGatewayEvent({ method: 'DELETE', target: '/call-completed/volubile', headers: [], body: Buffer.alloc(0), requestId });

  it('logs with correlation id = API Gateway request id, the Lambda request id, and cold_start only on the first invocation', async () => {
    const { run, lines } = await handler();
    expect((await run(event('req-A'), { awsRequestId: 'lambda-1', functionName: 'f' })).statusCode).toBe(405);
    expect((await run(event('req-B'), { awsRequestId: 'lambda-2', functionName: 'f' })).statusCode).toBe(405);
    const logs = lines.filter((l) => l.message === 'delivery rejected');
    expect(logs.map((l) => [l.correlation_id, l.function_request_id, l.cold_start, l.service, l.level])).toEqual([
      ['req-A', 'lambda-1', true, 'voice-webhooks', 'WARN'],
      ['req-B', 'lambda-2', false, 'voice-webhooks', 'WARN'],
    ]);
  });

  it('emits one ColdStart metric per execution environment, dimensioned by function name', async () => {
    const { run, lines } = await handler();
    await run(event('req-A'), { awsRequestId: 'lambda-1' });
    await run(event('req-B'), { awsRequestId: 'lambda-2' });
    const cold = lines.filter((l) => 'ColdStart' in l);
    expect(cold).toHaveLength(1);
    expect(cold[0]).toMatchObject({ function_name: 'VoiceWebhooks-dev-CallCompletedFunction', ColdStart: 1, _aws: { CloudWatchMetrics: [{ Dimensions: [['service', 'function_name']] }] } });
    expect(lines.filter((l) => 'Rejected' in l).map((l) => [l.Source, l.Reason, l.correlation_id])).toEqual([
      ['volubile', 'method_not_allowed', 'req-A'], ['volubile', 'method_not_allowed', 'req-B'],
    ]);
  });

  it('counts a 401 service-wide (what the AuthFailures alarm reads) and per source, and a rejection by reason', async () => {
    const { run, lines } = await handler();
    const unsigned = toApiGatewayEvent({ method: 'POST', target: '/call-completed/volubile', headers: [['content-type', 'application/json']], body: Buffer.from('{"id":"c1"}'), requestId: 'req-401' });
    expect((await run(unsigned, { awsRequestId: 'lambda-1' })).statusCode).toBe(401);
    const dims = (name: string) => lines.filter((l) => name in l).map((l) => (l._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]?.Dimensions);
    expect(dims('AuthFailed')).toEqual([[['service', 'Source'], [Object.keys(SERVICE_DIMENSIONS)[0]]]]);
    expect(dims('Rejected')).toEqual([[['service', 'Source', 'Reason'], ['service']]]);
    expect(lines.find((l) => 'AuthFailed' in l)).toMatchObject({ ...SERVICE_DIMENSIONS, Source: 'volubile', AuthFailed: 1 });
  });
});
