/**
 * `npm run recordings -- [--missing] [--redrive] [--source s] [--since d] [--stack name]`:
 * every recording of the calls in a window and where its audio is; `--missing`
 * re-queues the vendor-held ones not in the bucket (stored before copies
 * existed, an enqueue that failed, failed ones after fixing the cause);
 * `--redrive` moves the dead-letter queue back. See docs/recordings.md.
 */
import '../quiet-sdk.ts';
import { parseArgs } from 'node:util';
import { SOURCES, type Recording, type Source } from '#shared/model';
import type { RecordingMessage } from '#shared/recording-queue';
import { archiveState, isMissing, type ArchiveState } from '../calls/model.ts';
import { isSource } from '#shared/model';
import { archiveText, clean, shortTime, table } from '../calls/format.ts';
import { DEFAULT_DAYS, isoDay } from '../calls/reader.ts';
import { failure, localTarget, stackTarget, UsageError, type Target } from '../calls/target.ts';
import { openRequeue, type Outcome, type Requeue } from '../recordings/requeue.ts';
import { safeJson } from '../text.ts';

const USAGE = `Usage: npm run recordings -- [options]

Lists the recordings of the calls started or received in a window, and where each one's
audio is: stored (came with the delivery), archived (copied from the vendor), pending,
retrying or failed (with the reason).

Options:
  --missing          queue again every vendor-held recording that is pending or failed
                     (retrying ones are still queued and are left alone)
  --redrive          move the dead-letter queue's messages back to the queue
  --source <source>  only this source (${SOURCES.join(', ')})
  --since <day>      calls started or received since this UTC day, YYYY-MM-DD
                     (default: the last ${DEFAULT_DAYS} days)
  --limit <N>        at most N calls (default 1000)
  --stack <name>     a deployed stack: its table, and its SQS queue for --missing / --redrive
  --json             one JSON object per recording

Locally, with npm start running, --missing and --redrive use its queue (its worker copies
them, with retries); without it, --missing copies them right here, one attempt each.`;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
};

export interface Row {
  source: Source;
  callId: string;
  sk: string;
  receivedAt: string;
  startedAt?: string;
  recording: Recording;
  archive: ArchiveState;
}

const MAX_DAYS = 3660;

function sourceArg(raw: string): Source {
  if (!isSource(raw)) throw new UsageError(`--source must be one of ${SOURCES.join(', ')}`);
  return raw;
}

/** Days from `since` to today, both included. */
export function daysSince(since: string, today = new Date()): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(since) || Number.isNaN(Date.parse(since))) throw new UsageError('--since must be a UTC day YYYY-MM-DD');
  const days = Math.floor((Date.parse(isoDay(today)) - Date.parse(since)) / 86_400_000) + 1;
  if (days < 1) throw new UsageError('--since is in the future');
  if (days > MAX_DAYS) throw new UsageError(`--since goes back more than ${MAX_DAYS} days`);
  return days;
}

function whereText(r: Recording, a: ArchiveState): string {
  if (a.state === 'archived' || a.state === 'stored') {
    const size = r.bytes !== undefined ? `  ${r.bytes} bytes` : '';
    const sha = r.sha256 ? `  sha256 ${r.sha256.slice(0, 12)}…` : '';
    return `${a.s3Key}${size}${sha}`;
  }
  if (r.sourceUrl) {
    try {
      return `link on ${new URL(r.sourceUrl).host}`;
    } catch {
      return 'link';
    }
  }
  return r.viaApi ? "the vendor's API" : '';
}

function rowsText(rows: readonly Row[]): string {
  return table(['TIME (UTC)', 'SOURCE', 'CALL ID', 'RECORDING', 'STATUS', 'WHERE'], rows.map((r) => [
    shortTime(r.startedAt ?? r.receivedAt), r.source, r.callId, r.recording.id, archiveText(r.archive), whereText(r.recording, r.archive),
  ]));
}

function counts(rows: readonly Row[]): string {
  const by = new Map<string, number>();
  for (const r of rows) by.set(r.archive.state, (by.get(r.archive.state) ?? 0) + 1);
  return ['archived', 'stored', 'pending', 'retrying', 'failed', 'none'].filter((s) => by.has(s)).map((s) => `${by.get(s)} ${s}`).join(', ') || 'none';
}

/** Every recording of every item (an Engage Voice call has one item per agent segment, each with its own). */
async function collect(target: Target, opts: { days: number; limit: number; source?: Source }): Promise<{ rows: Row[]; calls: number }> {
  const { calls } = await target.reader.listCalls({ limit: opts.limit, days: opts.days, ...(opts.source ? { source: opts.source } : {}) });
  const rows: Row[] = [];
  for (const g of calls) {
    for (const item of g.items) {
      for (const recording of item.record.recordings) {
        rows.push({
          source: item.record.source, callId: item.record.callId, sk: item.sk, receivedAt: item.record.receivedAt,
          ...(item.record.startedAt ? { startedAt: item.record.startedAt } : {}),
          recording, archive: archiveState(recording),
        });
      }
    }
  }
  return { rows, calls: calls.length };
}

