// Double spending is impossible by construction: many tills authorizing against one card at
// once can never take more than it holds.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore, createTerminal } from '../../services/directory.ts';
import { createApiClient } from '../../services/directory.ts';
import { call, issueCard, posRef, startHarness, type Harness } from '../helpers/harness.ts';
import { pendingCard } from '../helpers/pending-card.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('concurrent authorizations against one card', () => {
  it('approve exactly the affordable ones (64 at once over REST)', async () => {
    const card = await issueCard(h, 10_000);
    const terminals = [h.terminalA, h.terminalA2, h.terminalB];
    const results = await Promise.all(Array.from({ length: 64 }, (_, i) =>
      call(h, 'POST', '/v1/redemptions', {
        key: terminals[i % terminals.length]!.apiKey,
        body: { code: card.code, amount: 300, currency: 'EUR', posReference: posRef() },
      })));
    const approved = results.filter((r) => r.status === 200);
    const declined = results.filter((r) => r.status !== 200);
    expect(approved).toHaveLength(Math.floor(10_000 / 300));
    expect(declined.every((r) => r.status === 402 && r.body.error.code === 'insufficient_funds')).toBe(true);
    for (const r of approved) expect(r.body.card.available).toBeGreaterThanOrEqual(0);

    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } });
    expect(lookup.body.card).toMatchObject({ available: 10_000 - 33 * 300, held: 33 * 300 });
    expect(await h.deps.ledger.violations()).toEqual([]);
  });

  it('never overspend with mixed amounts, partial approvals and captures racing', async () => {
    const card = await issueCard(h, 20_000);
    const amounts = Array.from({ length: 64 }, (_, i) => 100 + ((i * 7919) % 1_900));
    const results = await Promise.all(amounts.map((amount, i) =>
      call(h, 'POST', '/v1/redemptions', {
        key: i % 2 ? h.terminalA.apiKey : h.terminalA2.apiKey,
        body: { code: card.code, amount, currency: 'EUR', posReference: posRef(), allowPartial: i % 4 === 0 },
      }).then(async (auth) => {
        if (auth.status === 200 && i % 3 === 0) {
          await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: {} });
        }
        return { amount, auth };
      })));
    const approvedTotal = results.reduce((sum, r) => sum + (r.auth.status === 200 ? r.auth.body.approvedAmount : 0), 0);
    expect(approvedTotal).toBeLessThanOrEqual(20_000);
    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } });
    const { available, held } = lookup.body.card;
    expect(available).toBeGreaterThanOrEqual(0);
    expect(available + held + results.reduce((s, r) =>
      s + (r.auth.status === 200 && results.indexOf(r) % 3 === 0 ? r.auth.body.approvedAmount : 0), 0)).toBe(20_000);
    // Available only shrank during the race, so anything declined did not fit then and does not fit now.
    for (const r of results) if (r.auth.status === 402) expect(r.amount).toBeGreaterThan(available);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });
});

