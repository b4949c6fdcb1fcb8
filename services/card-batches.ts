// Scratch-card batches: this module alone reads and writes card_batches and creates batch cards.
// Cards are written set-based (one INSERT ... SELECT FROM unnest per chunk), all pending: no value,
// no journal entry, so nothing counts in liability or clearing until a till activates a card.

import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { batchActivationCode, batchCardCode, batchSerial } from '../domain/card-batch-codes.ts';
import { cardCodeLast4, hashCardCode } from '../domain/card-code.ts';
import { DomainError } from '../domain/errors.ts';
import { audit } from './audit.ts';

export type BatchStatus = 'generating' | 'awaiting_approval' | 'approved' | 'cancelled' | 'voided';

export interface CardBatch {
  id: string;
  number: number;
  count: number;
  faceValue: number | null;
  currency: string;
  expiresAt: string;
  issuingStoreId: string | null;
  issuingPartyId: string | null;
  status: BatchStatus;
  generated: number;
  createdByName: string;
  decidedByName: string | null;
  decidedAt: string | null;
  csvExportedAt: string | null;
  pdfExportedAt: string | null;
  voidedAt: string | null;
  createdAt: string;
  /** Cards by state, once generated: pending (unsold), active, deactivated, ... */
  cards: Record<string, number>;
}

interface Row {
  id: string; number: string; card_count: number; face_value: string | null; currency: string; expires_at: Date;
  issuing_store_id: string | null; issuing_party_id: string | null; serial_prefix: string; status: BatchStatus; generated: number;
  created_by: string; created_by_name: string; idempotency_scope: string; idempotency_key: string; decided_by: string | null;
  decided_by_name: string | null; decided_at: Date | null; csv_exported_at: Date | null; pdf_exported_at: Date | null;
  voided_at: Date | null; created_at: Date;
}

function view(r: Row, cards: Record<string, number> = {}): CardBatch {
  return {
    id: r.id, number: Number(r.number), count: r.card_count, faceValue: r.face_value === null ? null : Number(r.face_value),
    currency: r.currency, expiresAt: r.expires_at.toISOString(), issuingStoreId: r.issuing_store_id, issuingPartyId: r.issuing_party_id,
    status: r.status, generated: r.generated, createdByName: r.created_by_name, decidedByName: r.decided_by_name,
    decidedAt: r.decided_at?.toISOString() ?? null, csvExportedAt: r.csv_exported_at?.toISOString() ?? null,
    pdfExportedAt: r.pdf_exported_at?.toISOString() ?? null, voidedAt: r.voided_at?.toISOString() ?? null, createdAt: r.created_at.toISOString(),
    cards,
  };
}

export interface Person {
  identity: string;
  name: string;
}

export interface PrintRow {
  seq: number;
  serial: string;
  code: string;
  activationCode: string;
}

/** Cards written per statement: big enough to be set-based, small enough to report progress. */
export const GENERATION_CHUNK = 10_000;

export class CardBatches {
  constructor(private readonly pool: pg.Pool, private readonly secrets: { hashKey: Buffer; deriveKey: Buffer }) {}

  async create(p: {
    count: number; faceValue: number | null; currency: string; validityDays: number; issuingStoreId: string | null;
    issuingPartyId: string | null; serialPrefix: string; by: Person; scope: string; key: string;
  }): Promise<{ batch: CardBatch; created: boolean }> {
    const id = randomUUID();
    try {
      const { rows: [row] } = await this.pool.query<Row>(
        `INSERT INTO card_batches (id, card_count, face_value, currency, expires_at, issuing_store_id, issuing_party_id, serial_prefix,
           created_by, created_by_name, idempotency_scope, idempotency_key)
         VALUES ($1, $2, $3, $4, now() + make_interval(days => $5), $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (idempotency_scope, idempotency_key) DO NOTHING RETURNING *`,
        [id, p.count, p.faceValue, p.currency, p.validityDays, p.issuingStoreId, p.issuingPartyId, p.serialPrefix, p.by.identity, p.by.name, p.scope, p.key]);
      if (row) {
        await audit(this.pool, { actor: p.by.name, action: 'card_batch_created', subject: `card_batch:${id}`,
          details: { count: p.count, faceValue: p.faceValue, currency: p.currency, validityDays: p.validityDays, issuingStoreId: p.issuingStoreId, issuingPartyId: p.issuingPartyId } });
        return { batch: view(row), created: true };
      }
    } catch (err) {
      if ((err as { code?: string }).code === '23503') throw new DomainError('not_found', 'no such issuing store or party');
      throw err;
    }
    const { rows: [prior] } = await this.pool.query<Row>('SELECT * FROM card_batches WHERE idempotency_scope = $1 AND idempotency_key = $2', [p.scope, p.key]);
    if (!prior || prior.card_count !== p.count || prior.currency !== p.currency || (prior.face_value === null ? null : Number(prior.face_value)) !== p.faceValue) {
      throw new DomainError('idempotency_key_reused', 'this idempotency key was already used with a different request');
    }
    return { batch: view(prior), created: false };
  }

