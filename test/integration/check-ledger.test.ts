// `npm run check:ledger` proves the ledger sound, and fails loudly when it is not.

import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { issueCard, startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

function checkLedger(): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-ledger.ts'], {
    env: { ...process.env, DATABASE_URL: inject('databaseUrl') }, encoding: 'utf8',
  });
  return { status: r.status, output: r.stdout + r.stderr };
}

describe('check:ledger', () => {
  it('passes on a sound ledger and fails when a card disagrees with its postings', async () => {
    const card = await issueCard(h, 1_234);
    const sound = checkLedger();
    expect(sound.output).toContain('ledger OK');
    expect(sound.status).toBe(0);

    await h.deps.db.pool.query('UPDATE cards SET available = available + 1 WHERE id = $1', [card.id]);
    try {
      const broken = checkLedger();
      expect(broken.status).toBe(1);
      expect(broken.output).toContain('card_available_mismatch');
      expect(broken.output).toContain(card.id);
    } finally {
      await h.deps.db.pool.query('UPDATE cards SET available = available - 1 WHERE id = $1', [card.id]);
    }
    expect(checkLedger().status).toBe(0);
  });

  it('cannot be broken through the ledger itself: unbalanced or rewritten postings are refused', async () => {
    const card = await issueCard(h, 500);
    const db = await h.deps.db.pool.connect();
    try {
      await db.query('BEGIN');
      const { rows: [entry] } = await db.query(
        `INSERT INTO journal_entries (kind, currency, card_id) VALUES ('load', 'EUR', $1) RETURNING id`, [card.id]);
      await expect(db.query(`INSERT INTO postings (entry_id, account_kind, account_ref, amount, currency)
                             VALUES ($1, 'card_available', $2, 100, 'EUR')`, [entry.id, card.id]))
        .rejects.toThrow(/does not balance/);
      await db.query('ROLLBACK');
    } finally {
      db.release();
    }
    const pool = h.deps.db.pool;
    await expect(pool.query(`UPDATE postings SET amount = amount + 1 WHERE account_ref = $1`, [card.id])).rejects.toThrow(/append-only/);
    await expect(pool.query(`DELETE FROM postings WHERE account_ref = $1`, [card.id])).rejects.toThrow(/append-only/);
    await expect(pool.query(`DELETE FROM journal_entries WHERE card_id = $1`, [card.id])).rejects.toThrow(/append-only/);
    await expect(pool.query('UPDATE cards SET available = -1 WHERE id = $1', [card.id])).rejects.toThrow(/cards_available_non_negative/);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });
});
