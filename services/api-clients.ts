// Back-office API clients (`vb_…` keys): created, listed, rotated, given an expiry and revoked by
// admins in the portal. A key is shown once, when created or rotated; the database keeps its SHA-256.
// A key is derived from the server secret and the call's Idempotency-Key, so a retried create or
// rotate answers with the same key instead of minting a second one, and nothing stores the key.

import { createHmac } from 'node:crypto';
import type pg from 'pg';
import { apiKeyLast4, BACKOFFICE_KEY_PREFIX, hashApiKey } from '../domain/api-key.ts';
import { DomainError } from '../domain/errors.ts';

export type ApiClientRole = 'admin' | 'finance' | 'billing_party';

export interface ApiClientView {
  id: string;
  name: string;
  role: ApiClientRole;
  billingPartyId: string | null;
  apiKeyLast4: string;
  createdAt: string;
  rotatedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  status: 'active' | 'expired' | 'revoked';
}

interface Row {
  id: string; name: string; role: ApiClientRole; billing_party_id: string | null; api_key_hash: string; api_key_last4: string;
  created_at: Date; rotated_at: Date | null; expires_at: Date | null; revoked_at: Date | null;
}

function view(r: Row): ApiClientView {
  const status = r.revoked_at ? 'revoked' : r.expires_at && r.expires_at <= new Date() ? 'expired' : 'active';
  return {
    id: r.id, name: r.name, role: r.role, billingPartyId: r.billing_party_id, apiKeyLast4: r.api_key_last4,
    createdAt: r.created_at.toISOString(), rotatedAt: r.rotated_at?.toISOString() ?? null,
    expiresAt: r.expires_at?.toISOString() ?? null, revokedAt: r.revoked_at?.toISOString() ?? null, status,
  };
}

/** The valid client (unrevoked, unexpired) an API key (by its SHA-256) belongs to. */
export async function apiClientByKeyHash(pool: pg.Pool, keyHash: string) {
  const { rows } = await pool.query<{ id: string; name: string; role: ApiClientRole; billing_party_id: string | null; expires_at: Date | null }>(
    `SELECT id, name, role, billing_party_id, expires_at FROM api_clients
      WHERE api_key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`, [keyHash]);
  return rows[0];
}

export class ApiClientAdmin {
  constructor(private readonly pool: pg.Pool, private readonly deriveKey: Buffer) {}

  private keyFor(purpose: string, idempotencyKey: string): string {
    const mac = createHmac('sha256', this.deriveKey).update(`backoffice-api-key/v1|${purpose}|${idempotencyKey}`).digest();
    return BACKOFFICE_KEY_PREFIX + mac.subarray(0, 24).toString('base64url');
  }

  async list(): Promise<ApiClientView[]> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM api_clients ORDER BY revoked_at IS NOT NULL, name, created_at LIMIT 5000');
    return rows.map(view);
  }

  async create(idempotencyKey: string, p: { name: string; role: ApiClientRole; billingPartyId: string | null; validDays: number | null }): Promise<{ client: ApiClientView; apiKey: string }> {
    if ((p.role === 'billing_party') !== Boolean(p.billingPartyId)) {
      throw new DomainError('validation_error', 'a billing_party client belongs to exactly one billing party; other roles to none');
    }
    const apiKey = this.keyFor('create', idempotencyKey);
    const hash = hashApiKey(apiKey);
    const { rowCount: retired } = await this.pool.query('SELECT 1 FROM api_clients WHERE $1 = ANY (retired_key_hashes)', [hash]);
    if (retired) throw new DomainError('idempotency_key_reused', 'the key this Idempotency-Key created was rotated since');
    try {
      await this.pool.query(
        `INSERT INTO api_clients (id, name, role, billing_party_id, api_key_hash, api_key_last4, expires_at)
         VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, CASE WHEN $6::int IS NULL THEN NULL ELSE now() + make_interval(days => $6) END)
         ON CONFLICT (api_key_hash) DO NOTHING`,
        [p.name, p.role, p.billingPartyId, hash, apiKeyLast4(apiKey), p.validDays]);
    } catch (err) {
      if ((err as { code?: string }).code === '23503') throw new DomainError('not_found', 'no such billing party');
      throw err;
    }
    const { rows: [row] } = await this.pool.query<Row>('SELECT * FROM api_clients WHERE api_key_hash = $1', [hash]);
    if (!row || row.name !== p.name || row.role !== p.role || row.billing_party_id !== p.billingPartyId) {
      throw new DomainError('idempotency_key_reused', 'this Idempotency-Key was used for another API client');
    }
    return { client: view(row), apiKey };
  }

  /**
   * A new key for the client; the old one stops working at once, on every replica. Retired keys
   * are remembered, so replaying an old rotation (or the creation) cannot bring a key back.
   */
  async rotate(idempotencyKey: string, clientId: string): Promise<{ client: ApiClientView; apiKey: string }> {
    const apiKey = this.keyFor(`rotate|${clientId}`, idempotencyKey);
    const hash = hashApiKey(apiKey);
    const { rows: [rotated] } = await this.pool.query<Row>(
      `UPDATE api_clients SET api_key_hash = $2, api_key_last4 = $3, rotated_at = now(),
              retired_key_hashes = retired_key_hashes || api_key_hash
        WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
          AND api_key_hash <> $2 AND NOT ($2 = ANY (retired_key_hashes)) RETURNING *`,
      [clientId, hash, apiKeyLast4(apiKey)]);
    if (rotated) return { client: view(rotated), apiKey };
    const { rows: [current] } = await this.pool.query<Row & { retired_key_hashes: string[] }>('SELECT * FROM api_clients WHERE id = $1', [clientId]);
    if (current && !current.revoked_at && current.api_key_hash === hash) return { client: view(current), apiKey };
    if (current?.retired_key_hashes.includes(hash)) throw new DomainError('idempotency_key_reused', 'this rotation was replaced by a later one');
    throw new DomainError('not_found', 'no active API client with this id (revoked and expired ones cannot be rotated)');
  }

  async revoke(clientId: string): Promise<ApiClientView> {
    const { rows: [row] } = await this.pool.query<Row>(
      'UPDATE api_clients SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING *', [clientId]);
    if (!row) throw new DomainError('not_found', 'no such API client');
    return view(row);
  }

  /** Moves the expiry (null: none); a key past its expiry is refused like a revoked one. */
  async setExpiry(clientId: string, validDays: number | null): Promise<ApiClientView> {
    const { rows: [row] } = await this.pool.query<Row>(
      `UPDATE api_clients SET expires_at = CASE WHEN $2::int IS NULL THEN NULL ELSE now() + make_interval(days => $2) END
        WHERE id = $1 AND revoked_at IS NULL RETURNING *`, [clientId, validDays]);
    if (!row) throw new DomainError('not_found', 'no active API client with this id');
    return view(row);
  }
}
