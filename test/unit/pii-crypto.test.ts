import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { isSealed, parsePiiKeys, PiiCipher } from '../../domain/pii-crypto.ts';
import { loadConfig } from '../../infra/config.ts';

const key = () => randomBytes(32).toString('base64');
const A = `a1:${key()}`;
const B = `b2:${key()}`;
const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('personal data sealing', () => {
  it('seals with a fresh IV under the last listed key and opens under any listed key', () => {
    const a = new PiiCipher(A);
    const sealed = a.seal('Anna@Example.test');
    expect(sealed).toMatch(/^pii:a1:/);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('Anna');
    expect(a.seal('Anna@Example.test')).not.toBe(sealed);
    expect(a.open(sealed)).toBe('Anna@Example.test');

    const ab = new PiiCipher(`${A},${B}`);
    expect(ab.currentKeyId).toBe('b2');
    expect(ab.open(sealed)).toBe('Anna@Example.test');
    expect(ab.isCurrent(sealed)).toBe(false);
    expect(ab.isCurrent(ab.seal('x'))).toBe(true);
    expect(() => new PiiCipher(B).open(sealed)).toThrow(/a1, which is not configured/);
  });

  it('refuses a sealed value that was altered', () => {
    const a = new PiiCipher(A);
    const parts = a.seal('someone@example.test').split(':');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0]! ^= 1;
    parts[3] = body.toString('base64url');
    expect(() => a.open(parts.join(':'))).toThrow();
  });

  it('finds an address by a keyed hash of its normalised form, under every configured key', () => {
    const a = new PiiCipher(A);
    const ab = new PiiCipher(`${A},${B}`);
    expect(a.lookupHash(' Anna@Example.TEST ')).toBe(a.lookupHash('anna@example.test'));
    expect(a.lookupHash('anna@example.test')).not.toContain('anna');
    expect(ab.lookupHashes('anna@example.test')).toEqual([ab.lookupHash('anna@example.test'), a.lookupHash('anna@example.test')]);
    expect(new PiiCipher(`x9:${key()}`).lookupHash('anna@example.test')).not.toBe(a.lookupHash('anna@example.test'));
  });

  it('passes values stored in clear before encryption through, for re-encryption to seal', () => {
    expect(new PiiCipher(A).open('legacy@example.test')).toBe('legacy@example.test');
    expect(new PiiCipher(A).openNullable(null)).toBeNull();
  });

  it('refuses malformed keys and the development key in production', () => {
    expect(() => parsePiiKeys('')).toThrow(/at least one key/);
    expect(() => parsePiiKeys('nokey')).toThrow(/<version>:<base64>/);
    expect(() => parsePiiKeys(`v1:${randomBytes(16).toString('base64')}`)).toThrow(/at least 32 bytes/);
    expect(() => parsePiiKeys(`v1:${key()},v1:${key()}`)).toThrow(/distinct/);
    process.env = { ...saved, PII_KEYS: 'v1:short' };
    expect(() => loadConfig()).toThrow(/PII_KEYS/);
    process.env = {
      ...saved, APP_MODE: 'production', CARD_CODE_KEY: 'a-real-secret-of-enough-length', STRIPE_SECRET_KEY: 'sk_live_x',
      STRIPE_WEBHOOK_SECRET: 'whsec_real', DATABASE_URL: 'postgresql://app@db.internal/voucher', PUBLIC_URL: 'https://vouchers.example',
    };
    delete process.env.PII_KEYS;
    delete process.env.PAYMENT_PROVIDER;
    expect(() => loadConfig()).toThrow(/PII_KEYS is the development key/);
    process.env.PII_KEYS = A;
    expect(loadConfig().privacy.piiKeys).toBe(A);
  });
});