describe('expiry racing a capture at the boundary', () => {
  it('settles each hold once: captured before its expiry, or released at it, never both', async () => {
    const store = await createStore(h.deps.db.prisma, { billingPartyId: h.billingPartyId, name: 'One-second holds', holdTtlSeconds: 1 });
    const till = await createTerminal(h.deps.db.prisma, { storeId: store.id, name: 'Boundary till' });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const CARDS = 24;
    const cards = await Promise.all(Array.from({ length: CARDS }, () => issueCard(h, 1_000)));
    const holds = await Promise.all(cards.map(async (card) => {
      const auth = await call(h, 'POST', '/v1/redemptions', {
        key: till.apiKey, body: { code: card.code, amount: 600, currency: 'EUR', posReference: posRef() } });
      expect(auth.status).toBe(200);
      return auth.body as { id: string; expiresAt: string };
    }));

    // Around each hold's expiry instant (from 400 ms before to 400 ms after): its capture, an
    // authorization of the whole card that only fits once the hold is released, a lookup, and
    // sweeps; the redemption workflows' expiry timers fire in the same window.
    const sweeping = (async () => {
      const until = Math.max(...holds.map((x) => Date.parse(x.expiresAt))) + 600;
      while (Date.now() < until) {
        await h.deps.ledger.releaseExpiredHolds(8);
        await sleep(25);
      }
    })();
    const outcomes = await Promise.all(cards.map(async (card, i) => {
      const hold = holds[i]!;
      const offset = -400 + Math.round((800 * i) / (CARDS - 1));
      await sleep(Math.max(0, Date.parse(hold.expiresAt) + offset - Date.now()));
      const [capture, reauth] = await Promise.all([
        call(h, 'POST', `/v1/redemptions/${hold.id}/capture`, { key: till.apiKey, body: {} }),
        // At a till with the usual hold time, so this hold is still there for the checks below.
        call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 1_000, currency: 'EUR', posReference: posRef() } }),
        call(h, 'POST', '/v1/cards/lookup', { key: till.apiKey, body: { code: card.code } }),
      ]);
      return { card, hold, capture, reauth };
    }));
    await sweeping;

    let captured = 0;
    let released = 0;
    for (const { card, hold, capture, reauth } of outcomes) {
      const { rows: [row] } = await h.deps.db.pool.query(
        `SELECT h.status, c.available::int, c.held::int,
                (SELECT count(*)::int FROM journal_entries e WHERE e.hold_id = h.id AND e.kind IN ('capture', 'void', 'expire_hold')) AS settlements,
                (SELECT coalesce(sum(p.amount), 0)::int FROM postings p JOIN journal_entries e ON e.id = p.entry_id
                  WHERE e.card_id = c.id AND p.account_kind = 'store_redemptions') AS redeemed
           FROM holds h JOIN cards c ON c.id = h.card_id WHERE h.id = $1`, [hold.id]);
      expect(row.settlements, 'one settlement per hold').toBeLessThanOrEqual(1);
      // Value is conserved on every card: nothing redeemed twice, nothing released and kept.
      expect(row.available + row.held + row.redeemed).toBe(1_000);
      if (capture.status === 200) {
        captured++;
        expect(row.status).toBe('captured');
        expect(row.redeemed).toBe(600);
        // The 600 are gone: the whole card cannot have been authorized again.
        expect(reauth.status, JSON.stringify(reauth.body)).toBe(402);
      } else {
        released++;
        expect(capture.status).toBe(409);
        expect(capture.body.error.code).toBe('hold_expired');
        expect(row.redeemed).toBe(0);
        // Past its expiry the hold reads expired, booked or not, and counts no more.
        const lookup = await call(h, 'POST', '/v1/cards/lookup', { key: till.apiKey, body: { code: card.code } });
        expect(lookup.body.card.available + lookup.body.card.held).toBe(1_000);
        if (reauth.status === 200) expect(lookup.body.card).toMatchObject({ available: 0, held: 1_000 });
      }
      if (reauth.status === 200) expect(capture.status, 'the whole card authorized while its hold was captured').toBe(409);
    }
    // Both sides of the boundary were hit.
    expect(captured).toBeGreaterThan(0);
    expect(released).toBeGreaterThan(0);

    // Once everything settles, every hold of these cards is booked once: captured or expired.
    await h.deps.ledger.releaseExpiredHolds(100);
    const { rows: left } = await h.deps.db.pool.query(
      `SELECT id FROM holds WHERE id = ANY($1::uuid[]) AND status = 'authorized'`, [holds.map((x) => x.id)]);
    expect(left).toEqual([]);
    const { rows: twice } = await h.deps.db.pool.query(
      `SELECT hold_id FROM journal_entries WHERE hold_id = ANY($1::uuid[]) AND kind IN ('capture', 'void', 'expire_hold')
        GROUP BY hold_id HAVING count(*) <> 1`, [holds.map((x) => x.id)]);
    expect(twice).toEqual([]);
  });
});

