// Personal data at rest (e-mail addresses): sealed with AES-256-GCM under a versioned key, so a
// database dump or backup alone gives no one's address away. Keys come from PII_KEYS
// ("v1:<base64>,v2:<base64>"); the last one listed seals new values, every listed one opens.
// Rotating is adding a key at the end and running `npm run pii:reencrypt`; a key can be dropped
// once that has run.
//
// Addresses that must be found (a user signing in, a shopper asking to be erased) are found by a
// keyed hash (HMAC-SHA256) of the normalised address. Each key has its own hash key, and lookups
// try the hashes under every configured key, so rows not yet re-encrypted are still found.

import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'pii';
const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;

interface KeyVersion {
  id: string;
  sealKey: Buffer;
  hashKey: Buffer;
}

/** Parses PII_KEYS; throws with a message an operator can act on. */
export function parsePiiKeys(spec: string): { id: string; key: Buffer }[] {
  const keys = spec.split(',').map((part) => part.trim()).filter(Boolean).map((part) => {
    const at = part.indexOf(':');
    const id = part.slice(0, at);
    const key = Buffer.from(part.slice(at + 1), 'base64');
    if (at < 1 || !KEY_ID.test(id)) throw new Error('PII_KEYS: each key is <version>:<base64>, the version 1-16 letters, digits, - or _');
    if (key.length < 32) throw new Error(`PII_KEYS: key ${id} must be at least 32 bytes (base64 of 32 random bytes: openssl rand -base64 32)`);
    return { id, key };
  });
  if (keys.length === 0) throw new Error('PII_KEYS: at least one key is required');
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new Error('PII_KEYS: key versions must be distinct');
  return keys;
}

/** The form in which addresses are compared and found: trimmed and lower-cased. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class PiiCipher {
  private readonly keys = new Map<string, KeyVersion>();
  /** The version that seals new values. */
  readonly currentKeyId: string;

  constructor(spec: string) {
    const parsed = parsePiiKeys(spec);
    for (const { id, key } of parsed) {
      // One purpose per derived key: the same secret never both encrypts and hashes.
      const sub = (label: string) => createHmac('sha256', key).update(label).digest();
      this.keys.set(id, { id, sealKey: sub('pii-seal'), hashKey: sub('pii-lookup') });
    }
    this.currentKeyId = parsed[parsed.length - 1]!.id;
  }

  seal(plaintext: string): string {
    const key = this.keys.get(this.currentKeyId)!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.sealKey, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [PREFIX, key.id, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join(':');
  }

  /**
   * The plaintext of a sealed value. A value that is not sealed at all was written before
   * encryption was introduced and is returned as it is (`pii:reencrypt` seals it).
   */
  open(stored: string): string {
    if (!isSealed(stored)) return stored;
    const [, id, iv, body, tag] = stored.split(':');
    const key = this.keys.get(id!);
    if (!key) throw new Error(`sealed with PII key ${id}, which is not configured in PII_KEYS`);
    const decipher = createDecipheriv('aes-256-gcm', key.sealKey, Buffer.from(iv!, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body!, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** Null stays null (an erased value). */
  openNullable(stored: string | null): string | null {
    return stored === null ? null : this.open(stored);
  }

  /** Whether a stored value is sealed under the current key (else re-encryption rewrites it). */
  isCurrent(stored: string): boolean {
    return isSealed(stored) && stored.split(':')[1] === this.currentKeyId;
  }

  /** The lookup hash stored with a new value: under the current key. */
  lookupHash(email: string): string {
    return this.hashUnder(this.keys.get(this.currentKeyId)!, email);
  }

  /** Every hash the address may be stored under (one per configured key), current key first. */
  lookupHashes(email: string): string[] {
    const current = this.lookupHash(email);
    return [current, ...[...this.keys.values()].filter((k) => k.id !== this.currentKeyId).map((k) => this.hashUnder(k, email))];
  }

  private hashUnder(key: KeyVersion, email: string): string {
    return `${key.id}:${createHmac('sha256', key.hashKey).update(normaliseEmail(email)).digest('base64url')}`;
  }
}

export function isSealed(stored: string): boolean {
  return stored.startsWith(`${PREFIX}:`) && stored.split(':').length === 5;
}