  async get(id: string): Promise<CardBatch | null> {
    const { rows: [row] } = await this.pool.query<Row>('SELECT * FROM card_batches WHERE id = $1', [id]);
    if (!row) return null;
    const { rows } = await this.pool.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM cards WHERE batch_id = $1 GROUP BY status', [id]);
    return view(row, Object.fromEntries(rows.map((r) => [r.status, r.n])));
  }

  async list(limit: number): Promise<CardBatch[]> {
    const { rows } = await this.pool.query<Row>('SELECT * FROM card_batches ORDER BY created_at DESC LIMIT $1', [limit]);
    return rows.map((r) => view(r));
  }

  private async row(id: string): Promise<Row> {
    const { rows: [row] } = await this.pool.query<Row>('SELECT * FROM card_batches WHERE id = $1', [id]);
    if (!row) throw new DomainError('not_found', 'no such card batch');
    return row;
  }

  /** The cards of positions [from, to): codes, serials and activation codes derived, written in one statement. */
  private printRows(row: Row, from: number, to: number, digits: number): PrintRow[] {
    const out: PrintRow[] = [];
    for (let seq = from; seq < to; seq++) {
      out.push({
        seq, serial: batchSerial(row.serial_prefix, Number(row.number), seq),
        code: batchCardCode(this.secrets.deriveKey, row.id, seq),
        activationCode: batchActivationCode(this.secrets.deriveKey, row.id, seq, digits),
      });
    }
    return out;
  }

