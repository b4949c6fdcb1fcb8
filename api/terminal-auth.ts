// Authenticates POS terminals by API key. Keys are looked up by their SHA-256; results are
// cached in-process so the hot path does not pay a query per call, but only while the key-change
// listener is live: a revoked key stops working on every replica within about a second.

import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { hashApiKey, looksLikeApiKey } from '../domain/api-key.ts';
import { terminalByKeyHash } from '../services/directory.ts';
import type { KeyChangeListener } from '../infra/key-changes.ts';

export interface TerminalIdentity {
  terminalId: string;
  storeId: string;
  billingPartyId: string;
  holdTtlSeconds: number;
}

const CACHE_TTL_MS = 30_000;
const MISSING = 'missing' as const;

export class TerminalDirectory {
  private readonly cache = new LRUCache<string, TerminalIdentity | typeof MISSING>({
    max: 10_000,
    ttl: CACHE_TTL_MS,
  });

  /** Without a listener (tools, benchmarks) nothing is cached. */
  constructor(private readonly pool: pg.Pool, private readonly changes: KeyChangeListener | null = null) {
    changes?.onChange((change) => {
      if (!change) this.cache.clear();
      else if (change.table === 'terminals') this.cache.delete(change.keyHash);
    });
  }

  async authenticate(apiKey: string): Promise<TerminalIdentity | null> {
    if (!looksLikeApiKey(apiKey)) return null;
    const hash = hashApiKey(apiKey);
    const cacheable = this.changes?.live === true;
    const cached = cacheable ? this.cache.get(hash) : undefined;
    if (cached) return cached === MISSING ? null : cached;
    const row = await terminalByKeyHash(this.pool, hash);
    const identity: TerminalIdentity | null = row
      ? { terminalId: row.terminal_id, storeId: row.store_id, billingPartyId: row.billing_party_id,
          holdTtlSeconds: row.hold_ttl_seconds }
      : null;
    if (cacheable) this.cache.set(hash, identity ?? MISSING);
    return identity;
  }

  forget(apiKey: string): void {
    this.cache.delete(hashApiKey(apiKey));
  }

  /** Drops a revoked terminal from this process's cache at once (all replicas hear of it through the listener too). */
  forgetTerminal(terminalId: string): void {
    for (const [hash, identity] of this.cache.entries()) {
      if (identity !== MISSING && identity.terminalId === terminalId) this.cache.delete(hash);
    }
  }
}
