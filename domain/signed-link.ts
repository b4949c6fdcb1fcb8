// Links that carry their own authorization: `?expires=<unix s>&sig=<hmac>`, where the signature
// covers the purpose, the subject and the expiry, so none of them can be altered.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError } from './errors.ts';

function signature(key: Buffer, purpose: string, subject: string, expires: number): string {
  return createHmac('sha256', key).update(`${purpose}:${subject}:${expires}`).digest('base64url');
}

/** The query string (without '?') that authorizes `subject` for `purpose` until now + ttl. */
export function signLink(key: Buffer, purpose: string, subject: string, ttlSeconds: number, now = Date.now()): string {
  const expires = Math.floor(now / 1000) + ttlSeconds;
  return `expires=${expires}&sig=${signature(key, purpose, subject, expires)}`;
}

export function verifyLink(
  key: Buffer, purpose: string, subject: string, expires: string | undefined, sig: string | undefined, expiredHint: string,
): void {
  const when = Number(expires);
  if (!sig || !Number.isSafeInteger(when)) throw new DomainError('invalid_signature', 'this download link is not valid');
  const expected = Buffer.from(signature(key, purpose, subject, when));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new DomainError('invalid_signature', 'this download link is not valid');
  }
  if (when * 1000 < Date.now()) throw new DomainError('link_expired', `this download link has expired; ${expiredHint}`);
}
