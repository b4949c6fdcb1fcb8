// Authenticates back-office API clients (finance systems, admins, billing parties fetching their
// statements) by API key, like terminals: keys are looked up by SHA-256 and cached while the
// key-change listener is live, so a revoked, rotated or expired key stops working on every replica
// within about a second.

import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { BACKOFFICE_KEY_PREFIX, hashApiKey, looksLikeApiKey } from '../domain/api-key.ts';
import { apiClientByKeyHash } from '../services/api-clients.ts';
import type { PortalUser } from '../services/users.ts';
import type { KeyChangeListener } from '../infra/key-changes.ts';

/** API clients are admin, finance or billing_party; portal users admin, finance, support or store_staff. */
export type BackofficeRole = 'admin' | 'finance' | 'support' | 'store_staff' | 'billing_party';

export interface BackofficePrincipal {
  kind: 'api_client' | 'user';
  /** The API client's or the user's id. */
  clientId: string;
  name: string;
  role: BackofficeRole;
  /** Set for the billing_party role: the only party it may see. */
  billingPartyId: string | null;
  /** Set for store staff: the only store they may see. */
  storeId: string | null;
}

export function principalOfUser(user: PortalUser): BackofficePrincipal {
  return { kind: 'user', clientId: user.userId, name: user.displayName, role: user.role, billingPartyId: null, storeId: user.storeId };
}

const CACHE_TTL_MS = 30_000;

export class ApiClientDirectory {
  private readonly cache = new LRUCache<string, BackofficePrincipal>({ max: 1_000, ttl: CACHE_TTL_MS });

  /** Without a listener (tools, benchmarks) nothing is cached. */
  constructor(private readonly pool: pg.Pool, private readonly changes: KeyChangeListener | null = null) {
    changes?.onChange((change) => {
      if (!change) this.cache.clear();
      else if (change.table === 'api_clients') this.cache.delete(change.keyHash);
    });
  }

  async authenticate(apiKey: string): Promise<BackofficePrincipal | null> {
    if (!looksLikeApiKey(apiKey, BACKOFFICE_KEY_PREFIX)) return null;
    const hash = hashApiKey(apiKey);
    const cacheable = this.changes?.live === true;
    const cached = cacheable ? this.cache.get(hash) : undefined;
    if (cached) return cached;
    const row = await apiClientByKeyHash(this.pool, hash);
    const principal: BackofficePrincipal | null = row
      ? { kind: 'api_client', clientId: row.id, name: row.name, role: row.role, billingPartyId: row.billing_party_id, storeId: null }
      : null;
    // An entry lives no longer than its key: expiry needs no notice. Unknown keys are not cached,
    // so a key that becomes valid again (a renewed expiry) works at once.
    const ttl = row?.expires_at ? Math.min(CACHE_TTL_MS, row.expires_at.getTime() - Date.now()) : CACHE_TTL_MS;
    if (cacheable && principal && ttl > 0) this.cache.set(hash, principal, { ttl });
    return principal;
  }

  /** Drops a changed client from this process's cache at once, before the notice comes back. */
  forgetClient(clientId: string): void {
    for (const [hash, principal] of this.cache.entries()) {
      if (principal.clientId === clientId) this.cache.delete(hash);
    }
  }
}

/** Whether the principal may see this billing party's figures and documents. */
export function maySeeParty(principal: BackofficePrincipal, billingPartyId: string): boolean {
  return principal.role !== 'billing_party' || principal.billingPartyId === billingPartyId;
}
