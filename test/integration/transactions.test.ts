// The portal's transaction table and the actions support takes from its detail pages.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { call, issueCard, posRef, startHarness, type Harness } from '../helpers/harness.ts';
import { signIn, trpc, type PortalAuth } from '../helpers/portal.ts';

let h: Harness;
let support: PortalAuth;
let staffB: PortalAuth;
let finance: PortalAuth;
const password = 'transactions test password';

beforeAll(async () => {
  h = await startHarness();
  const make = async (role: 'support' | 'store_staff' | 'finance', storeId: string | null = null) => {
    const user = await h.deps.users.create({ email: `${role}-${randomUUID().slice(0, 6)}@centre.test`, displayName: role, role, storeId, password });
    return signIn(h, user.email, password);
  };
  support = await make('support');
  staffB = await make('store_staff', h.storeB);
  finance = await make('finance');
});
afterAll(async () => {
  await h?.close();
});

const withKey = (auth: PortalAuth) => ({ ...auth });

async function redeem(code: string, amount: number, key = h.terminalA.apiKey) {
  const hold = await call(h, 'POST', '/v1/redemptions', { key, body: { code, amount, currency: 'EUR', posReference: posRef() } });
  return hold.body.id as string;
}

/**
 * A card whose last four characters no other card in the suite's shared database has: the filters
 * below find cards by them, and a card of another test file with the same four (one in about a
 * million per card, thousands of cards) would show up in their results.
 */
async function issueCardWithOwnLast4(amount: number) {
  for (;;) {
    const card = await issueCard(h, amount);
    const last4 = card.code.replace(/-/g, '').slice(-4);
    const { rows: [same] } = await h.deps.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM cards WHERE code_last4 = $1', [last4.toUpperCase()]);
    if (same!.n === 1) return { card, last4 };
  }
}

