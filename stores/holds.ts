// Plain reads of holds for back-office actions on a redemption. Holds change only through the
// ledger's SQL functions (services/ledger.ts); nothing here writes.

import type pg from 'pg';

export async function holdOwner(pool: pg.Pool, holdId: string): Promise<{ store_id: string; card_id: string } | undefined> {
  const { rows } = await pool.query<{ store_id: string; card_id: string }>(
    'SELECT store_id, card_id FROM holds WHERE id = $1', [holdId]);
  return rows[0];
}

/** The hold a till's redemption placed, by the till's own reference. */
export async function holdByPosReference(
  pool: pg.Pool, terminalId: string, posReference: string,
): Promise<{ id: string; store_id: string; status: string } | undefined> {
  const { rows } = await pool.query<{ id: string; store_id: string; status: string }>(
    'SELECT id, store_id, status FROM holds WHERE terminal_id = $1 AND pos_reference = $2', [terminalId, posReference]);
  return rows[0];
}