  /**
   * Writes the batch's next chunk of cards; returns how many exist afterwards. Safe to repeat:
   * a chunk written before a crash is skipped by its (batch, position) key.
   */
  async generateNextChunk(id: string, digits: number): Promise<{ generated: number; count: number }> {
    const row = await this.row(id);
    if (row.status !== 'generating') return { generated: row.generated, count: row.card_count };
    const from = row.generated + 1;
    const to = Math.min(row.card_count + 1, from + GENERATION_CHUNK);
    const cards = this.printRows(row, from, to, digits);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO cards (id, code_hash, code_last4, currency, status, available, expires_at, issuing_store_id, channel,
           face_value, batch_id, batch_seq, serial, activation_code)
         SELECT gen_random_uuid(), h, l, $1, 'pending', 0, $2, $3, 'pos', $4, $5, s, r, a
           FROM unnest($6::text[], $7::text[], $8::int[], $9::text[], $10::text[]) AS t(h, l, s, r, a)
         ON CONFLICT (batch_id, batch_seq) WHERE batch_id IS NOT NULL DO NOTHING`,
        [row.currency, row.expires_at, row.issuing_store_id, row.face_value, row.id,
          cards.map((c) => hashCardCode(c.code, this.secrets.hashKey)), cards.map((c) => cardCodeLast4(c.code)),
          cards.map((c) => c.seq), cards.map((c) => c.serial), cards.map((c) => c.activationCode)]);
      await client.query('UPDATE card_batches SET generated = $2 WHERE id = $1', [id, to - 1]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
    return { generated: to - 1, count: row.card_count };
  }

  async markGenerated(id: string): Promise<void> {
    await this.pool.query(`UPDATE card_batches SET status = 'awaiting_approval' WHERE id = $1 AND status = 'generating'`, [id]);
  }

  /** The system owner's decision: refused for the batch's creator and once decided. */
  async decide(id: string, approve: boolean, by: Person): Promise<CardBatch> {
    const row = await this.row(id);
    if (row.created_by === by.identity) throw new DomainError('same_approver', 'a batch needs a second person: you created this one');
    const { rows: [updated] } = await this.pool.query<Row>(
      `UPDATE card_batches SET status = $2, decided_by = $3, decided_by_name = $4, decided_at = now()
        WHERE id = $1 AND status = 'awaiting_approval' RETURNING *`, [id, approve ? 'approved' : 'cancelled', by.identity, by.name]);
    if (!updated) {
      if (row.decided_by === by.identity && row.status === (approve ? 'approved' : 'cancelled')) return (await this.get(id))!;
      throw new DomainError('batch_not_awaiting_approval', `the batch is ${row.status}`);
    }
    await audit(this.pool, { actor: by.name, action: approve ? 'card_batch_approved' : 'card_batch_refused', subject: `card_batch:${id}` });
    if (!approve) await this.closeUnsold(id);
    return (await this.get(id))!;
  }

  /** Cancels a batch that waited too long (no decision); a decided one stays as it is. */
  async expire(id: string): Promise<BatchStatus> {
    const { rowCount } = await this.pool.query(
      `UPDATE card_batches SET status = 'cancelled', decided_at = now() WHERE id = $1 AND status IN ('awaiting_approval', 'generating')`, [id]);
    if (rowCount) {
      await audit(this.pool, { actor: 'system', action: 'card_batch_expired', subject: `card_batch:${id}` });
      await this.closeUnsold(id);
    }
    return (await this.row(id)).status;
  }

  /** Pending cards of the batch are deactivated: they hold nothing, so no value moves. */
  private async closeUnsold(id: string): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE cards SET status = 'deactivated', version = version + 1, updated_at = now() WHERE batch_id = $1 AND status = 'pending'`, [id]);
    return rowCount ?? 0;
  }

  /** Voids a batch's unsold cards (all of them when none was sold); sold cards stay as they are. */
  async void(id: string, by: Person, reason: string): Promise<{ batch: CardBatch; voided: number }> {
    const row = await this.row(id);
    if (row.status === 'generating') throw new DomainError('batch_not_awaiting_approval', 'the batch is still being generated');
    const voided = await this.closeUnsold(id);
    await this.pool.query(`UPDATE card_batches SET status = 'voided', voided_at = coalesce(voided_at, now()) WHERE id = $1`, [id]);
    await audit(this.pool, { actor: by.name, action: 'card_batch_voided', subject: `card_batch:${id}`, details: { voided, reason } });
    return { batch: (await this.get(id))!, voided };
  }

  /**
   * The print file's rows, once per format: the first call marks the format exported (audited)
   * and gets the codes; every later call is refused, and only serials are shown from then on.
   */
  async exportOnce(id: string, format: 'csv' | 'pdf', by: Person, digits: number): Promise<{ batch: Row; rows: PrintRow[] }> {
    const column = format === 'csv' ? 'csv_exported_at' : 'pdf_exported_at';
    const { rows: [row] } = await this.pool.query<Row>(
      `UPDATE card_batches SET ${column} = now() WHERE id = $1 AND status = 'approved' AND ${column} IS NULL RETURNING *`, [id]);
    if (!row) {
      const now = await this.row(id);
      if (now.status !== 'approved') throw new DomainError('batch_not_approved', `the batch is ${now.status}; only an approved batch is printed`);
      throw new DomainError('batch_already_exported', `the ${format.toUpperCase()} print file was exported already; only serials are shown now`);
    }
    await audit(this.pool, { actor: by.name, action: 'card_batch_exported', subject: `card_batch:${id}`, details: { format, cards: row.card_count } });
    return { batch: row, rows: this.printRows(row, 1, row.card_count + 1, digits) };
  }

  async serials(id: string, after: number, limit: number): Promise<{ seq: number; serial: string; status: string; cardId: string }[]> {
    const { rows } = await this.pool.query<{ batch_seq: number; serial: string; status: string; id: string }>(
      'SELECT batch_seq, serial, status, id FROM cards WHERE batch_id = $1 AND batch_seq > $2 ORDER BY batch_seq LIMIT $3', [id, after, limit]);
    return rows.map((r) => ({ seq: r.batch_seq, serial: r.serial, status: r.status, cardId: r.id }));
  }

  async findBySerial(serial: string): Promise<{ cardId: string; batchId: string; serial: string; status: string; available: number; currency: string; activationCode: string } | null> {
    const { rows: [r] } = await this.pool.query<{ id: string; batch_id: string; serial: string; status: string; available: string; currency: string; activation_code: string }>(
      'SELECT id, batch_id, serial, status, available, currency, activation_code FROM cards WHERE serial = $1', [serial.trim().toUpperCase()]);
    return r ? { cardId: r.id, batchId: r.batch_id, serial: r.serial, status: r.status, available: Number(r.available), currency: r.currency, activationCode: r.activation_code } : null;
  }
}