function outcomeText(o: Outcome): string {
  if (o.kind === 'archived') return `archived ${o.s3Key} (${o.bytes} bytes)`;
  if (o.kind === 'already') return 'already archived';
  if (o.kind === 'failed') return `failed: ${o.reason}`;
  return 'no longer in the index';
}

/** Runs the command; returns the process exit code. */
export async function main(argv: string[], io: Io = processIo, env: Record<string, string | undefined> = process.env): Promise<number> {
  let target: Target | undefined;
  let requeue: Requeue | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        missing: { type: 'boolean', default: false },
        redrive: { type: 'boolean', default: false },
        source: { type: 'string' },
        since: { type: 'string' },
        limit: { type: 'string' },
        stack: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.missing && values.redrive) throw new UsageError('--missing and --redrive are separate steps: run one, then the other');
    if (values.redrive && (values.source !== undefined || values.since !== undefined || values.limit !== undefined)) {
      throw new UsageError('--redrive moves the whole dead-letter queue; --source, --since and --limit do not apply');
    }
    const source = values.source === undefined ? undefined : sourceArg(values.source);
    const days = values.since === undefined ? DEFAULT_DAYS : daysSince(values.since);
    const limit = values.limit === undefined ? 1000 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError('--limit must be a whole number from 1 to 100000');

    target = values.stack ? await stackTarget(values.stack) : await localTarget(env);

    if (values.redrive) {
      requeue = await openRequeue(target, values.stack, env);
      if (requeue.mode === 'direct' || !requeue.redrive) {
        io.err('recordings: npm start is not running, so there is no local queue to redrive. Start it (its queues are kept in DATA_DIR), or run --missing, which copies failed recordings now.');
        return 1;
      }
      const moved = await requeue.redrive();
      io.out(`Moved ${moved} message(s) from the dead-letter queue back to ${requeue.description}; the worker tries each again with the whole retry schedule.`);
      return 0;
    }

    const { rows, calls } = await collect(target, { days, limit, ...(source ? { source } : {}) });
    const window = `${calls} call(s) started or received in the last ${days} day(s)${source ? `, source ${source}` : ''}, from ${target.description}${calls >= limit ? ` (the --limit of ${limit} calls was reached: narrow with --since or raise --limit)` : ''}`;

    if (!values.missing) {
      if (values.json) io.out(safeJson(rows.map(jsonRow), 2));
      else io.out(rows.length ? rowsText(rows) : 'No recordings found.');
      io.err(`${rows.length} recording(s): ${counts(rows)}; ${window}`);
      return 0;
    }

    const missing = rows.filter((r) => isMissing(r.recording));
    const retrying = rows.filter((r) => r.archive.state === 'retrying').length;
    const messages: RecordingMessage[] = missing.map((r) => ({ source: r.source, callId: r.callId, sk: r.sk, recordingId: r.recording.id }));
    if (messages.length === 0) {
      io.out(`Nothing to queue: no pending or failed vendor recording${retrying ? ` (${retrying} retrying, still queued)` : ''}.`);
      io.err(window);
      return 0;
    }
    requeue = await openRequeue(target, values.stack, env);
    const attempts = new Map(missing.map((r) => [`${r.source}\u0000${r.callId}\u0000${r.sk}\u0000${r.recording.id}`, (r.recording.archiveAttempts ?? 0) + 1]));
    const keyOf = (m: RecordingMessage) => `${m.source}\u0000${m.callId}\u0000${m.sk}\u0000${m.recordingId}`;
    let failed = 0;
    await requeue.run(messages, (m) => attempts.get(keyOf(m)) ?? 1, (m, o) => {
      if (o.kind === 'failed') failed++;
      io.out(`${m.source}  ${clean(m.callId)}  ${clean(m.recordingId)}  ${outcomeText(o)}`);
    });
    if (requeue.mode === 'queue') {
      io.out(`Queued ${messages.length} recording(s) to ${requeue.description}${retrying ? `; ${retrying} retrying left alone` : ''}. \`npm run recordings\` shows their status as the worker copies them.`);
      const dead = await requeue.deadLetters?.();
      if (dead) io.err(`The dead-letter queue still holds ${dead} message(s) (its alarm stays on until it is empty): \`npm run recordings -- --redrive${values.stack ? ` --stack ${values.stack}` : ''}\` moves them back; recordings already archived are acknowledged without a fetch.`);
    } else {
      io.out(`${messages.length - failed} of ${messages.length} recording(s) copied by ${requeue.description}${retrying ? `; ${retrying} retrying left alone` : ''}.`);
    }
    io.err(window);
    return failed ? 1 : 0;
  } catch (err) {
    const { message, code } = failure('recordings', USAGE, target, err);
    io.err(message);
    return code;
  } finally {
    requeue?.close();
    await target?.close();
  }
}

function jsonRow(r: Row) {
  return { source: r.source, callId: r.callId, sk: r.sk, startedAt: r.startedAt, receivedAt: r.receivedAt, recording: r.recording, archive: r.archive };
}
