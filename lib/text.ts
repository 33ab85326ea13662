/**
 * Stored and received data is hostile when it reaches a terminal: a newline can
 * forge a "Status:" line, ESC sequences rewrite the screen, a bidi override
 * (U+202E) reverses what follows, zero-width characters hide in ids. Every tool
 * prints such data through these two functions, so each value stays on the
 * line it began and every invisible character is shown as `\uXXXX`.
 */

/**
 * What is made visible: C0 controls (newline and tab included), DEL, C1
 * controls, the bidi marks, embeddings, overrides and isolates (U+061C,
 * U+200E/F, U+202A–E, U+2066–9), zero-width and invisible characters (U+200B–D,
 * U+2060–4, U+FEFF, U+180E, soft hyphen), the line and paragraph separators
 * (U+2028/9) and lone surrogates.
 */
const REST = '\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff';
const LONE_SURROGATE = '[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]';
const INVISIBLE = new RegExp(`[\u0000-\u001f${REST}]|${LONE_SURROGATE}`, 'g');
/** Inside JSON.stringify's output C0 controls are already escaped; a raw newline there is indentation. */
const INVISIBLE_IN_JSON = new RegExp(`[${REST}]`, 'g');

const escape = (ch: string): string => `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0').toUpperCase()}`;

/** One printable line: every control, C1, bidi, zero-width character and lone surrogate as `\uXXXX`. */
export function oneLine(text: string): string {
  return text.replace(INVISIBLE, escape);
}

/**
 * JSON for a terminal or a pipe: JSON.stringify already escapes C0 controls;
 * this escapes the rest of the same set (C1, bidi, zero-width, U+2028/9) as
 * `\uXXXX` too, so the output parses back to the same value.
 */
export function safeJson(value: unknown, indent?: number): string {
  return (JSON.stringify(value, null, indent) ?? 'null').replace(INVISIBLE_IN_JSON, escape);
}

/** The same characters made visible, newlines kept: for a viewer that shows multi-line text (the inbox page). */
const INVISIBLE_BUT_NEWLINE = new RegExp(`[\\u0000-\\u0009\\u000b-\\u001f${REST}]|${LONE_SURROGATE}`, 'g');

export function visibleText(text: string): string {
  return text.replace(INVISIBLE_BUT_NEWLINE, escape);
}
