import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import express from 'express';
import multer from 'multer';
import jwt from 'jsonwebtoken';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * The receiver path of IBM's own audio-webhook sample server
 * (watson-developer-cloud/assistant-toolkit, integrations/phone/examples/
 * audio-webhook), rebuilt here with the libraries it uses — an Express router,
 * a bearer-JWT check with `jsonwebtoken.verify`, then multer's memory storage
 * taking the `audio_recording` part as a file — not its code. It runs
 * in-process on the bytes of the same API Gateway event our handler gets:
 * base64-decoded first (Lambda hands the body over base64-encoded), and the
 * audio SHA-256'd after, as our path records it; no HTTP server on either
 * side (API Gateway is the HTTP server in AWS). Like the sample it stores
 * nothing. multer only takes a part with a filename as a file: the documented
 * watsonx part has none (the sample answers 500 to it), so the peer is timed
 * on IBM's test-client shape, the audio part with a filename — which our
 * handler accepts too.
 */

export interface IbmOutcome {
  status: number;
  audio?: Buffer;
  sha256?: string;
}

interface PeerRequest extends Readable {
  method: string;
  url: string;
  headers: Record<string, string>;
  file?: { buffer: Buffer };
}

/** The event with its audio part given a filename (IBM's test-client shape); same boundary, same audio. */
export function withAudioFilename(event: APIGatewayProxyEventV2): APIGatewayProxyEventV2 {
  const body = Buffer.from(event.body ?? '', 'base64');
  const marker = Buffer.from('name="audio_recording"\r\n');
  const at = body.indexOf(marker);
  if (at < 0) return event;
  const renamed = Buffer.concat([body.subarray(0, at), Buffer.from('name="audio_recording"; filename="recording.ulaw"\r\n'), body.subarray(at + marker.length)]);
  return { ...event, body: renamed.toString('base64') };
}

export function createIbmSamplePeer(secret: string): (event: APIGatewayProxyEventV2) => Promise<IbmOutcome> {
  const router = express.Router();
  const upload = multer({ storage: multer.memoryStorage() });
  router.post('/audio-webhook', (req, res, next) => {
    const token = req.headers.authorization;
    if (!token) { res.statusCode = 401; next('route'); return; }
    try {
      jwt.verify(token.replace('Bearer ', ''), secret);
      next();
    } catch {
      res.statusCode = 400;
      next('route');
    }
  }, upload.single('audio_recording'), (req, res, next) => {
    res.statusCode = req.file ? 200 : 500;
    next();
  });

  return (event) => new Promise<IbmOutcome>((resolve, reject) => {
    const bytes = Buffer.from(event.body ?? '', 'base64');
    const req = Object.assign(Readable.from([bytes]), {
      method: 'POST',
      url: event.rawPath,
      headers: { ...event.headers, 'content-length': String(bytes.length) } as Record<string, string>,
    }) as PeerRequest;
    const res = { statusCode: 0 };
    const done = (err?: unknown) => {
      if (err !== undefined && err !== 'route' && err !== 'router') {
        resolve({ status: 500 });
        return;
      }
      const audio = req.file?.buffer;
      if (!audio) { resolve({ status: res.statusCode || 500 }); return; }
      resolve({ status: res.statusCode, audio, sha256: createHash('sha256').update(audio).digest('hex') });
    };
    try {
      Reflect.apply(Reflect.get(router, 'handle') as (...a: unknown[]) => void, router, [req, res, done]);
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
