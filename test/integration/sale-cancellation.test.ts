// Cancelling a sale in the ledger: the card's value goes back to the sale's source, the card is
// blocked, the ledger stays balanced, and clearing, reports and the dashboard net the cancellation
// against the sale. Only an untouched card can be cancelled; the call is idempotent.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dailyFigures } from '../../services/stats.ts';
import { call, issueCard, posRef, startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

const key = () => ({ scope: 'test', key: randomUUID() });

async function postingsOf(entryId: string) {
  const { rows } = await h.deps.db.pool.query<{ account_kind: string; account_ref: string; amount: string }>(
    'SELECT account_kind, account_ref, amount FROM postings WHERE entry_id = $1 ORDER BY amount', [entryId]);
  return rows.map((r) => [r.account_kind, r.account_ref, Number(r.amount)]);
}

describe('sale cancellation', () => {
  it('returns a till sale to its store, blocks the card, and nets against sales everywhere', async () => {
    const started = new Date(Date.now() - 1_000);
    const kept = await issueCard(h, 1_000);
    const card = await issueCard(h, 4_000);
    const idem = key();
    const cancelled = await h.deps.ledger.cancelSale(idem, card.id);
    expect(cancelled).toMatchObject({ cardId: card.id, status: 'blocked', available: 0, amount: 4_000 });
    expect(cancelled).not.toHaveProperty('replayed');
    expect(await postingsOf(cancelled.entryId)).toEqual([['card_available', card.id, -4_000], ['store_sales', h.storeA, 4_000]]);
    // The same request again answers the same, without a second entry.
    expect(await h.deps.ledger.cancelSale(idem, card.id)).toEqual({ ...cancelled, replayed: true });
    const { rows: [{ n }] } = await h.deps.db.pool.query(`SELECT count(*)::int AS n FROM journal_entries WHERE card_id = $1`, [card.id]);
    expect(n).toBe(2);
    expect(await h.deps.ledger.violations()).toEqual([]);

    // Clearing's movements and positions for this party: one sale left, 10.00 EUR.
    const { rows: positions } = await h.deps.db.pool.query(
      `SELECT p.sales_count::int, p.sales_amount::int, p.net::int
         FROM ledger_positions_of((SELECT jsonb_agg(m) FROM ledger_movements($1, now() + interval '1 second') m WHERE m.party_key = $2)) p
        WHERE p.party_key = $2`, [started, h.billingPartyId]);
    expect(positions).toEqual([{ sales_count: 1, sales_amount: 1_000, net: -1_000 }]);

    // The dashboard's figures for the store agree.
    const today = new Date().toLocaleDateString('en-CA', { timeZone: h.config.clearingTimeZone });
    const days = await dailyFigures(h.deps.db.pool, h.config.clearingTimeZone, { from: today, to: today, storeId: h.storeA });
    expect(days.map((d) => [d.salesCount, Number(d.sales)])).toEqual([[1, 1_000]]);

    // The cancelled card no longer pays; the other one does.
    const refused = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 100, currency: 'EUR', posReference: posRef() } });
    expect([refused.status, refused.body.error.code]).toEqual([422, 'card_blocked']);
    expect((await call(h, 'POST', '/v1/cards/lookup', { body: { code: kept.code } })).body.card.available).toBe(1_000);
  });

  it('refuses a card used since its sale, an unknown card and a reused key, and changes nothing', async () => {
    const card = await issueCard(h, 2_000);
    await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 500, currency: 'EUR', posReference: posRef() } });
    await expect(h.deps.ledger.cancelSale(key(), card.id)).rejects.toMatchObject({ code: 'card_in_use' });
    await expect(h.deps.ledger.cancelSale(key(), randomUUID())).rejects.toMatchObject({ code: 'card_not_found' });
    const other = await issueCard(h, 700);
    const idem = key();
    await h.deps.ledger.cancelSale(idem, other.id);
    await expect(h.deps.ledger.cancelSale(idem, card.id)).rejects.toMatchObject({ code: 'idempotency_key_reused' });
    const { rows: [state] } = await h.deps.db.pool.query('SELECT status, available::int, held::int FROM cards WHERE id = $1', [card.id]);
    expect(state).toEqual({ status: 'active', available: 1_500, held: 500 });
    expect(await h.deps.ledger.violations()).toEqual([]);
  });
});
