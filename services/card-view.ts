// What a client may see of a card, and keeping the balance cache in step with the ledger.

import type { BalanceCache, CachedBalance } from './balance-cache.ts';
import type { CardSnapshot, Ledger } from './ledger.ts';

export type CardStatus = 'pending' | 'active' | 'blocked' | 'deactivated' | 'expired';

export interface CardView {
  id: string;
  last4: string;
  currency: string;
  status: CardStatus;
  available: number;
  held: number;
  expiresAt: string;
}

export function cardView(card: CardSnapshot): CardView {
  const expired = card.status === 'active' && Date.parse(card.expiresAt) <= Date.now();
  return {
    id: card.cardId,
    last4: card.last4,
    currency: card.currency,
    status: expired ? 'expired' : (card.status as CardStatus),
    available: Number(card.available),
    held: Number(card.held),
    expiresAt: new Date(card.expiresAt).toISOString(),
  };
}

export function toCached(card: CardSnapshot): CachedBalance {
  return {
    cardId: card.cardId, last4: card.last4, currency: card.currency, status: card.status,
    available: String(card.available), held: String(card.held), version: String(card.version),
    expiresAt: new Date(card.expiresAt).toISOString(),
    // Only the ledger's own word on its holds' expiry: without it a snapshot with held value is not kept.
    ...(card.nextHoldExpiry ? { validUntil: new Date(card.nextHoldExpiry).toISOString() } : {}),
  };
}

export function fromCached(codeHash: string, cached: CachedBalance): CardSnapshot {
  return {
    cardId: cached.cardId, codeHash, last4: cached.last4, currency: cached.currency, status: cached.status,
    available: Number(cached.available), held: Number(cached.held), version: Number(cached.version),
    expiresAt: cached.expiresAt, nextHoldExpiry: cached.validUntil ?? null,
  };
}

export function cacheCard(cache: BalanceCache, card: CardSnapshot): Promise<void> {
  return cache.put(card.codeHash, toCached(card));
}

/** A card by its code's hash: the balance cache first, else the database (and the cache filled). */
export async function lookupCard(cache: BalanceCache, ledger: Pick<Ledger, 'findCardByCodeHash'>, codeHash: string): Promise<CardSnapshot | null> {
  const cached = await cache.get(codeHash);
  if (cached) return fromCached(codeHash, cached);
  const card = await ledger.findCardByCodeHash(codeHash);
  if (card) await cacheCard(cache, card);
  return card;
}
