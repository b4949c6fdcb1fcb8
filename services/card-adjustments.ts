// Adjustment requests that wait for a second back-office user (four eyes). This module alone reads
// and writes card_adjustment_requests; the ledger books the approved ones.

import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { DomainError } from '../domain/errors.ts';
import { audit } from './audit.ts';
import type { Ledger } from './ledger.ts';

export type AdjustmentStatus = 'pending' | 'approved' | 'refused' | 'expired' | 'booked' | 'failed';

export interface AdjustmentRequest {
  id: string;
  cardId: string;
  currency: string;
  amount: number;
  reason: string;
  requestedBy: string;
  requestedByName: string;
  status: AdjustmentStatus;
  decidedByName: string | null;
  decidedAt: string | null;
  entryId: string | null;
  failure: string | null;
  expiresAt: string;
  createdAt: string;
}

interface Row {
  id: string; card_id: string; currency: string; amount: string; reason: string; requested_by: string; requested_by_name: string;
  idempotency_scope: string; idempotency_key: string; status: AdjustmentStatus; decided_by: string | null; decided_by_name: string | null;
  decided_at: Date | null; entry_id: string | null; failure: string | null; expires_at: Date; created_at: Date;
}

function view(r: Row): AdjustmentRequest {
  return {
    id: r.id, cardId: r.card_id, currency: r.currency, amount: Number(r.amount), reason: r.reason, requestedBy: r.requested_by,
    requestedByName: r.requested_by_name, status: r.status, decidedByName: r.decided_by_name,
    decidedAt: r.decided_at?.toISOString() ?? null, entryId: r.entry_id, failure: r.failure,
    expiresAt: r.expires_at.toISOString(), createdAt: r.created_at.toISOString(),
  };
}

/** Who asks or decides: a stable identity (kind:id) and the name the log shows. */
export interface Requester {
  identity: string;
  name: string;
}

export class CardAdjustments {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Records a request under the caller's Idempotency-Key: the same key returns the same request,
   * the same key with another body is refused. Returns whether it is new (its workflow to start).
   */
  async request(p: { cardId: string; amount: bigint; reason: string; by: Requester; scope: string; key: string; waitHours: number }): Promise<{ request: AdjustmentRequest; created: boolean }> {
    const card = await this.pool.query<{ currency: string; status: string }>('SELECT currency, status FROM cards WHERE id = $1', [p.cardId]);
    if (!card.rows[0]) throw new DomainError('card_not_found', 'no such card');
    if (!['active', 'blocked'].includes(card.rows[0].status)) {
      throw new DomainError('invalid_card_transition', `a ${card.rows[0].status} card cannot be adjusted`);
    }
    const id = randomUUID();
    const inserted = await this.pool.query<Row>(
      `INSERT INTO card_adjustment_requests (id, card_id, currency, amount, reason, requested_by, requested_by_name,
         idempotency_scope, idempotency_key, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now() + make_interval(hours => $10))
       ON CONFLICT (idempotency_scope, idempotency_key) DO NOTHING RETURNING *`,
      [id, p.cardId, card.rows[0].currency, p.amount, p.reason, p.by.identity, p.by.name, p.scope, p.key, p.waitHours]);
    if (inserted.rows[0]) {
      await audit(this.pool, { actor: p.by.name, action: 'card_adjustment_requested', subject: `card:${p.cardId}`,
        details: { adjustmentId: id, amount: Number(p.amount), reason: p.reason } });
      return { request: view(inserted.rows[0]), created: true };
    }
    const { rows: [prior] } = await this.pool.query<Row>(
      'SELECT * FROM card_adjustment_requests WHERE idempotency_scope = $1 AND idempotency_key = $2', [p.scope, p.key]);
    if (!prior || prior.card_id !== p.cardId || BigInt(prior.amount) !== p.amount || prior.reason !== p.reason) {
      throw new DomainError('idempotency_key_reused', 'this idempotency key was already used with a different request');
    }
    return { request: view(prior), created: false };
  }

