// Voucher card codes: 16 characters of Crockford base32, the last one a Luhn mod 32 check
// character. 75 random bits make guessing hopeless; the check character rejects every single
// mistyped character, and every swap of two adjacent ones except "0Z" <-> "Z0" (Luhn's one blind
// spot), before a lookup is made.
// Codes are secrets: the server keeps only an HMAC of the code and its last four characters.

import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const BASE = ALPHABET.length;
export const CODE_LENGTH = 16;

/** Readers confuse these; Crockford decoding maps them to the symbol they were meant to be. */
const ALIASES: Record<string, string> = { O: '0', I: '1', L: '1' };

function checkCharacter(payload: string): string {
  // Luhn mod N: double every second value from the right, sum the digits in base N.
  let factor = 2;
  let sum = 0;
  for (let i = payload.length - 1; i >= 0; i--) {
    let addend = factor * ALPHABET.indexOf(payload[i]!);
    factor = factor === 2 ? 1 : 2;
    addend = Math.floor(addend / BASE) + (addend % BASE);
    sum += addend;
  }
  return ALPHABET[(BASE - (sum % BASE)) % BASE]!;
}

/**
 * A code derived from a secret and an operation's identity (terminal + idempotency key, or an
 * order id). A retried sale therefore gets the same code back without the code ever being
 * stored, and the code stays unguessable without the secret.
 */
export function deriveCardCode(secret: string | Buffer, ...identity: string[]): string {
  const digest = createHmac('sha256', secret).update(identity.join('\u0000')).digest();
  let payload = '';
  for (let i = 0; i < CODE_LENGTH - 1; i++) payload += ALPHABET[digest[i]! % BASE];
  return payload + checkCharacter(payload);
}

export function generateCardCode(): string {
  let payload = '';
  for (let i = 0; i < CODE_LENGTH - 1; i++) payload += ALPHABET[randomInt(BASE)];
  return payload + checkCharacter(payload);
}

/** Upper-cases, drops spaces and dashes, maps look-alikes; returns null unless it is a valid code. */
export function normalizeCardCode(input: string): string | null {
  const compact = input.toUpperCase().replace(/[\s-]/g, '');
  let normalized = '';
  for (const ch of compact) {
    const mapped = ALIASES[ch] ?? ch;
    if (!ALPHABET.includes(mapped)) return null;
    normalized += mapped;
  }
  if (normalized.length !== CODE_LENGTH) return null;
  const payload = normalized.slice(0, -1);
  return checkCharacter(payload) === normalized.at(-1) ? normalized : null;
}

/** Whether the input is shaped like one of our codes (alphabet and length), check character aside. */
export function hasCardCodeShape(input: string): boolean {
  const compact = input.toUpperCase().replace(/[\s-]/g, '');
  return compact.length === CODE_LENGTH && [...compact].every((ch) => ALPHABET.includes(ALIASES[ch] ?? ch));
}

export function isValidCardCode(input: string): boolean {
  return normalizeCardCode(input) !== null;
}

/** "ABCD-EFGH-JKMN-PQRS": grouped for reading aloud and printing. */
export function formatCardCode(code: string): string {
  return code.match(/.{1,4}/g)!.join('-');
}

export function cardCodeLast4(code: string): string {
  return code.slice(-4);
}

/** Keyed hash so a stolen database does not reveal codes, and codes cannot be brute-forced offline. */
export function hashCardCode(normalizedCode: string, key: string | Buffer): string {
  return createHmac('sha256', key).update(normalizedCode).digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
