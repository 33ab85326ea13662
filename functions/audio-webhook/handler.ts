import { webhookHandler } from '#shared/handler';
import { requireSomeCheck } from '#shared/auth';
import { sha256Hex, store } from '#shared/storage';
import { verifyJwt } from './jwt.ts';
import { parseMultipart, requireMultipart } from './multipart.ts';
import { audioKeyFor, parseMetadata } from './metadata.ts';
import { prepareAudio } from './wav.ts';
import { interpretMetadata } from './interpret.ts';

/**
 * POST /audio-webhook — watsonx Assistant's audio webhook (record step):
 * authenticate the JWT → parse multipart → validate metadata → make the audio
 * a WAV → store (WAV, then the metadata bytes as the raw archive, then the
 * index, best effort) → 200. See README.md in this folder.
 */
export const handler = webhookHandler({ name: 'audio-webhook', methods: ['POST'], sourceOf: () => 'watsonx' }, async ({ req, log, settings, secrets }) => {
  const secret = (await secrets()).WATSONX_AUDIO_SECRET;
  requireSomeCheck('watsonx', secret !== undefined, ['WATSONX_AUDIO_SECRET']);
  await verifyJwt(req.headers.authorization, secret ?? '');

  const boundaryHeader = req.headers['content-type'] ?? '';
  requireMultipart(req.contentType);
  const parts = await parseMultipart(req.body, boundaryHeader);
  const meta = parseMetadata(parts.metadata.bytes);
  const audio = prepareAudio(parts.audio.bytes, parts.audio.contentType);

  const sourceContentType = audio.sourceContentType;
  const sha256 = sha256Hex(parts.audio.bytes);
  const audioKey = audioKeyFor(meta, req.receivedAt);
  const { call, sk, version } = interpretMetadata(meta, {
    s3Key: audioKey, sha256, bytes: parts.audio.bytes.length, contentType: sourceContentType,
  }, { engageTimeZone: settings.engageTimeZone, defaultPhoneRegion: settings.defaultPhoneRegion, receivedAt: req.receivedAt });

  const result = await store(settings, {
    call, sk, version, receivedAt: req.receivedAt,
    raw: { bytes: parts.metadata.bytes, contentType: 'application/json', extension: 'json' },
    objects: [{
      key: audioKey,
      body: audio.wav,
      contentType: 'audio/wav',
      metadata: { sha256, bytes: String(parts.audio.bytes.length), 'source-content-type': sourceContentType },
    }],
  }, log, { indexBestEffort: true });
  if (result.indexError) {
    log.metric('IndexWriteFailed', { Source: 'watsonx' });
    log.warn('recording stored, index write failed; run reindex', { audioKey, rawS3Key: result.rawS3Key });
  }
  return { source: 'watsonx', outcome: result.outcome, body: { callId: meta.session_id, sessionId: meta.session_id, recordingId: meta.recording_id, audioKey } };
});
