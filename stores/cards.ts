// Plain reads of cards and their history for the back office and the expiry sweep. Cards change
// only through the ledger's SQL functions (services/ledger.ts); nothing here writes.

import type pg from 'pg';

export interface CardActivityRow {
  entry_id: string; kind: string; booked_at: Date; currency: string; amount: string; available_change: string;
  available_after: string; held_after: string; store_id: string | null; terminal_id: string | null; hold_id: string | null;
  reason: string | null; actor: string | null; details: Record<string, unknown>;
}

export async function cardExists(pool: pg.Pool, cardId: string): Promise<boolean> {
  const { rows: [card] } = await pool.query('SELECT 1 FROM cards WHERE id = $1', [cardId]);
  return card !== undefined;
}

/** Whether the card was ever used at this store (what store staff may see). */
export async function cardUsedAtStore(pool: pg.Pool, cardId: string, storeId: string | null): Promise<boolean> {
  const { rowCount } = await pool.query(
    'SELECT 1 FROM journal_entries WHERE card_id = $1 AND store_id = $2 LIMIT 1', [cardId, storeId]);
  return Boolean(rowCount);
}

/** A card's history, newest first: up to `limit` entries older than `before`. */
export async function cardActivities(pool: pg.Pool, cardId: string, before: string | null, limit: number): Promise<CardActivityRow[]> {
  const { rows } = await pool.query<CardActivityRow>('SELECT * FROM card_activities($1, $2, $3)', [cardId, before, limit]);
  return rows;
}

/** Up to `batchSize` cards the expiry sweep has to book, soonest expiry first. */
export async function cardsDueForExpiry(pool: pg.Pool, batchSize: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    // Blocked cards expire too, and an expired card that has value on it again gives it up:
    // any other value past expiry would stay on the card, neither spendable nor breakage.
    // A deactivated card is closed already and holds nothing.
    `SELECT id FROM cards
      WHERE held = 0 AND ((status NOT IN ('expired', 'deactivated') AND expires_at <= now()) OR (status = 'expired' AND available > 0))
      ORDER BY expires_at LIMIT $1`, [batchSize]);
  return rows.map((r) => r.id);
}
