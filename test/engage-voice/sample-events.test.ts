import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as v from 'valibot';
import { resetConfiguration } from '#shared/handler';
import { setLogSink } from '#shared/log';
import { SECRET_NAMES } from '#shared/config';
import { handler } from '../../functions/engage-voice/handler.ts';
import { interpretEngage } from '../../functions/engage-voice/interpret.ts';
import { bodyOf, fixture } from './support.ts';

/**
 * The generated API Gateway events in events/ (what `sam local invoke` and the
 * invoke command replay) must be accepted by this handler with the sample
 * secrets of events/env.json. They all carry the fixtures' uii, which other
 * test files may store too, so only responses are asserted here.
 */
const EVENTS = new URL('../../events/', import.meta.url);
const EnvFile = v.object({ Parameters: v.record(v.string(), v.string()) });
const EventShape = v.looseObject({ rawPath: v.literal('/engage-voice'), requestContext: v.looseObject({ http: v.looseObject({ method: v.string() }) }) });

function loadEvent(name: string): APIGatewayProxyEventV2 {
  const parsed: unknown = JSON.parse(readFileSync(new URL(`${name}.json`, EVENTS), 'utf8'));
  v.parse(EventShape, parsed);
  return parsed as APIGatewayProxyEventV2; // our own generated file, shape checked above
}

let previousSink: ((line: string) => void) | undefined;
beforeAll(() => {
  const env = v.parse(EnvFile, JSON.parse(readFileSync(new URL('env.json', EVENTS), 'utf8'))).Parameters;
  for (const name of SECRET_NAMES) delete process.env[name];
  for (const name of ['ENGAGE_VOICE_TOKEN', 'ENGAGE_VOICE_BASIC_AUTH', 'ENGAGE_VOICE_TIMEZONE', 'DEFAULT_PHONE_REGION']) {
    if (env[name] !== undefined) process.env[name] = env[name];
  }
  resetConfiguration();
  previousSink = setLogSink(() => {});
});
afterAll(() => {
  if (previousSink) setLogSink(previousSink);
  resetConfiguration();
});

const ctx = { engageTimeZone: 'America/New_York', defaultPhoneRegion: 'US', receivedAt: new Date() };
const segmentOf = (name: string) => interpretEngage(Buffer.from(JSON.stringify(fixture(name))), 'application/json', ctx).sk.slice(4);

describe('generated sample events', () => {
  it.each([
    ['engage-voice-json', 'agent-termination'],
    ['engage-voice-form', 'agent-termination-form'],
    ['engage-voice-get', 'agent-termination-get'],
    ['engage-voice-transfer', 'agent-termination-transfer'],
  ])('%s is accepted and lands on the call and segment of %s', async (eventName, fixtureName) => {
    const res = await handler(loadEvent(eventName));
    expect(res.statusCode, res.body).toBe(200);
    const body = bodyOf(res);
    expect(['stored', 'duplicate', 'stale']).toContain(body.outcome);
    expect(body.callId).toBe(fixture(fixtureName).uii);
    expect(body.segment).toBe(segmentOf(fixtureName));
  });

  it('the same events without their credentials are refused', async () => {
    const event = loadEvent('engage-voice-json');
    const { authorization: _dropped, ...headers } = event.headers;
    const res = await handler({ ...event, headers });
    expect(res.statusCode).toBe(401);
  });
});