describe('transactions', () => {
  it('filters by store, type, card and amount on the server, and pages with a cursor', async () => {
    const { card, last4 } = await issueCardWithOwnLast4(5_000);
    const holdA = await redeem(card.code, 700);
    await call(h, 'POST', `/v1/redemptions/${holdA}/capture`, { body: {} });
    const holdB = await redeem(card.code, 300, h.terminalB.apiKey);

    const byCard = await trpc(h, 'query', 'transactions.list', { cardLast4: last4.toLowerCase(), ascending: true }, support);
    expect(byCard.data.transactions.map((t: any) => [t.type, t.amount])).toEqual([
      ['sale', 5_000], ['authorization', 700], ['redemption', 700], ['authorization', 300],
    ]);
    expect(byCard.data.transactions[2]).toMatchObject({ cardId: card.id, storeId: h.storeA, holdId: holdA, holdStatus: 'captured', billingPartyId: h.billingPartyId });

    const redemptions = await trpc(h, 'query', 'transactions.list', { cardLast4: last4, types: ['redemption'] }, support);
    expect(redemptions.data.transactions).toHaveLength(1);
    const big = await trpc(h, 'query', 'transactions.list', { cardLast4: last4, minAmount: 600, maxAmount: 800 }, support);
    expect(big.data.transactions.map((t: any) => t.amount)).toEqual([700, 700]);
    const open = await trpc(h, 'query', 'transactions.list', { cardLast4: last4, holdStatus: 'authorized' }, support);
    expect(open.data.transactions.map((t: any) => t.holdId)).toEqual([holdB]);

    // Pages of one, newest first, follow each other without gaps or repeats.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await trpc(h, 'query', 'transactions.list', { cardLast4: last4, limit: 1, cursor }, support);
      seen.push(...page.data.transactions.map((t: any) => t.entryId));
      cursor = page.data.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(byCard.data.transactions.map((t: any) => t.entryId).reverse());

    // Store staff see their store only, whatever they ask for.
    const staff = await trpc(h, 'query', 'transactions.list', { cardLast4: last4 }, staffB);
    expect(staff.data.transactions.map((t: any) => t.storeId)).toEqual([h.storeB]);
    expect((await trpc(h, 'query', 'transactions.list', { storeId: h.storeA }, staffB)).code).toBe('forbidden');
    const detail = await trpc(h, 'query', 'transactions.get', { entryId: byCard.data.transactions[2].entryId }, staffB);
    expect(detail.code).toBe('not_found');

    // The same filter exports as CSV, for the session's role.
    const exportAs = (auth: PortalAuth | null, query: string) => fetch(`${h.baseUrl}/v1/backoffice/transactions.csv?${query}`, {
      headers: auth?.cookie ? { cookie: auth.cookie } : {},
    });
    const csv = await exportAs(support, `cardLast4=${last4}&types=authorization,redemption`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('x-total-rows')).toBe('3');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('booked_at,entry_id,type,billing_party,store,terminal_id,card_last4,hold_status,currency,amount_minor,amount');
    expect(lines.slice(1).map((l) => l.split(',')[2]).sort()).toEqual(['authorization', 'authorization', 'redemption']);
    const staffCsv = await (await exportAs(staffB, `cardLast4=${last4}`)).text();
    expect(staffCsv.trim().split('\r\n')).toHaveLength(2);
    expect((await exportAs(null, '')).status).toBe(401);
    expect((await exportAs(support, 'minAmount=abc')).status).toBe(400);

    for (const bad of [{ minAmount: 5, maxAmount: 1 }, { cursor: 'garbage' }, { types: ['nonsense'] }, { cardLast4: 'ABCDE' }, { limit: 1000 }, { from: 'yesterday' }]) {
      const res = await trpc(h, 'query', 'transactions.list', bad, support);
      expect([res.status, res.code], JSON.stringify(bad)).toEqual([400, 'validation_error']);
    }
  });

  it('sorts by amount either way, pages through ties without gaps, and refuses a cursor from another order', async () => {
    const { card, last4 } = await issueCardWithOwnLast4(9_000);
    // Two holds of the same amount: the entry id breaks the tie, so no page repeats or skips one.
    for (const amount of [400, 1_500, 400, 2_500]) await call(h, 'POST', `/v1/redemptions/${await redeem(card.code, amount)}/capture`, { body: {} });

    const all = async (filter: Record<string, unknown>) => {
      const rows: { entryId: string; amount: number }[] = [];
      let cursor: string | undefined;
      do {
        const page = await trpc(h, 'query', 'transactions.list', { ...filter, cardLast4: last4, limit: 2, cursor }, support);
        expect(page.status, JSON.stringify(page.code)).toBe(200);
        rows.push(...page.data.transactions);
        cursor = page.data.nextCursor ?? undefined;
      } while (cursor);
      return rows;
    };
    const { rows: expected } = await h.deps.db.pool.query<{ id: string; amount: string }>(
      `SELECT e.id, e.amount FROM journal_entries e WHERE e.card_id = $1 ORDER BY e.amount DESC, e.id DESC`, [card.id]);
    const largestFirst = await all({ sort: 'amount' });
    expect(largestFirst.map((t) => t.entryId)).toEqual(expected.map((r) => r.id));
    expect(largestFirst.map((t) => t.amount)).toEqual([9_000, 2_500, 2_500, 1_500, 1_500, 400, 400, 400, 400]);
    const smallestFirst = await all({ sort: 'amount', ascending: true });
    expect(smallestFirst.map((t) => t.entryId)).toEqual(expected.map((r) => r.id).reverse());
    // A party's page is merged from its stores' pages: the same order, across pages.
    const { rows: partyRows } = await h.deps.db.pool.query<{ id: string }>(
      `SELECT e.id FROM journal_entries e JOIN stores s ON s.id = e.store_id
        WHERE e.card_id = $1 AND s.billing_party_id = $2 ORDER BY e.amount DESC, e.id DESC`, [card.id, h.billingPartyId]);
    expect(partyRows.length).toBeGreaterThan(2);
    expect((await all({ sort: 'amount', billingPartyId: h.billingPartyId })).map((t) => t.entryId)).toEqual(partyRows.map((r) => r.id));
    expect((await all({ billingPartyId: h.billingPartyId, ascending: true })).map((t) => t.entryId)).toEqual(partyRows.map((r) => r.id).sort((a, b) => Number(a) - Number(b)));
    const redemptionsOver1000 = await all({ sort: 'amount', types: ['redemption'], minAmount: 1_000 });
    expect(redemptionsOver1000.map((t) => t.amount)).toEqual([2_500, 1_500]);

    // The stored amount is what the postings say, for every entry of the ledger.
    expect(await h.deps.ledger.violations()).toEqual([]);

    const page = await trpc(h, 'query', 'transactions.list', { cardLast4: last4, limit: 1 }, support);
    const wrongOrder = await trpc(h, 'query', 'transactions.list', { cardLast4: last4, limit: 1, sort: 'amount', cursor: page.data.nextCursor }, support);
    expect([wrongOrder.status, wrongOrder.code]).toEqual([400, 'validation_error']);
    expect((await trpc(h, 'query', 'transactions.list', { sort: 'store' }, support)).code).toBe('validation_error');

    const csv = await (await fetch(`${h.baseUrl}/v1/backoffice/transactions.csv?cardLast4=${last4}&sort=amount&ascending=true`, {
      headers: { cookie: support.cookie! },
    })).text();
    expect(csv.trim().split('\r\n').slice(1).map((l) => Number(l.split(',')[9]))).toEqual([400, 400, 400, 400, 1_500, 1_500, 2_500, 2_500, 9_000]);
  });

  it('shows one transaction with its balanced postings, and a card with its whole history', async () => {
    const card = await issueCard(h, 2_000);
    const hold = await redeem(card.code, 500);
    const history = await trpc(h, 'query', 'transactions.card', { cardId: card.id }, finance);
    expect(history.data).toMatchObject({ cardId: card.id, available: 1_500, held: 500, status: 'active' });
    expect(history.data.history.map((t: any) => t.type)).toEqual(['sale', 'authorization']);
    const auth = await trpc(h, 'query', 'transactions.get', { entryId: history.data.history[1].entryId }, finance);
    expect(auth.data).toMatchObject({ type: 'authorization', holdId: hold, amount: 500 });
    expect(auth.data.postings.reduce((n: number, p: any) => n + p.amount, 0)).toBe(0);
  });

  it('refunds a redemption, voids and captures holds, and blocks a card: by role, audited, balances updated', async () => {
    const card = await issueCard(h, 3_000);
    const captured = await redeem(card.code, 1_000);
    await call(h, 'POST', `/v1/redemptions/${captured}/capture`, { body: {} });

    // Finance may look, not act; refunds need an Idempotency-Key.
    expect((await trpc(h, 'mutation', 'transactions.refund', { holdId: captured }, finance)).code).toBe('forbidden');
    expect((await trpc(h, 'mutation', 'transactions.refund', { holdId: captured }, support)).code).toBe('idempotency_key_required');

    const key = randomUUID();
    const refund = async () => {
      const res = await fetch(`${h.baseUrl}/trpc/transactions.refund`, {
        method: 'POST', body: JSON.stringify({ holdId: captured, amount: 400 }),
        headers: { 'content-type': 'application/json', cookie: support.cookie!, 'x-csrf-token': support.csrf!, 'idempotency-key': key },
      });
      return (await res.json() as any).result.data;
    };
    expect(await refund()).toMatchObject({ status: 'captured', cardAvailable: 2_400, replayed: false });
    expect(await refund()).toMatchObject({ cardAvailable: 2_400, replayed: true }); // the same key refunds once
    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } });
    expect(lookup.body.card.available).toBe(2_400);

    // Store staff act on holds at their own store only.
    const atB = await redeem(card.code, 200, h.terminalB.apiKey);
    const atA = await redeem(card.code, 100);
    const voidAs = (auth: PortalAuth, holdId: string) => fetch(`${h.baseUrl}/trpc/transactions.void`, {
      method: 'POST', body: JSON.stringify({ holdId }),
      headers: { 'content-type': 'application/json', cookie: auth.cookie!, 'x-csrf-token': auth.csrf!, 'idempotency-key': randomUUID() },
    }).then(async (r) => ({ status: r.status, body: await r.json() as any }));
    expect((await voidAs(staffB, atA)).body.error.data.appCode).toBe('hold_not_found');
    expect((await voidAs(staffB, atB)).body.result.data).toMatchObject({ status: 'voided', cardAvailable: 2_300 });

    // Blocking shows at the till at once (the cache is replaced) and refuses new redemptions.
    const blocked = await trpc(h, 'mutation', 'transactions.setCardBlocked', { cardId: card.id, blocked: true }, withKey(support));
    expect(blocked.data).toEqual({ cardId: card.id, status: 'blocked', changed: true });
    expect((await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } })).body.card.status).toBe('blocked');
    const refused = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 100, currency: 'EUR', posReference: posRef() } });
    expect(refused.body.error.code).toBe('card_blocked');
    await trpc(h, 'mutation', 'transactions.setCardBlocked', { cardId: card.id, blocked: false }, support);
    expect((await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } })).body.card.status).toBe('active');

    const { rows } = await h.deps.db.pool.query(
      `SELECT action FROM audit_entries WHERE subject IN ($1, $2, $3) ORDER BY id`, [`hold:${captured}`, `hold:${atB}`, `card:${card.id}`]);
    // The till's own operations are in the log as well (the ledger writes them with the change).
    expect(rows.map((r) => r.action)).toEqual([
      'card_issued', 'redemption_authorized', 'hold_captured', 'redemption_refunded', 'redemption_refunded',
      'redemption_authorized', 'hold_voided', 'card_blocked', 'card_unblocked',
    ]);
    const ledger = await h.deps.ledger.violations();
    expect(ledger).toEqual([]);
  });
});
