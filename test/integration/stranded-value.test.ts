// Value on a card ends spendable or booked as breakage, never stranded: a refund onto a card whose
// expiry is booked goes to breakage, blocked cards expire too, and check:ledger reports any value
// left on a card that can no longer be spent.

import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCardActivities } from '../../activities/cards.ts';
import { call, issueCard, posRef, startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

async function breakageOf(cardId: string): Promise<number> {
  const { rows } = await h.deps.db.pool.query(
    `SELECT coalesce(sum(p.amount), 0)::int AS n FROM postings p JOIN journal_entries e ON e.id = p.entry_id
      WHERE e.card_id = $1 AND p.account_kind = 'breakage'`, [cardId]);
  return rows[0].n;
}

async function cardRow(cardId: string) {
  const { rows } = await h.deps.db.pool.query('SELECT status, available::int, held::int FROM cards WHERE id = $1', [cardId]);
  return rows[0];
}

const expireDue = () => createCardActivities({ pool: h.deps.db.pool, ledger: h.deps.ledger }).expireDueCards(500);

function checkLedger(): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/check-ledger.ts'], {
    env: { ...process.env, DATABASE_URL: inject('databaseUrl') }, encoding: 'utf8',
  });
  return { status: r.status, output: r.stdout + r.stderr };
}

describe('stranded value', () => {
  it('books a refund onto an expired card as breakage at once', async () => {
    const card = await issueCard(h, 1_000);
    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 600, currency: 'EUR', posReference: posRef() } });
    expect((await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: {} })).status).toBe(200);
    await h.deps.db.pool.query(`UPDATE cards SET expires_at = now() - interval '1 minute' WHERE id = $1`, [card.id]);
    expect((await h.deps.ledger.expireCard(card.id)).breakage).toBe(400);

    const refund = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/refunds`, { body: {}, idempotencyKey: randomUUID() });
    expect(refund.status).toBe(200);
    expect(refund.body).toMatchObject({ refundAmount: 600, card: { status: 'expired', available: 0, held: 0 } });
    expect(await cardRow(card.id)).toEqual({ status: 'expired', available: 0, held: 0 });
    expect(await breakageOf(card.id)).toBe(1_000);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });

  it('expires a blocked card past its date, and reports it as stranded until then', async () => {
    const card = await issueCard(h, 700);
    await h.deps.ledger.setCardBlocked(card.id, true);
    await h.deps.db.pool.query(`UPDATE cards SET expires_at = now() - interval '8 days' WHERE id = $1`, [card.id]);
    const stranded = (await h.deps.ledger.violations()).filter((v) => v.subject === card.id);
    expect(stranded.map((v) => v.violation)).toEqual(['stranded_value']);

    await expireDue();
    expect(await cardRow(card.id)).toEqual({ status: 'expired', available: 0, held: 0 });
    expect(await breakageOf(card.id)).toBe(700);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });

  it('sweeps value left on an expired card into breakage, and check:ledger fails while it is there', async () => {
    // Value stranded by the old refund path: an expired card that holds something.
    const card = await issueCard(h, 300);
    await h.deps.db.pool.query(`UPDATE cards SET status = 'expired', expires_at = now() - interval '1 day' WHERE id = $1`, [card.id]);
    const broken = checkLedger();
    expect(broken.status).toBe(1);
    expect(broken.output).toContain('stranded_value');
    expect(broken.output).toContain(card.id);

    const run = await expireDue();
    expect(run.breakage).toBeGreaterThanOrEqual(300);
    expect(await breakageOf(card.id)).toBe(300);
    const sound = checkLedger();
    expect(sound.output).toContain('ledger OK');
    expect(sound.status).toBe(0);
  });
});
