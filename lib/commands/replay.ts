import '../quiet-sdk.ts';
import { pickSecrets, SECRET_NAMES, type Secrets } from '#shared/config';
import { readLocalConfig } from '../local-config.ts';
import { readStoredSecrets } from '../local-secrets.ts';
import { requestTarget, type OutgoingRequest } from '../requests.ts';
import { SAMPLES, SAMPLE_NAMES, isSampleName, type SampleName } from '../samples.ts';
import { oneLine } from '../text.ts';

/**
 * `npm run replay -- <sample> [--url <base-url>] [--new] [--set NAME=value]`:
 * sends a correctly signed sample delivery built from events/payloads/ to the
 * local server (default http://127.0.0.1:3000; secrets from DATA_DIR/secrets.json
 * and the environment) or to a deployed base URL (secrets from the environment
 * and --set). Prints status and body; exits non-zero on a non-2xx answer.
 * Without --new a second replay is a duplicate (2xx, nothing new stored).
 */

export interface ReplayOptions {
  sample: SampleName;
  baseUrl: string;
  secrets: Secrets;
  fresh?: boolean;
  /** Fixtures folder (default events/payloads). */
  payloadsDir?: string;
  /** Recording links point here instead (same file names): a local file server standing in for the vendor. */
  recordingsBase?: string;
}

/** JSON sample bodies: every recording URL's origin and folder replaced by `base`, the file name kept. */
export function pointRecordingsAt(body: Buffer, base: string): Buffer {
  const root = base.replace(/\/+$/, '');
  return Buffer.from(body.toString('utf8').replace(/"(recording_url|recordingUrl|sess_agent_perspective_recording_url)": "https?:\/\/[^"]*\/([^"/]+)"/g, `"$1": "${root}/$2"`));
}

export interface ReplayResult {
  status: number;
  body: string;
  request: OutgoingRequest;
}

export async function replay(opts: ReplayOptions): Promise<ReplayResult> {
  const built = await SAMPLES[opts.sample].build({ secrets: opts.secrets, fresh: opts.fresh ?? false, ...(opts.payloadsDir ? { payloadsDir: opts.payloadsDir } : {}) });
  const request = opts.recordingsBase && built.body ? { ...built, body: pointRecordingsAt(built.body, opts.recordingsBase) } : built;
  // Keep the base URL's path (a stage or custom-domain prefix) in front of the route.
  const base = new URL(opts.baseUrl);
  const url = new URL(`${base.origin}${base.pathname.replace(/\/$/, '')}${requestTarget(request)}`);
  let res: Response;
  try {
    res = await fetch(url, {
      method: request.method,
      headers: request.headers,
      ...(request.body ? { body: request.body } : {}),
      signal: AbortSignal.timeout(35_000),
    });
  } catch (err) {
    throw new Error(unreachable(request.method, url, err), { cause: err });
  }
  return { status: res.status, body: await boundedText(res), request };
}

/** fetch says only "fetch failed": name the URL tried (without its query: it may carry a token) and the cause. */
export function unreachable(method: string, url: URL, err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
  const reason = err instanceof Error ? err.message : String(err);
  const hint = isLocal(url.href)
    ? ' — is npm start running there? For another address pass --url (npm start prints the command to use)'
    : '';
  return `${method} ${url.origin}${url.pathname}: ${reason}${cause && cause !== reason ? ` (${cause})` : ''}${hint}`;
}

/** Our answers are small JSON; a hostile or broken endpoint must not fill memory. */
export const RESPONSE_LIMIT = 64 * 1024;

async function boundedText(res: Response, limit = RESPONSE_LIMIT): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks).toString('utf8');
    const room = limit - size;
    chunks.push(value.subarray(0, room));
    size += Math.min(value.byteLength, room);
    if (value.byteLength > room) {
      await reader.cancel();
      return `${Buffer.concat(chunks).toString('utf8')} … (response cut at ${limit} bytes)`;
    }
  }
}

function isLocal(baseUrl: string): boolean {
  const host = new URL(baseUrl).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/** Secrets to sign with: for a local server what npm start generated, then the environment, then --set (last wins). */
export function replaySecrets(baseUrl: string, env: Record<string, string | undefined>, overrides: Secrets): Secrets {
  const stored = isLocal(baseUrl) ? readStoredSecrets(readLocalConfig(env).dataDir) : {};
  return { ...stored, ...pickSecrets(env), ...overrides };
}

export interface ReplayArgs {
  sample: SampleName;
  baseUrl: string;
  fresh: boolean;
  overrides: Secrets;
  recordingsBase?: string;
}

const USAGE = `usage: npm run replay -- <${SAMPLE_NAMES.join('|')}> [--url <base-url>] [--new] [--set NAME=value]
  --url   where to send it (default http://127.0.0.1:3000, i.e. npm start)
  --new   fresh call ids: a new call instead of a duplicate of the last replay
  --set   a secret to sign with, e.g. --set VOLUBILE_WEBHOOK_SECRET=... (${SECRET_NAMES.join(', ')})
  --recordings <base-url>  recording links (Synthflow, Engage Voice JSON) point there, file names kept`;

export function parseReplayArgs(argv: string[], env: Record<string, string | undefined> = process.env): ReplayArgs | string {
  let sample: SampleName | undefined;
  let baseUrl = `http://${readLocalConfig(env).host}:${readLocalConfig(env).port}`;
  let fresh = false;
  let recordingsBase: string | undefined;
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--new') fresh = true;
    else if (arg === '--url') {
      const next = argv[++i];
      if (next === undefined || !URL.canParse(next)) return `--url needs a base URL\n${USAGE}`;
      baseUrl = next;
    } else if (arg === '--recordings') {
      const next = argv[++i];
      if (next === undefined || !URL.canParse(next)) return `--recordings needs a base URL, e.g. http://127.0.0.1:8080\n${USAGE}`;
      recordingsBase = next;
    } else if (arg === '--set') {
      const next = argv[++i] ?? '';
      const eq = next.indexOf('=');
      const name = next.slice(0, eq);
      if (eq < 0 || !(SECRET_NAMES as readonly string[]).includes(name)) return `--set needs NAME=value with NAME one of ${SECRET_NAMES.join(', ')}`;
      raw[name] = next.slice(eq + 1);
    } else if (isSampleName(arg) && sample === undefined) sample = arg;
    else return `unknown argument "${arg}"\n${USAGE}`;
  }
  if (sample === undefined) return USAGE;
  return { sample, baseUrl, fresh, overrides: pickSecrets(raw), ...(recordingsBase ? { recordingsBase } : {}) };
}

async function run(argv: readonly string[]): Promise<number> {
  const args = parseReplayArgs([...argv]);
  if (typeof args === 'string') {
    process.stderr.write(args + '\n');
    return 2;
  }
  const secrets = replaySecrets(args.baseUrl, process.env, args.overrides);
  const result = await replay({ sample: args.sample, baseUrl: args.baseUrl, secrets, fresh: args.fresh, ...(args.recordingsBase ? { recordingsBase: args.recordingsBase } : {}) });
  // The body is the server's, possibly a stranger's (--url): one line, nothing raw reaches the terminal.
  process.stdout.write(`${result.request.method} ${result.request.path} → ${result.status}\n${oneLine(result.body)}\n`);
  return result.status >= 200 && result.status < 300 ? 0 : 1;
}

/** `npm run replay` (scripts/replay.ts): the exit code; a failure is one line on stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    process.stderr.write(`replay failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
