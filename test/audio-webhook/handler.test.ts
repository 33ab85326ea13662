import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { handler } from '../../functions/audio-webhook/handler.ts';
import { interpretRecording } from '../../functions/audio-webhook/interpret.ts';
import { resetConfiguration } from '#shared/handler';
import { setLogSink } from '#shared/log';
import { getItem, getItems, getObjectBytes, headObject, listKeys } from '../support/storage.ts';
import { TEST_SECRET, apiEvent, metadataFor, multipart, signJwt, type PartSpec } from './support.ts';

const ulaw = readFileSync(new URL('../../events/payloads/watsonx/recording.ulaw', import.meta.url));
const wavFixture = readFileSync(new URL('../../events/payloads/watsonx/recording.wav', import.meta.url));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const DAY = '2026/11/20';
/** The audio's content id as the README defines it: SHA-256 of the declared type, a newline and the bytes, 32 hex digits. */
const audioId = (type: string, b: Uint8Array) => createHash('sha256').update(`${type}\n`).update(b).digest('hex').slice(0, 32);
const audioKeyOf = (sid: string, rid: string, type: string, b: Uint8Array) => `audio/watsonx/${DAY}/${sid}/${rid}.${audioId(type, b)}.wav`;

const logLines: string[] = [];
let restoreSink: ((line: string) => void) | undefined;
beforeAll(() => {
  process.env.WATSONX_AUDIO_SECRET = TEST_SECRET;
  resetConfiguration();
  restoreSink = setLogSink((line) => { logLines.push(line); });
});
afterAll(() => {
  if (restoreSink) setLogSink(restoreSink);
  delete process.env.WATSONX_AUDIO_SECRET;
  resetConfiguration();
});

async function invoke(parts: PartSpec[], authorization?: string | null, contentType?: string) {
  const mp = multipart(parts);
  const auth = authorization === null ? undefined : authorization ?? `Bearer ${await signJwt()}`;
  const res = await handler(apiEvent({ body: mp.body, contentType: contentType ?? mp.contentType, authorization: auth }));
  return { statusCode: res.statusCode, body: JSON.parse(String(res.body)) as Record<string, unknown> };
}

const watsonxParts = (sid: string, rid: string, audio: Buffer = ulaw): PartSpec[] => [
  { name: 'metadata', body: metadataFor(sid, rid), contentType: 'application/json' },
  { name: 'audio_recording', body: audio, contentType: 'audio/mulaw;rate=8000' },
];

/** Everything stored for one session: the "no write" check, immune to other test files writing concurrently. */
async function storedFor(sid: string) {
  const [audio, raw, items] = await Promise.all([
    listKeys(`audio/watsonx/${DAY}/${sid}/`), listKeys(`raw/watsonx/${DAY}/${sid}/`), getItems('watsonx', sid),
  ]);
  return { objects: audio.length + raw.length, items: items.length };
}

