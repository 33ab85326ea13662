import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/**
 * A STAND-IN, not an S3 emulator: the versioned, Object-Lock-enabled subset of
 * the S3 REST API that erasure and holds call, for tests only, because no local
 * S3 server here has object versions or Object Lock (s3rver answers
 * ListObjectVersions with 405 and object-lock with 501). The real AWS SDK talks
 * to it over HTTP, path-style, without checking signatures. What it does:
 *
 *  - PutObject (If-None-Match: *), GetObject / HeadObject (optionally by versionId),
 *    ListObjectsV2 (current versions, paged), CreateBucket / HeadBucket;
 *  - every put is a new version; DeleteObject without a version id adds a
 *    delete marker, with one removes that version for good — refused (403
 *    AccessDenied, as S3 does) while it has a legal hold or an unexpired retention;
 *  - ListObjectVersions (versions and delete markers, newest first per key,
 *    paged with key-marker / version-id-marker), GetBucketVersioning (Enabled),
 *    GetObjectLockConfiguration (Enabled);
 *  - Put/GetObjectLegalHold and Put/GetObjectRetention per version.
 *
 * Pages are deliberately small (PAGE entries) so the callers' pagination runs.
 * Not implemented: multipart uploads, ACLs, lifecycle, checksums, auth.
 */

interface Version {
  versionId: string;
  deleteMarker: boolean;
  body: Buffer;
  contentType: string;
  metadata: Record<string, string>;
  lastModified: Date;
  legalHold?: 'ON' | 'OFF';
  retention?: { mode: string; until: Date };
}

export const PAGE = 3;

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const tag = (name: string, value: string | number | boolean) => `<${name}>${xmlEscape(String(value))}</${name}>`;

