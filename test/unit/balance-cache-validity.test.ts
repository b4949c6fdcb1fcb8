// A cached balance with value held is true only until the soonest of its holds expires: the
// ledger counts that hold as released from then on, so the cache must not serve it.

import { describe, expect, it } from 'vitest';
import { servable, type CachedBalance } from '../../services/balance-cache.ts';
import { toCached } from '../../services/card-view.ts';
import type { CardSnapshot } from '../../services/ledger.ts';

const NOW = Date.parse('2026-11-30T12:00:00.000Z');

function card(held: number, nextHoldExpiry?: string | null): CardSnapshot {
  return {
    cardId: 'c1', codeHash: 'h', last4: 'ABCD', currency: 'EUR', status: 'active', available: 1_000, held,
    version: 3, expiresAt: '2029-01-01T00:00:00.000Z', ...(nextHoldExpiry === undefined ? {} : { nextHoldExpiry }),
  };
}

describe('balance cache validity', () => {
  it('serves a balance without held value for as long as Redis keeps it', () => {
    expect(servable(toCached(card(0)), NOW)).toBe(true);
    expect(servable(toCached(card(0, null)), NOW)).toBe(true);
  });

  it('serves a balance with held value until its soonest hold expiry, not at or after it', () => {
    const cached = toCached(card(500, '2026-11-30T12:00:01.500Z'));
    expect(cached.validUntil).toBe('2026-11-30T12:00:01.500Z');
    expect(servable(cached, NOW)).toBe(true);
    expect(servable(cached, Date.parse('2026-11-30T12:00:01.499Z'))).toBe(true);
    expect(servable(cached, Date.parse('2026-11-30T12:00:01.500Z'))).toBe(false);
    expect(servable(cached, Date.parse('2026-11-30T12:05:00.000Z'))).toBe(false);
  });

  it('never serves held value the ledger gave no expiry for (or an entry written before validUntil existed)', () => {
    expect(servable(toCached(card(500)), NOW)).toBe(false);
    expect(servable(toCached(card(500, null)), NOW)).toBe(false);
    const old: CachedBalance = { cardId: 'c1', last4: 'ABCD', currency: 'EUR', status: 'active', available: '1000', held: '500', version: '2', expiresAt: '2029-01-01T00:00:00.000Z' };
    expect(servable(old, NOW)).toBe(false);
  });
});