describe('POST /audio-webhook', () => {
  it('stores a playable WAV of the received µ-law, the metadata bytes, and the recording item', async () => {
    const sid = randomUUID();
    const rid = randomUUID();
    const meta = metadataFor(sid, rid);
    const res = await invoke(watsonxParts(sid, rid));
    const audioKey = audioKeyOf(sid, rid, 'audio/mulaw;rate=8000', ulaw);
    expect(res).toEqual({ statusCode: 200, body: { ok: true, outcome: 'stored', callId: sid, sessionId: sid, recordingId: rid, audioKey } });

    const wav = await getObjectBytes(audioKey);
    expect(wav.toString('latin1', 0, 4)).toBe('RIFF');
    expect(wav.readUInt16LE(20)).toBe(7);
    expect(wav.toString('latin1', 50, 54)).toBe('data');
    expect(wav.readUInt32LE(54)).toBe(ulaw.length);
    expect(wav.subarray(58).equals(ulaw)).toBe(true);
    const head = await headObject(audioKey);
    expect(head.ContentType).toBe('audio/wav');
    expect(head.Metadata).toMatchObject({ sha256: sha(ulaw), bytes: String(ulaw.length), 'source-content-type': 'audio/mulaw;rate=8000' });

    // The archive is the metadata part as sent, named by it and the audio it came with, and says which audio that is.
    const rawKey = `raw/watsonx/${DAY}/${sid}/${sha(Buffer.from(`${meta}\naudio ${audioId('audio/mulaw;rate=8000', ulaw)}`))}.json`;
    expect((await getObjectBytes(rawKey)).toString('utf8')).toBe(meta);
    expect((await headObject(rawKey)).Metadata).toMatchObject({ 'audio-key': audioKey });

    const item = await getItem('watsonx', sid, `REC#${rid}`);
    expect(item).toMatchObject({ PK: `CALL#watsonx#${sid}`, SK: `REC#${rid}`, GSI1PK: 'DAY#2026-11-20', version: Date.parse('2026-11-20T10:15:05.123Z') });
    expect(item?.record).toMatchObject({
      source: 'watsonx', callId: sid, status: 'completed', startedAt: '2026-11-20T10:15:02.123Z', endedAt: '2026-11-20T10:15:05.123Z',
      durationSec: 3, rawS3Key: rawKey,
      extracted: { assistantId: '0f2b5c4e-8a51-4d6b-9f39-6a7c2e1d4b10', environmentId: 'a7d3e8f1-2c4b-4e9a-b6d5-3f1e0c9a8b72' },
      recordings: [{ id: rid, s3Key: audioKey, contentType: 'audio/wav', bytes: ulaw.length, sha256: sha(ulaw) }],
    });
  });

  it.each([
    ['audio/mulaw; rate=16000', 16000],
    ['audio/basic;rate=8000', 8000],
    ['audio/mulaw;rate="16000"', 16000],
    ['audio/x-mulaw ; RATE=11025', 11025],
  ])('keeps the audio part\'s rate parameter (%s) into the stored WAV and the call', async (type, rate) => {
    const sid = randomUUID();
    const rid = randomUUID();
    const res = await invoke([
      { name: 'metadata', body: metadataFor(sid, rid), contentType: 'application/json' },
      { name: 'audio_recording', body: ulaw, contentType: type },
    ]);
    expect(res.statusCode).toBe(200);
    const audioKey = audioKeyOf(sid, rid, type, ulaw);
    expect(res.body.audioKey).toBe(audioKey);
    const wav = await getObjectBytes(audioKey);
    expect(wav.readUInt32LE(24)).toBe(rate); // sample rate
    expect(wav.readUInt32LE(28)).toBe(rate); // byte rate: one byte per µ-law sample
    expect(wav.subarray(58).equals(ulaw)).toBe(true);
    expect((await headObject(audioKey)).Metadata?.['source-content-type']).toBe(type);
    const item = await getItem('watsonx', sid, `REC#${rid}`);
    expect(item?.record).toMatchObject({ extracted: { audioContentType: type } });
  });

  it('rebuilds the same index record from the archive and the WAV object metadata (reindex path)', async () => {
    const sid = randomUUID();
    const rid = randomUUID();
    await invoke(watsonxParts(sid, rid));
    const item = await getItem('watsonx', sid, `REC#${rid}`);
    const rawBytes = await getObjectBytes(String(item?.record.rawS3Key));
    const audioKey = audioKeyOf(sid, rid, 'audio/mulaw;rate=8000', ulaw);
    const m = (await headObject(audioKey)).Metadata ?? {};
    const again = interpretRecording(rawBytes, {
      s3Key: audioKey, sha256: m.sha256 ?? '', bytes: Number(m.bytes), contentType: m['source-content-type'] ?? '',
    }, { engageTimeZone: 'UTC', defaultPhoneRegion: 'US', receivedAt: new Date() });
    const { rawS3Key: _r, receivedAt: _t, ...stored } = item?.record ?? {};
    expect(again.call).toEqual(stored);
    expect(again.sk).toBe(item?.SK);
    expect(again.version).toBe(item?.version);
  });

  it('stores a WAV upload with a filename and untyped metadata as is (IBM test client)', async () => {
    const sid = randomUUID();
    const rid = randomUUID();
    const res = await invoke([
      { name: 'metadata', body: metadataFor(sid, rid) },
      { name: 'audio_recording', body: wavFixture, contentType: 'audio/wav', filename: 'recording.wav' },
    ]);
    expect(res.statusCode).toBe(200);
    const stored = await getObjectBytes(audioKeyOf(sid, rid, 'audio/wav', wavFixture));
    expect(stored.equals(wavFixture)).toBe(true);
    expect((await getItem('watsonx', sid, `REC#${rid}`))?.record.recordings[0].sha256).toBe(sha(wavFixture));
  });

  it('keeps two recordings of one session as two items', async () => {
    const sid = randomUUID();
    const [r1, r2] = [randomUUID(), randomUUID()];
    expect((await invoke(watsonxParts(sid, r1))).statusCode).toBe(200);
    expect((await invoke(watsonxParts(sid, r2, ulaw.subarray(0, 8001)))).statusCode).toBe(200);
    const items = await getItems('watsonx', sid);
    expect(items.map((i) => i.SK).sort()).toEqual([`REC#${r1}`, `REC#${r2}`].sort());
    expect(await listKeys(`audio/watsonx/${DAY}/${sid}/`)).toHaveLength(2);
  });

  it('answers a retried delivery 200 duplicate and stores nothing new', async () => {
    const sid = randomUUID();
    const rid = randomUUID();
    expect((await invoke(watsonxParts(sid, rid))).body.outcome).toBe('stored');
    const before = await storedFor(sid);
    const again = await invoke(watsonxParts(sid, rid));
    expect(again).toMatchObject({ statusCode: 200, body: { ok: true, outcome: 'duplicate', recordingId: rid } });
    expect(await storedFor(sid)).toEqual(before);
    expect(before).toEqual({ objects: 2, items: 1 });
  });

  it.each([
    ['no Authorization header', null, 'missing_token'],
    ['a token signed with another secret', 'wrong', 'invalid_signature'],
    ['an expired token', 'expired', 'token_expired'],
    ['garbage', 'Bearer nope', 'invalid_token'],
  ] as const)('refuses %s with 401 and stores nothing', async (_label, kind, code) => {
    const sid = randomUUID();
    const auth = kind === 'wrong' ? `Bearer ${await signJwt('another-secret')}`
      : kind === 'expired' ? `Bearer ${await signJwt(TEST_SECRET, 'HS256', { exp: Math.floor(Date.now() / 1000) - 3600 })}`
        : kind;
    const res = await invoke(watsonxParts(sid, randomUUID()), auth);
    expect(res).toMatchObject({ statusCode: 401, body: { error: code } });
    expect(await storedFor(sid)).toEqual({ objects: 0, items: 0 });
  });

  it('authenticates before parsing: a bad token on a malformed body is a 401', async () => {
    const res = await handler(apiEvent({ body: Buffer.from('not multipart'), contentType: 'text/plain', authorization: 'Bearer x.y.z' }));
    expect(res.statusCode).toBe(401);
  });

  it('verifies the JWT before the body is parsed: what the parser refuses with 400 is a 401 without a valid JWT', async () => {
    const sid = randomUUID();
    const mp = multipart(watsonxParts(sid, randomUUID()));
    const boundary = mp.contentType.split('boundary=')[1] ?? '';
    const head = (name: string, extra = '') => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${extra}\r\n\r\n`;
    const bodies: Record<string, Buffer> = {
      truncated: mp.body.subarray(0, mp.body.length - 40),
      'oversized part headers': Buffer.from(`${head('metadata', `\r\nX-Pad: ${'a'.repeat(20_000)}`)}{}\r\n--${boundary}--\r\n`),
      'too many parts': Buffer.from(`${Array.from({ length: 12 }, (_, i) => `${head(`p${i}`)}x\r\n`).join('')}--${boundary}--\r\n`),
      'no closing boundary, 4 MB': Buffer.concat([Buffer.from(head('audio_recording')), Buffer.alloc(4 * 1024 * 1024, 0x7f)]),
    };
    const forged = `Bearer ${await signJwt('not-the-configured-secret')}`;
    const valid = `Bearer ${await signJwt()}`;
    for (const [what, body] of Object.entries(bodies)) {
      // The same body with a valid JWT reaches the parser, which refuses it: so the 401 shows the parser never ran.
      const parsed = await handler(apiEvent({ body, contentType: mp.contentType, authorization: valid }));
      expect({ what, status: parsed.statusCode, error: JSON.parse(String(parsed.body)).error }).toEqual({ what, status: 400, error: 'invalid_multipart' });
      for (const authorization of [forged, 'Bearer x.y.z', undefined]) {
        const res = await handler(apiEvent({ body, contentType: mp.contentType, ...(authorization ? { authorization } : {}) }));
        expect({ what, status: res.statusCode }).toEqual({ what, status: 401 });
      }
    }
    expect(await storedFor(sid)).toEqual({ objects: 0, items: 0 });
  });

  it('a well-formed JWT with the wrong secret beats every parse error, with no unhandled rejection', async () => {
    // Whatever is wrong with the body, the answer is the 401, and nothing may crash.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => { unhandled.push(reason); };
    process.on('unhandledRejection', onUnhandled);
    try {
      const sid = randomUUID();
      const forged = `Bearer ${await signJwt('not-the-configured-secret')}`;
      const mp = multipart(watsonxParts(sid, randomUUID()));
      const cases = [
        apiEvent({ body: Buffer.from('{}'), contentType: 'application/json', authorization: forged }),
        apiEvent({ body: mp.body.subarray(0, mp.body.length - 40), contentType: mp.contentType, authorization: forged }),
        apiEvent({ body: mp.body, contentType: 'multipart/form-data', authorization: forged }),
      ];
      for (const event of cases) {
        const res = await handler(event);
        expect(res.statusCode).toBe(401);
        expect(JSON.parse(String(res.body))).toMatchObject({ error: 'invalid_signature' });
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
      expect(await storedFor(sid)).toEqual({ objects: 0, items: 0 });
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('refuses every request when no secret is configured (auth_not_configured)', async () => {
    delete process.env.WATSONX_AUDIO_SECRET;
    resetConfiguration();
    try {
      const sid = randomUUID();
      const res = await invoke(watsonxParts(sid, randomUUID()));
      expect(res).toMatchObject({ statusCode: 401, body: { error: 'auth_not_configured' } });
      expect(String(res.body.message)).toContain('WATSONX_AUDIO_SECRET');
      expect(await storedFor(sid)).toEqual({ objects: 0, items: 0 });
    } finally {
      process.env.WATSONX_AUDIO_SECRET = TEST_SECRET;
      resetConfiguration();
    }
  });

  it.each([
    ['JSON instead of multipart', 415, (sid: string) => ({ parts: watsonxParts(sid, 'r1'), contentType: 'application/json' })],
    ['multipart without boundary', 400, (sid: string) => ({ parts: watsonxParts(sid, 'r1'), contentType: 'multipart/form-data' })],
    ['MP3 audio', 415, (sid: string) => ({ parts: [watsonxParts(sid, 'r1')[0]!, { name: 'audio_recording', body: ulaw, contentType: 'audio/mpeg' }] })],
    ['missing audio part', 400, (sid: string) => ({ parts: [watsonxParts(sid, 'r1')[0]!] })],
    ['empty audio', 400, (sid: string) => ({ parts: [watsonxParts(sid, 'r1')[0]!, { name: 'audio_recording', body: '', contentType: 'audio/mulaw' }] })],
    ['metadata without recording_id', 400, (sid: string) => ({
      parts: [{ name: 'metadata', body: JSON.stringify({ session_id: sid }) }, watsonxParts(sid, 'r1')[1]!],
    })],
    ['unsafe recording_id', 400, (sid: string) => ({
      parts: [{ name: 'metadata', body: metadataFor(sid, '../../etc/passwd') }, watsonxParts(sid, 'r1')[1]!],
    })],
  ] as const)('refuses %s with %i and stores nothing', async (_label, status, make) => {
    const sid = randomUUID();
    const { parts, contentType } = { contentType: undefined, ...make(sid) };
    const res = await invoke([...parts], undefined, contentType);
    expect(res.statusCode).toBe(status);
    expect(typeof res.body.error).toBe('string');
    expect(typeof res.body.message).toBe('string');
    expect(await storedFor(sid)).toEqual({ objects: 0, items: 0 });
  });

  it('refuses a truncated body with 400', async () => {
    const sid = randomUUID();
    const mp = multipart(watsonxParts(sid, randomUUID()));
    const res = await handler(apiEvent({ body: mp.body.subarray(0, mp.body.length - 100), contentType: mp.contentType, authorization: `Bearer ${await signJwt()}` }));
    expect(res.statusCode).toBe(400);
    expect(await storedFor(sid)).toEqual({ objects: 0, items: 0 });
  });

  it('answers GET with 405', async () => {
    const res = await handler(apiEvent({ body: Buffer.alloc(0), method: 'GET' }));
    expect(res.statusCode).toBe(405);
  });

  it('never logs the JWT', async () => {
    const token = await signJwt('leaky-secret');
    logLines.length = 0;
    await invoke(watsonxParts(randomUUID(), randomUUID()), `Bearer ${token}`);
    expect(logLines.length).toBeGreaterThan(0);
    const all = logLines.join('\n');
    expect(all).not.toContain(token.split('.')[2]);
    expect(all).not.toContain(TEST_SECRET);
  });
});
