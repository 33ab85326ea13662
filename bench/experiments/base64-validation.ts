/**
 * Experiment behind the proposed change to functions/shared/request.ts
 * (decodeEvent): validating a base64 body with the regular expression
 * /^[A-Za-z0-9+/]*={0,2}$/ costs far more than decoding it. The alternative
 * decodes first and checks the decoded length against the length the text
 * must decode to: Node's decoder skips characters outside the alphabet, so
 * any stray character (space, `%`, a second padding run…) makes the output
 * shorter than 3/4 of the input and is caught, in O(1) after the decode.
 *
 *   npx tsx bench/experiments/base64-validation.ts
 */
import { mulawAudio } from '../lib/events.ts';
import { timeSideBySide } from '../lib/timing.ts';
import { fmtMs, fmtRatio } from '../lib/stats.ts';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Current code: regex, then decode. */
export function decodeWithRegex(raw: string): Buffer | undefined {
  if (!BASE64.test(raw)) return undefined;
  return Buffer.from(raw, 'base64');
}

/** Proposed: decode, then compare the decoded length with what valid base64 of this length yields. */
export function decodeWithLengthCheck(raw: string): Buffer | undefined {
  const pad = raw.endsWith('==') ? 2 : raw.endsWith('=') ? 1 : 0;
  const data = raw.length - pad;
  // Node also decodes the URL-safe alphabet; the regex does not: keep refusing it.
  // A lone trailing character encodes no byte: not base64 (the regex let it through).
  if (data % 4 === 1 || raw.includes('-') || raw.includes('_')) return undefined;
  const body = Buffer.from(raw, 'base64');
  return body.length === Math.floor((data * 3) / 4) ? body : undefined;
}

export const SAMPLES: { raw: string; valid: boolean }[] = [
  { raw: '', valid: true },
  { raw: 'QQ==', valid: true },
  { raw: 'QUI=', valid: true },
  { raw: 'QUJD', valid: true },
  { raw: 'QQ', valid: true },
  { raw: 'Q', valid: false },
  { raw: 'Q Q=', valid: false },
  { raw: 'QQ==QQ==', valid: false },
  { raw: 'QU%D', valid: false },
  { raw: '====', valid: false },
  { raw: 'QUJD\n', valid: false },
  { raw: 'QQ=', valid: true },
  { raw: '===', valid: false },
  { raw: 'ab-_', valid: false },
];

/** The same without refusing the URL-safe alphabet (Node decodes `-` `_` as `+` `/`). */
export function decodeWithLengthCheckUrlSafe(raw: string): Buffer | undefined {
  const pad = raw.endsWith('==') ? 2 : raw.endsWith('=') ? 1 : 0;
  const body = Buffer.from(raw, 'base64');
  const data = raw.length - pad;
  if (data % 4 === 1) return undefined;
  return body.length === Math.floor((data * 3) / 4) ? body : undefined;
}

/**
 * Random strings over the base64 alphabet plus troublemakers. `looser` counts
 * inputs the length check accepts but the regex refuses (must be 0);
 * `stricter` counts inputs only the regex accepts (a lone trailing character,
 * which encodes no byte).
 */
export function agreeOnRandomInputs(n: number): { looser: number; stricter: number; differentBytes: number } {
  let looser = 0;
  let stricter = 0;
  let differentBytes = 0;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ %\n';
  for (let i = 0; i < n; i++) {
    const len = Math.floor(Math.random() * 12);
    let raw = '';
    for (let j = 0; j < len; j++) raw += alphabet[Math.floor(Math.random() * (Math.random() < 0.9 ? 64 : alphabet.length))];
    const a = decodeWithRegex(raw);
    const b = decodeWithLengthCheck(raw);
    if (a === undefined && b !== undefined) looser += 1;
    else if (a !== undefined && b === undefined) {
      const pad = raw.endsWith('==') ? 2 : raw.endsWith('=') ? 1 : 0;
      if ((raw.length - pad) % 4 === 1) stricter += 1;
      else looser += 1_000_000; // an unexplained refusal: make it impossible to miss
    } else if (a && b && !a.equals(b)) differentBytes += 1;
  }
  return { looser, stricter, differentBytes };
}

async function main(): Promise<void> {
  for (const s of SAMPLES) {
    const a = decodeWithRegex(s.raw) !== undefined;
    const b = decodeWithLengthCheck(s.raw) !== undefined;
    console.log(JSON.stringify(s.raw).padEnd(12), 'regex', a, 'length-check', b, a === b ? '' : '(differs)');
  }
  console.log('random inputs (200,000):', JSON.stringify(agreeOnRandomInputs(200_000)));
  for (const bytes of [240_000, 2_400_000]) {
    const raw = mulawAudio(bytes).toString('base64');
    const timed = await timeSideBySide([
      { name: 'regex + decode', run: () => decodeWithRegex(raw) },
      { name: 'decode + length check', run: () => decodeWithLengthCheck(raw) },
      { name: 'decode + length (url-safe ok)', run: () => decodeWithLengthCheckUrlSafe(raw) },
      { name: 'decode only', run: () => Buffer.from(raw, 'base64') },
    ], { batch: bytes > 1e6 ? 5 : 40, rounds: 15, warmup: 20 });
    const base = timed[3]?.ms ?? Number.NaN;
    for (const t of timed) console.log(`${bytes} B`, t.name.padEnd(30), fmtMs(t.ms), fmtRatio(t.ms / base));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
