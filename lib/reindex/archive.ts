import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Interpretation, InterpretContext } from '#shared/model';
import { declarationOf, SOURCES, type Source } from '#shared/sources';
import { audioKeyFor, parseMetadata } from '../../functions/audio-webhook/metadata.ts';
import { interpretMetadata, recordingDigest } from '../../functions/audio-webhook/interpret.ts';
import { findProvider } from '../../functions/call-completed/providers/index.ts';
import { interpretEngage } from '../../functions/engage-voice/interpret.ts';

/**
 * Reading the S3 archive back (the system of record) and
 * turning each archived raw body into its index item with the SAME pure
 * interpreters the handlers use. Layout: raw/<source>/<yyyy>/<mm>/<dd>/<callId>/<sha256>.<ext>,
 * S3 metadata `received-at` on every raw object; watsonx: the raw object's
 * `audio-key` names the WAV that came with it (archives written before audio
 * was keyed by content have none: audioKeyFor() without an audio id), whose
 * S3 metadata holds sha256 / bytes / source-content-type.
 */

export interface ArchivedRaw {
  key: string;
  source: Source;
  bytes: Uint8Array;
  contentType: string;
  receivedAt: Date;
  /** The raw object's S3 user metadata. */
  metadata: Record<string, string>;
}

/** `yyyy-mm-dd` → the key after which a source's archive of that day starts. */
export function startAfterFor(source: Source, sinceDay: string | undefined): string | undefined {
  if (sinceDay === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(sinceDay)) throw new Error(`--since "${sinceDay}" is not a date (yyyy-mm-dd)`);
  return `${declarationOf(source).archive.raw}${sinceDay.replaceAll('-', '/')}`;
}

/** Every raw archive key of one source, in key order (day, call, digest), from `sinceDay` on. */
export async function* listRawKeys(s3: S3Client, bucketName: string, source: Source, sinceDay?: string): AsyncGenerator<string> {
  let token: string | undefined;
  const startAfter = startAfterFor(source, sinceDay);
  do {
    const out = await s3.send(new ListObjectsV2Command({
      Bucket: bucketName,
      Prefix: declarationOf(source).archive.raw,
      ContinuationToken: token,
      ...(token === undefined && startAfter !== undefined ? { StartAfter: startAfter } : {}),
    }));
    for (const o of out.Contents ?? []) if (o.Key) yield o.Key;
    token = out.NextContinuationToken;
  } while (token);
}

export async function readRaw(s3: S3Client, bucketName: string, key: string): Promise<ArchivedRaw> {
  const source = SOURCES.find((s) => key.startsWith(declarationOf(s).archive.raw));
  if (source === undefined) throw new Error(`not a raw archive key: ${key}`);
  const out = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
  if (!out.Body) throw new Error(`empty object: ${key}`);
  const bytes = await out.Body.transformToByteArray();
  const stamped = out.Metadata?.['received-at'];
  const receivedAt = stamped !== undefined && !Number.isNaN(Date.parse(stamped)) ? new Date(stamped) : out.LastModified;
  if (receivedAt === undefined) throw new Error(`no received-at metadata: ${key}`);
  return { key, source, bytes, contentType: out.ContentType ?? 'application/octet-stream', receivedAt, metadata: out.Metadata ?? {} };
}

export type Settings = Pick<InterpretContext, 'engageTimeZone' | 'defaultPhoneRegion'> & { retentionDays?: number };

/**
 * The archived body → its Interpretation, through the handlers' own
 * interpreters; `undefined` for an archived delivery that is not a call
 * (Vapi's other server messages), which has no index item.
 */
export async function interpretArchived(s3: S3Client, bucketName: string, raw: ArchivedRaw, settings: Settings): Promise<Interpretation | undefined> {
  const ctx: InterpretContext = { ...settings, receivedAt: raw.receivedAt };
  // By handler, not by source: a new call-completed vendor is reindexed through its provider with no edit here.
  switch (declarationOf(raw.source).handler) {
    case 'audio-webhook': {
      const meta = parseMetadata(raw.bytes);
      const recorded = raw.metadata['audio-key'];
      const audioId = recorded === undefined ? undefined : /\.([0-9a-f]{32})\.wav$/.exec(recorded)?.[1];
      if (recorded !== undefined && (audioId === undefined || recorded !== audioKeyFor(meta, raw.receivedAt, audioId))) {
        throw new Error(`audio-key metadata ${recorded} is not this recording's audio key`);
      }
      const audioKey = audioKeyFor(meta, raw.receivedAt, audioId);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucketName, Key: audioKey }));
      const sha256 = head.Metadata?.sha256;
      const bytes = Number(head.Metadata?.bytes);
      const contentType = head.Metadata?.['source-content-type'];
      if (!sha256 || !Number.isInteger(bytes) || !contentType) throw new Error(`audio object ${audioKey} lacks sha256/bytes/source-content-type metadata`);
      return { ...interpretMetadata(meta, { s3Key: audioKey, sha256, bytes, contentType }, ctx), digest: recordingDigest(raw.bytes, audioId) };
    }
    case 'call-completed': {
      const provider = findProvider(raw.source);
      if (!provider) throw new Error(`no call-completed provider for ${raw.source}`);
      const read = provider.read ? provider.read(raw.bytes, ctx) : provider.interpret(raw.bytes, ctx);
      return 'notACall' in read ? undefined : read;
    }
    case 'engage-voice':
      return interpretEngage(raw.bytes, raw.contentType, ctx);
  }
}
