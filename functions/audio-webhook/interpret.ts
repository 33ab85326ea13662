import { createHash } from 'node:crypto';
import type { InterpretContext, Interpretation } from '#shared/model';
import { parseMetadata, type WatsonxMetadata } from './metadata.ts';
import { recordingSk } from '#shared/table';

/**
 * The watsonx interpreter: from the archived metadata bytes (the raw archive of
 * an audio-webhook delivery) and what we know of the stored WAV, the index
 * item of one recording. Pure: the handler and the reindex tool (which reads
 * the audio facts back from the WAV object's S3 metadata) get the same item.
 *
 * status is `completed`: watsonx calls this webhook when a recording has
 * finished, so the item describes a finished recording of an ongoing or ended
 * session. version comes from the payload only (stop, else start time), so a
 * retried delivery has the same version and digest and is a duplicate.
 */

export interface StoredAudio {
  /** Key of the WAV object in our bucket. */
  s3Key: string;
  /** SHA-256 (hex) of the audio bytes exactly as received. */
  sha256: string;
  /** Number of audio bytes as received. */
  bytes: number;
  /** The audio part's content type as sent (e.g. `audio/mulaw;rate=8000`). */
  contentType: string;
}

/**
 * The delivery's digest (its raw archive's name, the index item's digest): the
 * metadata bytes and the id of the audio they came with. The same recording_id
 * and metadata with another audio is another delivery: both are stored, and the
 * index keeps one by the usual rule (later stop time, then higher digest), the
 * same one whichever arrives first; a retry of either is a duplicate. Without an
 * audio id (archives from before audio was keyed by content): the metadata's SHA-256.
 */
export function recordingDigest(metadataBytes: Uint8Array, audioId?: string): string {
  const hash = createHash('sha256').update(metadataBytes);
  if (audioId !== undefined) hash.update(`\naudio ${audioId}`);
  return hash.digest('hex');
}

export function interpretRecording(metadataBytes: Uint8Array, audio: StoredAudio, ctx: InterpretContext): Interpretation {
  return interpretMetadata(parseMetadata(metadataBytes), audio, ctx);
}

export function interpretMetadata(meta: WatsonxMetadata, audio: StoredAudio, _ctx: InterpretContext): Interpretation {
  const startedAt = meta.start_timestamp;
  const endedAt = meta.stop_timestamp;
  const durationSec = startedAt && endedAt ? (Date.parse(endedAt) - Date.parse(startedAt)) / 1000 : undefined;
  const extracted: Record<string, unknown> = {};
  if (meta.assistant_id !== undefined) extracted.assistantId = meta.assistant_id;
  if (meta.environment_id !== undefined) extracted.environmentId = meta.environment_id;
  extracted.audioContentType = audio.contentType;
  return {
    call: {
      source: 'watsonx',
      callId: meta.session_id,
      status: 'completed',
      ...(startedAt !== undefined ? { startedAt } : {}),
      ...(endedAt !== undefined ? { endedAt } : {}),
      ...(durationSec !== undefined ? { durationSec } : {}),
      extracted,
      recordings: [{
        id: meta.recording_id,
        s3Key: audio.s3Key,
        contentType: 'audio/wav',
        bytes: audio.bytes,
        sha256: audio.sha256,
        ...(startedAt !== undefined ? { startedAt } : {}),
        ...(endedAt !== undefined ? { endedAt } : {}),
      }],
    },
    sk: recordingSk(meta.recording_id),
    version: Date.parse(endedAt ?? startedAt ?? '') || 0,
  };
}
