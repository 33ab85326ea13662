import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { CredentialName, Secrets } from '#shared/config';
import { sourceEntries } from '#shared/sources';
import { eventFromRequest } from './event.ts';
import { EVENTS_DIR, SAMPLES, SAMPLE_NAMES, type SampleName } from './samples.ts';

/**
 * What `npm run events` writes to events/*.json: the API Gateway HTTP API (payload
 * 2.0) events for every sample delivery, signed with the clearly fake secrets
 * of events/env.json (SAM's --env-vars format). The watsonx JWTs are fresh
 * each run and expire a few hours later: regenerate before replaying them.
 */

/** A clearly fake value for every credential the registry declares (Basic credentials as `user:password`). */
export const SAMPLE_SECRETS = Object.fromEntries(sourceEntries().flatMap(([, d]) => d.credentials.map((c) => {
  const fake = `fake-${c.name.toLowerCase().replaceAll('_', '-')}-for-sample-events-only`;
  return [c.name, c.role === 'basic' ? `sample-user:${fake}` : fake];
}))) as Record<CredentialName, string>;

export const SAMPLE_ENV = {
  BUCKET_NAME: 'voice-webhooks-local',
  TABLE_NAME: 'voice-webhooks-local',
  ENGAGE_VOICE_TIMEZONE: 'America/New_York',
  DEFAULT_PHONE_REGION: 'US',
  ...SAMPLE_SECRETS,
} as const;

export async function buildEvents(secrets: Secrets = SAMPLE_SECRETS, now = new Date()): Promise<Record<SampleName, APIGatewayProxyEventV2>> {
  const out: Partial<Record<SampleName, APIGatewayProxyEventV2>> = {};
  // No JWT `exp`: the committed events are signed with the fake sample secret and must work whenever the clone is made.
  for (const name of SAMPLE_NAMES) out[name] = eventFromRequest(await SAMPLES[name].build({ secrets, now, jwtTtlSeconds: null }), now);
  return out as Record<SampleName, APIGatewayProxyEventV2>;
}

export async function writeEvents(dir = EVENTS_DIR, now = new Date()): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const events = await buildEvents(SAMPLE_SECRETS, now);
  const written: string[] = [];
  const envFile = join(dir, 'env.json');
  writeFileSync(envFile, JSON.stringify({ Parameters: SAMPLE_ENV }, null, 2) + '\n');
  written.push(envFile);
  for (const name of SAMPLE_NAMES) {
    const file = join(dir, SAMPLES[name].eventFile);
    writeFileSync(file, JSON.stringify(events[name], null, 2) + '\n');
    written.push(file);
  }
  return written;
}