  async get(id: string): Promise<AdjustmentRequest | null> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM card_adjustment_requests WHERE id = $1', [id]);
    return rows[0] ? view(rows[0]) : null;
  }

  async list(p: { status?: AdjustmentStatus; cardId?: string; limit: number }): Promise<AdjustmentRequest[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM card_adjustment_requests WHERE ($1::adjustment_status IS NULL OR status = $1) AND ($2::uuid IS NULL OR card_id = $2)
        ORDER BY created_at DESC LIMIT $3`, [p.status ?? null, p.cardId ?? null, p.limit]);
    return rows.map(view);
  }

  /**
   * Records the second user's decision. Refused for the requester (four eyes), once decided, and
   * past the deadline. Deciding the same way again by the same user answers as the first time.
   */
  async decide(id: string, approve: boolean, by: Requester): Promise<AdjustmentRequest> {
    const status: AdjustmentStatus = approve ? 'approved' : 'refused';
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows: [row] } = await client.query<Row>('SELECT * FROM card_adjustment_requests WHERE id = $1 FOR UPDATE', [id]);
      if (!row) throw new DomainError('adjustment_not_found', 'no such adjustment request');
      if (row.requested_by === by.identity) {
        throw new DomainError('same_approver', 'an adjustment needs a second person: you requested this one');
      }
      if (row.status !== 'pending') {
        const same = row.decided_by === by.identity && (row.status === status || (approve && (row.status === 'booked' || row.status === 'failed')));
        if (same) {
          await client.query('COMMIT');
          return view(row);
        }
        throw new DomainError('adjustment_not_pending', `the adjustment is already ${row.status}`);
      }
      if (row.expires_at.getTime() <= Date.now()) throw new DomainError('adjustment_not_pending', 'the adjustment waited too long for its approval and has expired');
      const { rows: [updated] } = await client.query<Row>(
        `UPDATE card_adjustment_requests SET status = $2, decided_by = $3, decided_by_name = $4, decided_at = now()
          WHERE id = $1 RETURNING *`, [id, status, by.identity, by.name]);
      await audit(client, { actor: by.name, action: approve ? 'card_adjustment_approved' : 'card_adjustment_refused',
        subject: `card:${row.card_id}`, details: { adjustmentId: id, amount: Number(row.amount) } });
      await client.query('COMMIT');
      return view(updated!);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * The workflow's last step: books an approved request through the ledger (under a key of its
   * own, so a retried step books once), closes a refused one, and expires one still pending when
   * `deadlinePassed`. A ledger refusal (the card changed meanwhile) marks the request failed.
   */
  async settle(id: string, deadlinePassed: boolean, ledger: Ledger, maxBalance: bigint): Promise<{ status: AdjustmentStatus; entryId: string | null }> {
    if (deadlinePassed) {
      await this.pool.query(`UPDATE card_adjustment_requests SET status = 'expired', decided_at = now() WHERE id = $1 AND status = 'pending'`, [id]);
    }
    const { rows: [row] } = await this.pool.query<Row>('SELECT * FROM card_adjustment_requests WHERE id = $1', [id]);
    if (!row) throw new DomainError('adjustment_not_found', 'no such adjustment request');
    if (row.status !== 'approved') return { status: row.status, entryId: row.entry_id };
    try {
      const booked = await ledger.adjustCard(
        { scope: 'system:card-adjustments', key: row.id, actor: row.decided_by_name ?? 'system' },
        { cardId: row.card_id, amount: BigInt(row.amount), maxBalance, reason: row.reason,
          details: { adjustmentId: row.id, requestedBy: row.requested_by_name, approvedBy: row.decided_by_name } });
      await this.pool.query(`UPDATE card_adjustment_requests SET status = 'booked', entry_id = $2 WHERE id = $1`, [id, booked.entryId]);
      return { status: 'booked', entryId: String(booked.entryId) };
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      await this.pool.query(`UPDATE card_adjustment_requests SET status = 'failed', failure = $2 WHERE id = $1`, [id, `${err.code}: ${err.message}`]);
      return { status: 'failed', entryId: null };
    }
  }
}
