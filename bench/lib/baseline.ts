// The baseline of the redemption benchmarks: the ledger's essential work and nothing else. A
// guarded balance update with a hold row, then its capture, in plain SQL through `pg`; and the
// card sequence tills follow, shared by the baseline and the project run so both see the same
// row-lock contention.

import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { Operation } from './load.ts';

/**
 * Which card till `till` redeems next. Tills mostly redeem their own customers' cards (90%,
 * round robin) and sometimes another till's (10%, random): there is occasional row-lock
 * contention, as when a card is used in two shops at once, but no single hot row that would
 * make the benchmark measure lock waits instead of the engine. Seeded per till, so the
 * baseline and the project run see the same card sequence.
 */
export function cardPicker(till: number, cardsPerTerminal: number, totalCards: number): () => number {
  let state = (till + 1) * 0x9e3779b9;
  const random = () => { // mulberry32
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
  let next = 0;
  return () => random() < 0.1
    ? Math.floor(random() * totalCards)
    : till * cardsPerTerminal + (next++ % cardsPerTerminal);
}

export async function seedBaseline(pool: pg.Pool, cards: number, cardBalance: number): Promise<void> {
  await pool.query(`
    DROP TABLE IF EXISTS bench_holds, bench_cards;
    CREATE TABLE bench_cards (
      id int PRIMARY KEY,
      available bigint NOT NULL CHECK (available >= 0),
      held bigint NOT NULL DEFAULT 0 CHECK (held >= 0));
    CREATE TABLE bench_holds (
      id bigserial PRIMARY KEY,
      card_id int NOT NULL REFERENCES bench_cards,
      amount bigint NOT NULL,
      status text NOT NULL DEFAULT 'authorized',
      created_at timestamptz NOT NULL DEFAULT now());`);
  await pool.query('INSERT INTO bench_cards (id, available) SELECT g, $2 FROM generate_series(0, $1 - 1) g', [cards, cardBalance]);
}

/** Two transactions per op, like authorize and capture; named prepared statements, like the Ledger. */
export function baselineOp(pool: pg.Pool, pickers: (() => number)[], amount: number): Operation {
  return async (i) => {
    const card = pickers[i]!();
    const db = await pool.connect();
    try {
      const t0 = performance.now();
      await db.query('BEGIN');
      const hold = await db.query({ name: 'b_hold', text: 'INSERT INTO bench_holds (card_id, amount) VALUES ($1, $2) RETURNING id', values: [card, amount] });
      const guarded = await db.query({
        name: 'b_authorize',
        text: 'UPDATE bench_cards SET available = available - $2, held = held + $2 WHERE id = $1 AND available >= $2',
        values: [card, amount],
      });
      if (guarded.rowCount !== 1) {
        await db.query('ROLLBACK');
        throw new Error(`baseline: card ${card} has insufficient funds`);
      }
      await db.query('COMMIT');
      const authorize = performance.now() - t0;

      await db.query('BEGIN');
      const settled = await db.query({
        name: 'b_settle', text: `UPDATE bench_holds SET status = 'captured' WHERE id = $1 AND status = 'authorized'`, values: [hold.rows[0].id],
      });
      await db.query({ name: 'b_capture', text: 'UPDATE bench_cards SET held = held - $2 WHERE id = $1', values: [card, amount] });
      if (settled.rowCount !== 1) {
        await db.query('ROLLBACK');
        throw new Error('baseline: hold already settled');
      }
      await db.query('COMMIT');
      return { authorize };
    } catch (err) {
      await db.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      db.release();
    }
  };
}
