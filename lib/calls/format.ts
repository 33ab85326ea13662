import { maskPhone } from '#shared/phone';
import type { CallRecord } from '#shared/model';
import { declarationOf } from '#shared/sources';
import { archiveState, type ArchiveState, type GroupedCall } from './model.ts';
import { oneLine } from '../text.ts';

/**
 * Human output of the calls command: aligned columns for `list`, a readable
 * block for `show`. Phone numbers are masked unless the user asks to reveal them.
 */

export interface FormatOptions {
  reveal: boolean;
}

export function phone(value: string | undefined, opts: FormatOptions): string {
  if (!value) return '';
  return opts.reveal ? value : maskPhone(value);
}

/** `2026-11-20 10:00:00Z` from an ISO timestamp (UTC). */
export function shortTime(iso: string | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

export function duration(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec)) return '';
  const total = Math.round(sec);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mmss = `${String(m).padStart(h ? 2 : 1, '0')}:${String(s).padStart(2, '0')}`;
  return h ? `${h}:${mmss}` : mmss;
}

/** Hostile payload text on one line, its controls, bidi and zero-width characters shown as `\uXXXX`. */
export const clean = oneLine;

export function table(header: string[], rows: string[][], rightAligned: ReadonlySet<number> = new Set()): string {
  const all = [header, ...rows].map((r) => r.map((c) => clean(c)));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) => r.map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd())
    .join('\n');
}

export function listTable(calls: readonly GroupedCall[], opts: FormatOptions): string {
  const rows = calls.map(({ call }) => [
    shortTime(call.startedAt ?? call.receivedAt),
    call.source,
    call.status ?? '',
    phone(call.customerNumber, opts),
    duration(call.durationSec),
    String(call.recordings.length),
    call.callId,
  ]);
  return table(['TIME (UTC)', 'SOURCE', 'STATUS', 'CUSTOMER', 'DURATION', 'RECS', 'CALL ID'], rows, new Set([4, 5]));
}

/** The record with its numbers masked (or not): what `--json` prints. */
export function presentRecord(record: CallRecord, opts: FormatOptions): CallRecord {
  if (opts.reveal) return record;
  return {
    ...record,
    ...(record.customerNumber ? { customerNumber: maskPhone(record.customerNumber) } : {}),
    ...(record.dialedNumber ? { dialedNumber: maskPhone(record.dialedNumber) } : {}),
  };
}

export function presentCall(g: GroupedCall, opts: FormatOptions): GroupedCall {
  return {
    call: presentRecord(g.call, opts),
    items: g.items.map((i) => ({ ...i, record: presentRecord(i.record, opts) })),
  };
}

function field(label: string, value: string | undefined): string[] {
  return value ? [`${(label + ':').padEnd(11)} ${clean(value)}`] : [];
}

function value(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v) ?? '';
}

export function showText(g: GroupedCall, opts: FormatOptions): string {
  const { call } = g;
  const lines: string[] = [
    ...field('Call', `${call.source} ${call.callId}`),
    ...field('Status', [call.status, call.statusDetail && call.statusDetail !== call.status ? `(${call.statusDetail})` : ''].filter(Boolean).join(' ')),
    ...field('Direction', call.direction),
    ...field('Customer', phone(call.customerNumber, opts)),
    ...field('Dialed', phone(call.dialedNumber, opts)),
    ...field('Agent', [call.agent?.name, call.agent?.id && `#${call.agent.id}`].filter(Boolean).join(' ')),
    ...field('Started', shortTime(call.startedAt)),
    ...field('Ended', shortTime(call.endedAt)),
    ...field('Duration', duration(call.durationSec)),
    ...field('Received', shortTime(call.receivedAt)),
    ...field('Hold', holdText(g)),
    ...field('Summary', call.summary),
  ];
  if (g.items.length > 1 || declarationOf(call.source).item !== 'call') {
    lines.push('', `Items (${g.items.length}):`);
    lines.push(indent(table(['SK', 'STARTED', 'DURATION', 'STATUS', 'AGENT', 'VERSION'], g.items.map((i) => [
      i.sk, shortTime(i.record.startedAt), duration(i.record.durationSec), i.record.status ?? '',
      i.record.agent?.name ?? i.record.agent?.id ?? '', String(i.version),
    ]))));
  }
  lines.push('', `Recordings (${call.recordings.length}):`);
  for (const r of call.recordings) {
    const where = r.s3Key ? `s3://…/${r.s3Key}` : r.sourceUrl ? `link ${r.sourceUrl}` : r.viaApi ? "through the vendor's API" : 'not stored';
    const size = r.bytes !== undefined ? ` ${r.bytes} bytes` : '';
    lines.push(`  ${clean(r.id)}  ${clean(r.contentType)}${size}  ${clean(where)}`);
    const archive = archiveState(r);
    if (archive.state === 'stored' || archive.state === 'none') continue;
    // A vendor-held recording: where its copy stands, and for a copy where it came from.
    const from = archive.state === 'archived' && r.sourceUrl ? `; from ${r.sourceUrl}` : '';
    const sha = archive.state === 'archived' && archive.sha256 ? `, sha256 ${archive.sha256}` : '';
    const next = archive.state === 'pending' || archive.state === 'failed' ? ' — `npm run recordings -- --missing` copies it' : '';
    lines.push(`      ${clean(archiveText(archive) + sha + from)}${next}`);
  }
  if (call.transcript?.length) {
    lines.push('', `Transcript (${call.transcript.length} turns):`);
    for (const t of call.transcript) lines.push(`  ${t.speaker.padEnd(8)} ${clean(t.text)}`);
  }
  for (const [name, map] of [['Extracted', call.extracted], ['Labels', call.labels]] as const) {
    const entries = Object.entries(map ?? {});
    if (!entries.length) continue;
    lines.push('', `${name}:`);
    for (const [k, v] of entries) lines.push(`  ${clean(k)}: ${clean(value(v))}`);
  }
  lines.push('', ...field('Raw body', call.rawS3Key));
  return lines.join('\n');
}

/** One recording's archive state in words (calls show, npm run recordings). */
export function archiveText(a: ArchiveState): string {
  switch (a.state) {
    case 'archived': return `archived ${shortTime(a.archivedAt)}`;
    case 'stored': return 'stored with the delivery';
    case 'pending': return 'pending (not copied yet)';
    case 'retrying': return `retrying (${a.reason}${a.attempts ? `, attempt ${a.attempts}` : ''})`;
    case 'failed': return `failed: ${a.reason}${a.attempts ? ` (after ${a.attempts} attempt${a.attempts > 1 ? 's' : ''})` : ''}`;
    case 'none': return 'no audio, no link';
  }
}

/** A held call says so, and whether S3 enforces it (Object Lock) or only `calls forget` does. */
function holdText(g: GroupedCall): string | undefined {
  const hold = g.items.find((i) => i.hold)?.hold;
  if (!hold) return undefined;
  const by = hold.by ? ` by ${hold.by}` : '';
  return `legal hold since ${shortTime(hold.since)}${by} (${hold.objectLock ? 'S3 Object Lock legal hold on every object' : 'index only: the bucket has no Object Lock'}); forget refuses it`;
}

function indent(text: string): string {
  return text.split('\n').map((l) => `  ${l}`).join('\n');
}
