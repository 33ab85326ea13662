/**
 * Writes events/payloads/watsonx/* once (`npx tsx test/audio-webhook/generate-fixtures.ts`).
 * The committed files are the fixtures; this only documents how they were made.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { mulawSweep, pcmWav } from './support.ts';

const dir = new URL('../../events/payloads/watsonx/', import.meta.url);
mkdirSync(dir, { recursive: true });
const base = {
  assistant_id: '9d5e1c2a-3b4f-4a6e-8c7d-1e2f3a4b5c6d',
  environment_id: '4c8b2a1d-7e6f-4d3c-9b2a-8f7e6d5c4b3a',
  session_id: '7a1c0e52-9d3b-4f68-a2e5-0b6c3d8f1e94',
};
const json = (o: unknown) => JSON.stringify(o, null, 2) + '\n';
writeFileSync(new URL('metadata.json', dir), json({
  ...base,
  recording_id: 'c3f7a9e1-2b4d-4c6e-8f0a-1b3d5e7f9a2c',
  start_timestamp: '2026-11-20T14:03:27.481Z',
  stop_timestamp: '2026-11-20T14:03:30.481Z',
}));
writeFileSync(new URL('metadata-2.json', dir), json({
  ...base,
  recording_id: 'e8b2d4f6-1a3c-4e5f-9b7d-2c4e6a8b0d1f',
  start_timestamp: '2026-11-20T14:03:41.902Z',
  stop_timestamp: '2026-11-20T14:03:44.902Z',
}));
writeFileSync(new URL('recording.ulaw', dir), mulawSweep(3));
writeFileSync(new URL('recording.wav', dir), pcmWav(1));