export class VersionedS3 {
  private server: Server | undefined;
  private readonly buckets = new Map<string, Map<string, Version[]>>();
  private seq = 0;
  /** Every request, `METHOD path?query`, for assertions on what the SDK really called. */
  readonly calls: string[] = [];
  endpoint = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.error(res, 500, 'InternalError', String(err)));
    });
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', () => done()));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    if (res.headersSent) { res.end(); return; }
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error>${tag('Code', code)}${tag('Message', message)}</Error>`);
  }

  private xml(res: ServerResponse, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(200, { 'content-type': 'application/xml', ...headers });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
  }

  private newVersionId(): string {
    return `v${String(++this.seq).padStart(6, '0')}-${randomBytes(4).toString('hex')}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const q = url.searchParams;
    q.delete('x-id'); // the SDK names the operation; the path and other parameters say it already
    this.calls.push(`${req.method} ${url.pathname}${url.search}`);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const [, bucketName = '', ...rest] = url.pathname.split('/');
    const key = rest.map(decodeURIComponent).join('/');
    const method = req.method ?? 'GET';

    if (!key) {
      if (method === 'PUT' && !q.size) { this.buckets.set(bucketName, this.buckets.get(bucketName) ?? new Map()); res.writeHead(200); return void res.end(); }
      const bucket = this.buckets.get(bucketName);
      if (!bucket) return this.error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
      if (method === 'HEAD') { res.writeHead(200); return void res.end(); }
      if (method !== 'GET') return this.error(res, 405, 'MethodNotAllowed', 'not in the stand-in');
      if (q.has('versioning')) return this.xml(res, `<VersioningConfiguration>${tag('Status', 'Enabled')}</VersioningConfiguration>`);
      if (q.has('object-lock')) return this.xml(res, `<ObjectLockConfiguration>${tag('ObjectLockEnabled', 'Enabled')}</ObjectLockConfiguration>`);
      if (q.has('versions')) return this.listVersions(res, bucketName, bucket, q);
      if (q.get('list-type') === '2') return this.listObjects(res, bucketName, bucket, q);
      return this.error(res, 501, 'NotImplemented', 'not in the stand-in');
    }

    const bucket = this.buckets.get(bucketName);
    if (!bucket) return this.error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    const versions = bucket.get(key) ?? [];
    const versionId = q.get('versionId') ?? undefined;
    const pick = (): Version | undefined => (versionId !== undefined ? versions.find((v) => v.versionId === versionId) : versions.at(-1));

    if (q.has('legal-hold') || q.has('retention')) {
      const v = pick();
      if (!v || v.deleteMarker) return this.error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      const text = body.toString('utf8');
      if (q.has('legal-hold')) {
        if (method === 'PUT') {
          const status = /<Status>(ON|OFF)<\/Status>/.exec(text)?.[1];
          if (status !== 'ON' && status !== 'OFF') return this.error(res, 400, 'MalformedXML', 'legal hold status');
          v.legalHold = status;
          res.writeHead(200); return void res.end();
        }
        if (!v.legalHold) return this.error(res, 404, 'NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration');
        return this.xml(res, `<LegalHold>${tag('Status', v.legalHold)}</LegalHold>`);
      }
      if (method === 'PUT') {
        const mode = /<Mode>(GOVERNANCE|COMPLIANCE)<\/Mode>/.exec(text)?.[1];
        const until = /<RetainUntilDate>([^<]+)<\/RetainUntilDate>/.exec(text)?.[1];
        if (!mode || !until) return this.error(res, 400, 'MalformedXML', 'retention');
        v.retention = { mode, until: new Date(until) };
        res.writeHead(200); return void res.end();
      }
      if (!v.retention) return this.error(res, 404, 'NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration');
      return this.xml(res, `<Retention>${tag('Mode', v.retention.mode)}${tag('RetainUntilDate', v.retention.until.toISOString())}</Retention>`);
    }

    if (method === 'PUT') {
      if (q.size) return this.error(res, 501, 'NotImplemented', 'not in the stand-in');
      const current = versions.at(-1);
      if (req.headers['if-none-match'] === '*' && current && !current.deleteMarker) {
        return this.error(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      const metadata: Record<string, string> = {};
      for (const [h, val] of Object.entries(req.headers)) if (h.startsWith('x-amz-meta-') && typeof val === 'string') metadata[h.slice(11)] = val;
      const v: Version = {
        versionId: this.newVersionId(), deleteMarker: false, body,
        contentType: req.headers['content-type'] ?? 'binary/octet-stream', metadata, lastModified: new Date(),
      };
      bucket.set(key, [...versions, v]);
      res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"`, 'x-amz-version-id': v.versionId });
      return void res.end();
    }

    if (method === 'GET' || method === 'HEAD') {
      const v = pick();
      if (!v || v.deleteMarker) {
        res.setHeader('x-amz-delete-marker', String(Boolean(v?.deleteMarker)));
        return method === 'HEAD' ? void (res.writeHead(404), res.end()) : this.error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      }
      const headers: Record<string, string> = {
        'content-type': v.contentType, 'content-length': String(v.body.byteLength), 'last-modified': v.lastModified.toUTCString(),
        etag: `"${createHash('md5').update(v.body).digest('hex')}"`, 'x-amz-version-id': v.versionId,
      };
      for (const [m, val] of Object.entries(v.metadata)) headers[`x-amz-meta-${m}`] = val;
      res.writeHead(200, headers);
      return void res.end(method === 'HEAD' ? undefined : v.body);
    }

    if (method === 'DELETE') {
      if (versionId === undefined) {
        const marker: Version = { versionId: this.newVersionId(), deleteMarker: true, body: Buffer.alloc(0), contentType: '', metadata: {}, lastModified: new Date() };
        bucket.set(key, [...versions, marker]);
        res.writeHead(204, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': marker.versionId });
        return void res.end();
      }
      const v = versions.find((x) => x.versionId === versionId);
      if (v?.legalHold === 'ON' || (v?.retention && v.retention.until.getTime() > Date.now())) {
        return this.error(res, 403, 'AccessDenied', 'Access Denied because object protected by object lock.');
      }
      const left = versions.filter((x) => x.versionId !== versionId);
      if (left.length) bucket.set(key, left);
      else bucket.delete(key);
      res.writeHead(204, v?.deleteMarker ? { 'x-amz-delete-marker': 'true', 'x-amz-version-id': versionId } : { 'x-amz-version-id': versionId });
      return void res.end();
    }
    return this.error(res, 405, 'MethodNotAllowed', 'not in the stand-in');
  }

  private listVersions(res: ServerResponse, bucketName: string, bucket: Map<string, Version[]>, q: URLSearchParams): void {
    const prefix = q.get('prefix') ?? '';
    const keyMarker = q.get('key-marker') ?? '';
    const versionMarker = q.get('version-id-marker') ?? '';
    const all = [...bucket.keys()].filter((k) => k.startsWith(prefix)).sort()
      .flatMap((k) => [...bucket.get(k)!].reverse().map((v, i) => ({ key: k, v, latest: i === 0 })));
    let start = 0;
    if (keyMarker) {
      const at = all.findIndex((e) => e.key === keyMarker && (!versionMarker || e.v.versionId === versionMarker));
      start = versionMarker ? at + 1 : all.findIndex((e) => e.key > keyMarker);
      if (start < 0) start = all.length;
    }
    const page = all.slice(start, start + PAGE);
    const truncated = start + PAGE < all.length;
    const last = page.at(-1);
    const entries = page.map(({ key, v, latest }) => v.deleteMarker
      ? `<DeleteMarker>${tag('Key', key)}${tag('VersionId', v.versionId)}${tag('IsLatest', latest)}${tag('LastModified', v.lastModified.toISOString())}</DeleteMarker>`
      : `<Version>${tag('Key', key)}${tag('VersionId', v.versionId)}${tag('IsLatest', latest)}${tag('LastModified', v.lastModified.toISOString())}${tag('ETag', `"${createHash('md5').update(v.body).digest('hex')}"`)}${tag('Size', v.body.byteLength)}${tag('StorageClass', 'STANDARD')}</Version>`);
    this.xml(res, `<ListVersionsResult>${tag('Name', bucketName)}${tag('Prefix', prefix)}${tag('KeyMarker', keyMarker)}${tag('VersionIdMarker', versionMarker)}${tag('MaxKeys', PAGE)}${tag('IsTruncated', truncated)}`
      + (truncated && last ? tag('NextKeyMarker', last.key) + tag('NextVersionIdMarker', last.v.versionId) : '')
      + `${entries.join('')}</ListVersionsResult>`);
  }

  private listObjects(res: ServerResponse, bucketName: string, bucket: Map<string, Version[]>, q: URLSearchParams): void {
    const prefix = q.get('prefix') ?? '';
    const after = q.get('continuation-token') ?? q.get('start-after') ?? '';
    const keys = [...bucket.entries()].filter(([k, vs]) => k.startsWith(prefix) && k > after && !vs.at(-1)!.deleteMarker).map(([k]) => k).sort();
    const page = keys.slice(0, PAGE);
    const truncated = keys.length > PAGE;
    const contents = page.map((k) => {
      const v = bucket.get(k)!.at(-1)!;
      return `<Contents>${tag('Key', k)}${tag('LastModified', v.lastModified.toISOString())}${tag('Size', v.body.byteLength)}${tag('StorageClass', 'STANDARD')}</Contents>`;
    });
    this.xml(res, `<ListBucketResult>${tag('Name', bucketName)}${tag('Prefix', prefix)}${tag('KeyCount', page.length)}${tag('MaxKeys', PAGE)}${tag('IsTruncated', truncated)}`
      + (truncated ? tag('NextContinuationToken', page.at(-1)!) : '') + `${contents.join('')}</ListBucketResult>`);
  }
}
