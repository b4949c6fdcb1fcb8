// Recovery codes for a lost second factor: 16 characters of Crockford base32 (80 random bits), so a
// plain SHA-256 is a sufficient stored form. They are typed by hand: case, spaces and dashes do not
// matter, and the letters people confuse with digits read as those digits.

import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function generateRecoveryCodes(count: number): string[] {
  return Array.from({ length: count }, () => {
    const bytes = randomBytes(16);
    const chars = Array.from(bytes, (b) => ALPHABET[b & 31]).join('');
    return chars.match(/.{4}/g)!.join('-');
  });
}

export function normalRecoveryCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
}

export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(`recovery-code:${normalRecoveryCode(code)}`).digest('hex');
}
