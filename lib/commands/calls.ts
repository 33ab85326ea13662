/**
 * `npm run calls -- <command>`: read calls back from the storage the handlers
 * write (local data, a running `npm start`, or a deployed stack with --stack).
 * See docs/calls.md.
 */
import '../quiet-sdk.ts';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline/promises';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { toE164 } from '#shared/phone';
import { SOURCES } from '#shared/model';
import { archiveState } from '../calls/model.ts';
import { isSource } from '#shared/model';
import { DEFAULT_DAYS } from '../calls/reader.ts';
import { archiveText, listTable, presentCall, showText, clean } from '../calls/format.ts';
import { failure, localTarget, stackTarget, UsageError, type Target } from '../calls/target.ts';
import { playableAudio } from '../calls/wav.ts';
import { complianceArgs, forget, hold } from '../calls/forget.ts';
import { exportName, fallbackExportName, writeExport } from '../calls/export.ts';
import { safeJson } from '../text.ts';


const USAGE = `Usage: npm run calls -- <command> [options]

Commands:
  list [--day YYYY-MM-DD] [--phone <number>] [--source <source>] [--limit N] [--days N]
                                  calls, newest first (default: 20 calls started or received in
                                  the last ${DEFAULT_DAYS} days; --day: started that UTC day)
  show <source> <callId>          one call: items, recordings, transcript, extracted data
  audio <source> <callId> [--out <dir>] [--force]
                                  write each stored recording as a playable file (default dir: .):
                                  watsonx as WAV, a vendor's archived copy as the bytes it served;
                                  an existing file is kept unless --force, a symlink never followed
  forget <source> <callId> | forget --phone <number>  [--dry-run] [--yes] [--day YYYY-MM-DD]
                                  erase the call(s): index items, raw archives, audio, every
                                  object version; lists first, asks unless --yes; writes a receipt
  hold <source> <callId> [--release]
                                  place or lift a legal hold (docs/compliance.md)

Options:
  --json           print the normalized model as JSON (docs/calls.md)
  --reveal         show phone numbers in full (masked by default)
  --stack <name>   read a deployed stack instead of local data
Sources: ${SOURCES.join(', ')}`;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** For forget's confirmation; undefined when nobody can answer. */
  ask?: (question: string) => Promise<string | undefined>;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
  ask: async (question) => {
    if (!process.stdin.isTTY) return undefined;
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};

