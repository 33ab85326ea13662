import type { Speaker, TranscriptTurn } from '#shared/model';

/**
 * Transcript text as Synthflow sends it: one string of `\nbot: …\nhuman: …`
 * lines. A line that starts with a short label and a colon opens a new turn;
 * any other line continues the previous turn (multi-line utterances). Text
 * before the first label is kept as an `unknown` turn; empty turns are dropped.
 */

const LABEL = /^\s*([A-Za-z][A-Za-z0-9_-]{0,23})\s*:(?:\s|$)(.*)$/;

export function speakerOf(label: string): Speaker {
  switch (label.trim().toLowerCase()) {
    case 'bot': case 'assistant': case 'agent': case 'ai':
      return 'agent';
    case 'human': case 'user': case 'customer': case 'caller':
      return 'customer';
    default:
      return 'unknown';
  }
}

export function splitTranscript(text: string): TranscriptTurn[] {
  const turns: TranscriptTurn[] = [];
  let current: { speaker: Speaker; lines: string[] } | undefined;
  const flush = () => {
    if (!current) return;
    const joined = current.lines.join('\n').trim();
    if (joined !== '') turns.push({ speaker: current.speaker, text: joined });
  };
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    const m = LABEL.exec(line);
    if (m) {
      flush();
      current = { speaker: speakerOf(m[1] ?? ''), lines: [(m[2] ?? '').trim()] };
    } else if (current) {
      current.lines.push(line.trim());
    } else if (line.trim() !== '') {
      current = { speaker: 'unknown', lines: [line.trim()] };
    }
  }
  flush();
  return turns;
}

/** Structured turns (`[{ role|speaker, text|content|message }]`), as some vendor APIs send them. */
export function turnsFromList(list: readonly unknown[]): TranscriptTurn[] {
  const turns: TranscriptTurn[] = [];
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e: Record<string, unknown> = { ...entry };
    const who = [e.role, e.speaker, e.from].find((v): v is string => typeof v === 'string');
    const text = [e.text, e.content, e.message].find((v): v is string => typeof v === 'string');
    if (text === undefined || text.trim() === '') continue;
    turns.push({ speaker: who ? speakerOf(who) : 'unknown', text: text.trim() });
  }
  return turns;
}
