import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';

/**
 * Normalize a vendor phone number to E.164 when it is a valid number: a number
 * that is merely the right length (`06 12 34 56 79` read with region US is
 * +10612345679, no one's number) is not made E.164 and stays verbatim.
 * Returns undefined for empty input and for masked numbers that carry no digits
 * we could trust (`XXXXXXXX`, `+1XXXXXX1234`): those are kept verbatim by the
 * caller only if it wants to, never guessed at.
 */
export function toE164(input: string | undefined, defaultRegion: string): string | undefined {
  if (input === undefined) return undefined;
  const trimmed = input.trim();
  if (trimmed === '' || /[xX*]/.test(trimmed)) return undefined;
  if (!/^[+()\d\s.-]{3,32}$/.test(trimmed)) return undefined;
  const parsed = parsePhoneNumberFromString(trimmed, defaultRegion.toUpperCase() as CountryCode);
  if (!parsed || !parsed.isValid()) return undefined;
  return parsed.number;
}

/** Whether a stored number is a valid E.164 number (and so belongs in the phone index). */
export function isValidE164(value: string | undefined): value is string {
  return value !== undefined && /^\+\d{6,15}$/.test(value) && toE164(value, 'US') === value;
}

/**
 * The number as we store it: E.164 when valid, otherwise the vendor's string
 * when it looks like a (possibly masked) number, otherwise undefined.
 */
export function normalizePhone(input: string | undefined, defaultRegion: string): string | undefined {
  const e164 = toE164(input, defaultRegion);
  if (e164) return e164;
  const trimmed = input?.trim();
  if (!trimmed || trimmed.length > 32 || !/^[+()\dxX*\s.-]+$/.test(trimmed)) return undefined;
  return trimmed;
}

/** For display and logs: all but the last two digits hidden. */
export function maskPhone(value: string | undefined): string {
  if (!value) return '';
  const digits = value.replace(/\D/g, '');
  if (digits.length <= 2) return '•'.repeat(value.length);
  return `${value.startsWith('+') ? '+' : ''}${'•'.repeat(Math.max(0, digits.length - 2))}${digits.slice(-2)}`;
}
