import { maskPhone } from '#shared/phone';
import type { CallRecord, Recording } from '#shared/model';
import { declarationOf } from '#shared/sources';
import { archiveState, type GroupedCall } from '../calls/model.ts';
import { visibleText } from '../text.ts';

/**
 * What the inbox page receives: a short summary per call for the list, the
 * rest of one call (transcript a page of turns at a time, extracted data and
 * labels bounded) when the user opens it. Every string is stored data, so it
 * goes through visibleText (controls, bidi overrides and zero-width characters
 * shown as `\uXXXX`, newlines kept); phone numbers are masked unless revealed.
 */

export const SUMMARY_CHARS = 280;
export const TURNS_PAGE = 200;
export const MAX_ENTRIES = 200;
const MAX_TEXT = 20_000;

export interface ViewOptions {
  reveal: boolean;
}

const text = (s: string, max = MAX_TEXT): string => {
  const v = visibleText(s);
  return v.length > max ? `${v.slice(0, max)}…` : v;
};
const opt = (s: string | undefined, max?: number): string | undefined => (s === undefined ? undefined : text(s, max));
const phone = (s: string | undefined, o: ViewOptions): string | undefined => (s === undefined ? undefined : text(o.reveal ? s : maskPhone(s)));

export interface CallSummary {
  source: string;
  /** The id as stored: for the page's requests and its element keys, never shown. */
  callId: string;
  /** The id to show. */
  shownId: string;
  status?: string;
  statusDetail?: string;
  direction?: string;
  customerNumber?: string;
  dialedNumber?: string;
  agent?: string;
  startedAt?: string;
  durationSec?: number;
  receivedAt: string;
  summary?: string;
  items: number;
  segments: boolean;
  recordings: number;
  /** Recordings whose audio is in our bucket (with the delivery, or copied from the vendor). */
  stored: number;
  /** Vendor-held recordings by copy state, when the call has any. */
  copies?: { archived: number; pending: number; retrying: number; failed: number };
  turns: number;
  extracted: number;
  labels: number;
}

function agentOf(c: CallRecord): string | undefined {
  const a = [c.agent?.name, c.agent?.id && `#${c.agent.id}`].filter(Boolean).join(' ');
  return a ? text(a, 200) : undefined;
}

function copiesOf(recordings: readonly Recording[]): CallSummary['copies'] {
  const copies = { archived: 0, pending: 0, retrying: 0, failed: 0 };
  let any = false;
  for (const r of recordings) {
    const { state } = archiveState(r);
    if (state === 'stored' || state === 'none') continue;
    copies[state]++;
    any = true;
  }
  return any ? copies : undefined;
}

export function summaryOf(g: GroupedCall, o: ViewOptions): CallSummary {
  const c = g.call;
  return strip({
    source: c.source,
    callId: c.callId,
    shownId: text(c.callId, 400),
    status: c.status,
    statusDetail: opt(c.statusDetail, 200),
    direction: c.direction,
    customerNumber: phone(c.customerNumber, o),
    dialedNumber: phone(c.dialedNumber, o),
    agent: agentOf(c),
    startedAt: opt(c.startedAt, 64),
    durationSec: c.durationSec,
    receivedAt: text(c.receivedAt, 64),
    summary: opt(c.summary, SUMMARY_CHARS),
    items: g.items.length,
    segments: declarationOf(c.source).item === 'segment',
    recordings: c.recordings.length,
    stored: c.recordings.filter((r) => r.s3Key !== undefined).length,
    copies: copiesOf(c.recordings),
    turns: c.transcript?.length ?? 0,
    extracted: Object.keys(c.extracted ?? {}).length,
    labels: Object.keys(c.labels ?? {}).length,
  });
}

