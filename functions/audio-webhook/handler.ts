import { webhookHandler } from '#shared/handler';
import type { Settings } from '#shared/config';
import { requireSomeCheck } from '#shared/auth';
import { createStorage, createStorageClients } from '#shared/storage';
import { sha256Hex } from '#shared/keys';
import { verifyJwt } from './jwt.ts';
import { WATSONX_AUTH_VARIABLES, keyForEnvironment, verifyWithAny, watsonxKeys } from './environments.ts';
import { parseMultipart, requireMultipart } from './multipart.ts';
import { audioIdOf, audioKeyFor, parseMetadata } from './metadata.ts';
import { prepareAudio } from './wav.ts';
import { interpretMetadata, recordingDigest } from './interpret.ts';
import { warmAudioPath } from './warm.ts';

const storage = createStorage(createStorageClients());

/**
 * POST /audio-webhook — watsonx Assistant's audio webhook (record step):
 * authenticate the JWT → parse multipart → validate metadata → make the audio
 * a WAV → store (WAV, then the metadata bytes as the raw archive, then the
 * index, best effort) → 200. See README.md in this folder.
 */
const warm = { code: () => [warmAudioPath], clients: (settings: Settings) => [() => storage.warm(settings)] };

export const handler = webhookHandler({ name: 'audio-webhook', methods: ['POST'], sourceOf: () => 'watsonx', warm }, async ({ req, log, settings, secrets }) => {
  const keys = watsonxKeys(await secrets());
  requireSomeCheck('watsonx', keys.length > 0, WATSONX_AUTH_VARIABLES);
  // Verify, then parse: nothing in the body is read for a request that is not authenticated.
  const matched = await verifyWithAny(keys, (secret) => verifyJwt(req.headers.authorization, secret));
  const parts = parseMultipart(req.body, requireMultipart(req.contentType));
  const meta = parseMetadata(parts.metadata.bytes);
  // The environment binding needs the (verified request's) metadata: checked before anything is written.
  const key = keyForEnvironment(matched, meta.environment_id);
  const audio = prepareAudio(parts.audio.bytes, parts.audio.contentType);

  const sourceContentType = audio.sourceContentType;
  const sha256 = sha256Hex(parts.audio.bytes);
  // Keyed by content: another audio under this recording_id is another object, never a rewrite of this one.
  const audioId = audioIdOf(parts.audio.bytes, parts.audio.contentType);
  const audioKey = audioKeyFor(meta, req.receivedAt, audioId);
  const { call, sk, version } = interpretMetadata(meta, {
    s3Key: audioKey, sha256, bytes: parts.audio.bytes.length, contentType: sourceContentType,
  }, { engageTimeZone: settings.engageTimeZone, defaultPhoneRegion: settings.defaultPhoneRegion, receivedAt: req.receivedAt });

  const result = await storage.store(settings, {
    call, sk, version, receivedAt: req.receivedAt,
    digest: recordingDigest(parts.metadata.bytes, audioId),
    // The archive is the metadata part as received; which audio came with it is its S3 metadata (reindex reads it).
    raw: { bytes: parts.metadata.bytes, contentType: 'application/json', extension: 'json', metadata: { 'audio-key': audioKey } },
    objects: [{
      key: audioKey,
      body: audio.wav,
      contentType: 'audio/wav',
      metadata: { sha256, bytes: String(parts.audio.bytes.length), 'source-content-type': sourceContentType },
    }],
  }, log, { indexBestEffort: true });
  if (result.indexError) log.warn('recording archived, not indexed; run reindex', { audioKey, rawS3Key: result.rawS3Key });
  return { source: 'watsonx', outcome: result.outcome, previous: key.previous ? [key.name] : [], body: { callId: meta.session_id, sessionId: meta.session_id, recordingId: meta.recording_id, audioKey } };
});

// Init waits for the first secret fetch (AWS) and the warm-up, so the first request does not.
await handler.ready;