describe('lifecycle operations racing redemptions on the same cards', () => {
  /** The card's balance and what left it through captures: together what it started with plus what came in. */
  async function total(cardId: string): Promise<{ available: number; held: number; captured: number; breakage: number; adjusted: number }> {
    const { rows: [r] } = await h.deps.db.pool.query(
      `SELECT c.available::int, c.held::int,
              coalesce((SELECT sum(captured_amount) FROM holds WHERE card_id = c.id), 0)::int AS captured,
              coalesce((SELECT -sum(p.amount) FROM postings p JOIN journal_entries e ON e.id = p.entry_id
                         WHERE p.account_kind = 'card_available' AND p.account_ref = c.id::text AND e.kind = 'clear_balance'), 0)::int AS breakage,
              coalesce((SELECT sum(p.amount) FROM postings p JOIN journal_entries e ON e.id = p.entry_id
                         WHERE p.account_kind = 'card_available' AND p.account_ref = c.id::text AND e.kind IN ('adjust', 'transfer')), 0)::int AS adjusted
         FROM cards c WHERE c.id = $1`, [cardId]);
    return r;
  }

  it('conserve value with transfers, adjustments, clears and captures at once', async () => {
    const admin = (await createApiClient(h.deps.db.prisma, { name: 'Race admin', role: 'admin' })).apiKey;
    const a = await issueCard(h, 20_000);
    const b = await issueCard(h, 20_000);
    const c = await issueCard(h, 5_000);
    const redeem = (code: string, amount: number, i: number) => call(h, 'POST', '/v1/redemptions', {
      key: i % 2 ? h.terminalA.apiKey : h.terminalB.apiKey,
      body: { code, amount, currency: 'EUR', posReference: posRef() },
    }).then((auth) => (auth.status === 200 && i % 2 === 0
      ? call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { key: i % 2 ? h.terminalA.apiKey : h.terminalB.apiKey, body: {} })
      : auth));
    const op = (path: string, body: unknown) => call(h, 'POST', path, { key: admin, body, idempotencyKey: randomUUID() });
    const results = await Promise.all([
      ...Array.from({ length: 24 }, (_, i) => redeem(i % 2 ? a.code : b.code, 700, i)),
      ...Array.from({ length: 10 }, (_, i) => op(`/v1/cards/${i % 2 ? a.id : b.id}/transfer`, { toCardId: i % 2 ? b.id : a.id, amount: 900 })),
      ...Array.from({ length: 8 }, (_, i) => op(`/v1/cards/${a.id}/adjustments`, { direction: i % 2 ? 'up' : 'down', amount: 400, reason: 'race' })),
      ...Array.from({ length: 6 }, (_, i) => redeem(c.code, 600, i)),
      op(`/v1/cards/${c.id}/clear-balance`, { reason: 'suspicious_activity' }),
    ]);
    for (const r of results) {
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
      if (r.status !== 200) expect(['insufficient_funds', 'hold_not_authorized']).toContain(r.body.error.code);
    }
    // Every card: what it had + what came in = what it has + held + captured + cleared.
    const [ta, tb, tc] = [await total(a.id), await total(b.id), await total(c.id)];
    expect(ta.available + ta.held + ta.captured).toBe(20_000 + ta.adjusted);
    expect(tb.available + tb.held + tb.captured).toBe(20_000 + tb.adjusted);
    expect(tc.available + tc.held + tc.captured + tc.breakage).toBe(5_000);
    // Transfers only move value: what a and b gained from each other sums to zero.
    const { rows: [{ transferred }] } = await h.deps.db.pool.query(
      `SELECT coalesce(sum(p.amount), 0)::int AS transferred FROM postings p JOIN journal_entries e ON e.id = p.entry_id
        WHERE e.kind = 'transfer' AND p.account_ref IN ($1, $2)`, [a.id, b.id]);
    expect(transferred).toBe(0);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });

  it('activate a pending card once when tills race with different keys', async () => {
    const card = await pendingCard(h, { faceValue: 3_000 });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => call(h, 'POST', '/v1/cards/activate', {
      key: [h.terminalA, h.terminalA2, h.terminalB][i % 3]!.apiKey, body: { code: card.code, currency: 'EUR' }, idempotencyKey: randomUUID(),
    })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === 'invalid_card_transition')).toBe(true);
    expect(results.filter((r) => r.status === 409)).toHaveLength(11);
    const { rows: [{ n }] } = await h.deps.db.pool.query(`SELECT count(*)::int AS n FROM journal_entries WHERE card_id = $1 AND kind = 'activate'`, [card.id]);
    expect(n).toBe(1);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });
});