export interface RecordingView {
  id: string;
  /** Only for keys the audio route serves; the page builds the URL. */
  s3Key?: string;
  contentType: string;
  bytes?: number;
  /** An http(s) vendor link: its host to show, the whole URL (escaped) for the title. */
  link?: { host: string; href: string; shown: string };
  /** A vendor value that is not an http(s) URL: shown as text, never a link. */
  sourceText?: string;
  /** A vendor-held recording's copy: archived (when), or pending / retrying / failed (why). */
  archive?: { state: 'archived'; archivedAt: string; sha256?: string } | { state: 'pending' } | { state: 'retrying' | 'failed'; reason: string; attempts?: number };
}

function archiveView(r: Recording): RecordingView['archive'] {
  const a = archiveState(r);
  if (a.state === 'archived') return { state: 'archived', archivedAt: text(a.archivedAt, 64), ...(a.sha256 ? { sha256: text(a.sha256, 64) } : {}) };
  if (a.state === 'pending') return { state: 'pending' };
  if (a.state === 'retrying' || a.state === 'failed') return { state: a.state, reason: text(a.reason, 200), ...(a.attempts !== undefined ? { attempts: a.attempts } : {}) };
  return undefined;
}

function linkOf(sourceUrl: string): Pick<RecordingView, 'link' | 'sourceText'> {
  let url: URL | undefined;
  try { url = new URL(sourceUrl); } catch { url = undefined; }
  if (url && (url.protocol === 'https:' || url.protocol === 'http:')) {
    // The URL parser's href is ASCII (IDN hosts as xn--, bidi and controls percent-encoded): safe to show.
    return { link: { host: url.host, href: url.href, shown: text(url.href, 2000) } };
  }
  return { sourceText: text(sourceUrl, 2000) };
}

function recordingView(r: Recording): RecordingView {
  const archive = archiveView(r);
  const base = {
    id: text(r.id, 400), contentType: text(r.contentType, 200), ...(r.bytes !== undefined ? { bytes: r.bytes } : {}), ...(archive ? { archive } : {}),
  };
  if (r.s3Key) return { ...base, s3Key: r.s3Key, ...(r.sourceUrl ? linkOf(r.sourceUrl) : {}) };
  return r.sourceUrl ? { ...base, ...linkOf(r.sourceUrl) } : base;
}

function entries(map: Record<string, unknown> | undefined): { shown: [string, string][]; total: number } {
  const all = Object.entries(map ?? {});
  return {
    total: all.length,
    shown: all.slice(0, MAX_ENTRIES).map(([k, v]) => [text(k, 400), text(typeof v === 'string' ? v : JSON.stringify(v) ?? '', 4000)]),
  };
}

export interface CallDetail {
  summary: CallSummary;
  fullSummary?: string;
  endedAt?: string;
  items: { sk: string; startedAt?: string; durationSec?: number; status?: string; agent?: string; version: number }[];
  recordings: RecordingView[];
  transcript: { from: number; total: number; turns: { speaker: string; text: string }[] };
  extracted: { shown: [string, string][]; total: number };
  labels: { shown: [string, string][]; total: number };
  rawS3Key: string;
}

export function detailOf(g: GroupedCall, o: ViewOptions, turnsFrom = 0): CallDetail {
  const c = g.call;
  const turns = c.transcript ?? [];
  const from = Math.max(0, Math.min(turnsFrom, turns.length));
  return strip({
    summary: summaryOf(g, o),
    fullSummary: opt(c.summary),
    endedAt: opt(c.endedAt, 64),
    items: g.items.slice(0, MAX_ENTRIES).map((i) => strip({
      sk: text(i.sk, 400),
      startedAt: opt(i.record.startedAt, 64),
      durationSec: i.record.durationSec,
      status: i.record.status,
      agent: agentOf(i.record),
      version: i.version,
    })),
    recordings: c.recordings.slice(0, MAX_ENTRIES).map(recordingView),
    transcript: { from, total: turns.length, turns: turns.slice(from, from + TURNS_PAGE).map((t) => ({ speaker: t.speaker, text: text(t.text, 4000) })) },
    extracted: entries(c.extracted),
    labels: entries(c.labels),
    rawS3Key: text(c.rawS3Key, 1000),
  });
}

/** Drops undefined fields, so the JSON carries only what is there. */
function strip<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