function positiveInt(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${name} must be a whole number from 1 to ${max}`);
  return n;
}

function sourceArg(raw: string | undefined): (typeof SOURCES)[number] {
  if (raw === undefined || !isSource(raw)) throw new UsageError(`source must be one of ${SOURCES.join(', ')}`);
  return raw;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Runs one command; returns the process exit code. */
export async function main(argv: string[], io: Io = processIo, env: Record<string, string | undefined> = process.env): Promise<number> {
  let target: Target | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        day: { type: 'string' },
        phone: { type: 'string' },
        source: { type: 'string' },
        limit: { type: 'string' },
        days: { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        reveal: { type: 'boolean', default: false },
        stack: { type: 'string' },
        yes: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        release: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    const [command, ...args] = positionals;
    if (values.help || command === undefined || command === 'help') {
      io.out(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    if (command === 'forget' || command === 'hold') {
      const run = complianceArgs(command, args, values, env);
      target = values.stack ? await stackTarget(values.stack) : await localTarget(env);
      return run.command === 'forget' ? await forget(run.options, target, io) : await hold(run.options, target, io);
    }
    if (!['list', 'show', 'audio'].includes(command)) throw new UsageError(`unknown command "${command}"`);
    const fmt = { reveal: values.reveal };

    // Check every argument before touching storage.
    let list: Parameters<Target['reader']['listCalls']>[0] | undefined;
    let one: { source: (typeof SOURCES)[number]; callId: string } | undefined;
    if (command === 'list') {
      if (args.length) throw new UsageError(`list takes no positional arguments`);
      if (values.day !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(values.day) || Number.isNaN(Date.parse(values.day)))) {
        throw new UsageError('--day must be a date YYYY-MM-DD (UTC)');
      }
      let phone: string | undefined;
      if (values.phone !== undefined) {
        phone = toE164(values.phone, env.DEFAULT_PHONE_REGION?.trim() || 'US');
        if (!phone) throw new UsageError('--phone is not a phone number (use +<country><number>, or set DEFAULT_PHONE_REGION)');
      }
      list = {
        limit: positiveInt('limit', values.limit, 20, 1000),
        days: positiveInt('days', values.days, DEFAULT_DAYS, 3660),
        ...(values.day ? { day: values.day } : {}),
        ...(phone ? { phone } : {}),
        ...(values.source !== undefined ? { source: sourceArg(values.source) } : {}),
      };
    } else {
      if (args.length !== 2) throw new UsageError(`${command} needs <source> <callId>`);
      one = { source: sourceArg(args[0]), callId: args[1] ?? '' };
    }

    target = values.stack ? await stackTarget(values.stack) : await localTarget(env);
    const { reader } = target;

    if (list) {
      const started = Date.now();
      const result = await reader.listCalls(list);
      if (values.json) {
        io.out(safeJson(result.calls.map((c) => presentCall(c, fmt)), 2));
      } else {
        io.out(result.calls.length ? listTable(result.calls, fmt) : 'No calls found.');
        const first = result.searched.at(-1);
        const days = result.searched.length > 1 ? `days ${first} … ${result.searched[0]}` : `day ${result.searched[0] ?? ''}`;
        // Say which window this is: a default list also holds calls received in it whatever their start.
        const range = list.phone ? 'by phone'
          : list.day ? `started on ${days}`
            : result.receivedSearched === false ? `started on ${days} (this table has no ByReceived index, so calls received then but started earlier are missing)`
              : `${days}, started or received then, newest received first`;
        io.err(`${result.calls.length} call(s), ${range}, ${result.queries} queries + ${result.calls.length} call reads, ${Date.now() - started} ms, from ${target.description}`);
      }
      return 0;
    }

    if (!one) return 2;
    const call = await reader.getCall(one.source, one.callId);
    if (!call) {
      io.err(`No call ${one.source} ${clean(one.callId)} in ${target.description}.`);
      return 1;
    }
    if (command === 'show') {
      io.out(values.json ? safeJson(presentCall(call, fmt), 2) : showText(call, fmt));
      return 0;
    }

    const outDir = resolve(values.out ?? '.');
    await mkdir(outDir, { recursive: true });
    let written = 0;
    let kept = 0;
    for (const [i, rec] of call.call.recordings.entries()) {
      if (rec.s3Key) {
        const obj = await reader.getObject(rec.s3Key);
        // watsonx audio as WAV; a vendor's copy (archived by the recordings worker) as the bytes it served.
        const audio = playableAudio(obj.body, obj.contentType ?? rec.contentType);
        if (!audio) {
          io.err(`${clean(rec.id)}: ${clean(obj.contentType ?? rec.contentType)} is not audio we can write as a playable file; skipped`);
          continue;
        }
        const name = exportName(one.source, one.callId, i, rec.id, audio.extension) ?? fallbackExportName(one.source, one.callId, i, rec.id, sha256, audio.extension);
        const file = join(outDir, name);
        const outcome = await writeExport(file, audio.bytes, values.force);
        if (outcome === 'written') {
          written++;
          io.out(`${clean(file)}  ${audio.bytes.length} bytes`);
        } else {
          kept++;
          const why = outcome === 'exists' ? 'exists; not overwritten (--force replaces it)'
            : outcome === 'symlink' ? 'is a symbolic link; not written through'
              : 'is not a regular file; not written';
          io.err(`${clean(file)} ${why}`);
        }
      } else if (rec.sourceUrl || rec.viaApi) {
        const where = rec.sourceUrl ? `the vendor serves it at ${clean(rec.sourceUrl)}` : "the vendor's API serves it";
        io.out(`${clean(rec.id)}: not copied yet (${clean(archiveText(archiveState(rec)))}); ${where}; \`npm run recordings -- --missing\` copies it`);
      } else {
        io.out(`${clean(rec.id)}: no audio stored and no link`);
      }
    }
    if (!call.call.recordings.length) io.err('This call has no recordings.');
    else io.err(`${written} audio file(s) written to ${clean(outDir)}${kept ? `, ${kept} not written (see above)` : ''}`);
    if (kept) return 1;
    return 0;
  } catch (err) {
    const { message, code } = failure('calls', USAGE, target, err);
    io.err(message);
    return code;
  } finally {
    await target?.close();
  }
}
