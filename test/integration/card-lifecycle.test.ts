// The card lifecycle (issue #13) end to end over REST: activation at the till, deactivation,
// clearing a balance, adjustments (four eyes above the threshold, as a workflow), transfers and
// expiry extensions. Each is one balanced entry, audited, idempotent, refused with a stable code
// where the card's state does not allow it, and visible in the card's activity history.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashCardCode, normalizeCardCode } from '../../domain/card-code.ts';
import { loadConfig } from '../../infra/config.ts';
import { createApiClient } from '../../services/directory.ts';
import { call, issueCard, posRef, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { pendingCard } from '../helpers/pending-card.ts';

let h: Harness;
let admin: string;
let finance: string;
const THRESHOLD = 10_000;

beforeAll(async () => {
  h = await startHarness({ config: { cardLifecycle: { ...loadConfig().cardLifecycle, adjustmentApprovalThreshold: BigInt(THRESHOLD), adjustmentApprovalHours: 24, deactivationPolicy: 'breakage' } } });
  admin = (await createApiClient(h.deps.db.prisma, { name: 'Lifecycle admin', role: 'admin' })).apiKey;
  finance = (await createApiClient(h.deps.db.prisma, { name: 'Lifecycle finance', role: 'finance' })).apiKey;
});
afterAll(async () => {
  await h?.close();
});

const post = (path: string, body: unknown, key: string | null = admin, idempotencyKey: string | undefined = randomUUID()) =>
  call(h, 'POST', path, { body, key, idempotencyKey });

async function entriesOf(cardId: string): Promise<{ kind: string; store_id: string | null }[]> {
  const { rows } = await h.deps.db.pool.query('SELECT kind, store_id FROM journal_entries WHERE card_id = $1 ORDER BY id', [cardId]);
  return rows;
}

async function postings(entryId: string) {
  const { rows } = await h.deps.db.pool.query<{ account_kind: string; account_ref: string; amount: string }>(
    'SELECT account_kind, account_ref, amount FROM postings WHERE entry_id = $1 ORDER BY amount', [entryId]);
  return rows.map((r) => [r.account_kind, r.account_ref, Number(r.amount)]);
}

async function activities(cardId: string, query = '') {
  const res = await call(h, 'GET', `/v1/cards/${cardId}/activities${query}`, { key: admin });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

describe('activation at the till', () => {
  it('sells a fixed-value pending card to the activating store, once', async () => {
    const card = await pendingCard(h, { faceValue: 2_500 });
    // Pending: not spendable, and nowhere in the ledger.
    const early = await post('/v1/redemptions', { code: card.code, amount: 100, currency: 'EUR', posReference: posRef() }, h.terminalB.apiKey);
    expect([early.status, early.body.error.code]).toEqual([422, 'card_not_active']);
    expect(await entriesOf(card.id)).toEqual([]);

    const key = randomUUID();
    const res = await post('/v1/cards/activate', { code: card.code, currency: 'EUR' }, h.terminalB.apiKey, key);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.card).toMatchObject({ id: card.id, status: 'active', available: 2_500 });
    const again = await post('/v1/cards/activate', { code: card.code, currency: 'EUR' }, h.terminalB.apiKey, key);
    expect(again.body).toMatchObject({ card: { id: card.id, available: 2_500 }, replayed: true });
    expect(await entriesOf(card.id)).toEqual([{ kind: 'activate', store_id: h.storeB }]);
    const { rows: [{ issuing_store_id }] } = await h.deps.db.pool.query('SELECT issuing_store_id FROM cards WHERE id = $1', [card.id]);
    expect(issuing_store_id).toBe(h.storeB);

    const twice = await post('/v1/cards/activate', { code: card.code, currency: 'EUR' }, h.terminalB.apiKey);
    expect([twice.status, twice.body.error.code]).toEqual([409, 'invalid_card_transition']);
    const wrongValue = await post('/v1/cards/activate', { code: (await pendingCard(h, { faceValue: 2_500 })).code, currency: 'EUR', amount: 3_000 }, h.terminalB.apiKey);
    expect([wrongValue.status, wrongValue.body.error.code]).toEqual([422, 'amount_mismatch']);
    const noKey = await call(h, 'POST', '/v1/cards/activate', { body: { code: card.code, currency: 'EUR' }, key: h.terminalB.apiKey });
    expect([noKey.status, noKey.body.error.code]).toEqual([400, 'idempotency_key_required']);
  });

  it('takes the amount for an open-value card and refuses without it', async () => {
    const card = await pendingCard(h, { faceValue: null });
    const without = await post('/v1/cards/activate', { code: card.code, currency: 'EUR' });
    expect(without.status).toBe(401); // back-office keys are not till keys
    const missing = await post('/v1/cards/activate', { code: card.code, currency: 'EUR' }, h.terminalA.apiKey);
    expect([missing.status, missing.body.error.code]).toEqual([422, 'amount_required']);
    const res = await post('/v1/cards/activate', { code: card.code, currency: 'EUR', amount: 4_200 }, h.terminalA.apiKey);
    expect(res.body.card).toMatchObject({ status: 'active', available: 4_200 });
    const [latest] = (await activities(card.id)).activities;
    expect(latest).toMatchObject({ type: 'activate', amount: 4_200, balanceChange: 4_200, balanceAfter: 4_200, storeId: h.storeA, terminalId: h.terminalA.id });
  });
});

describe('deactivation and clearing a balance', () => {
  it('waits for open holds, sends the rest to breakage and closes the card for good', async () => {
    const card = await issueCard(h, 3_000);
    const hold = await post('/v1/redemptions', { code: card.code, amount: 1_000, currency: 'EUR', posReference: posRef() }, h.terminalA.apiKey);
    const noReason = await post(`/v1/cards/${card.id}/deactivate`, {});
    expect([noReason.status, noReason.body.error.code]).toEqual([400, 'validation_error']);
    const held = await post(`/v1/cards/${card.id}/deactivate`, { reason: 'lost' });
    expect([held.status, held.body.error.code]).toEqual([409, 'card_has_open_holds']);
    await post(`/v1/redemptions/${hold.body.id}/capture`, {}, h.terminalA.apiKey);

    const res = await post(`/v1/cards/${card.id}/deactivate`, { reason: 'reported stolen' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ card: { status: 'deactivated', available: 0 }, amount: 2_000 });
    expect(await postings(res.body.entryId)).toEqual([['card_available', card.id, -2_000], ['breakage', 'EUR', 2_000]]);

    for (const [path, body] of [['deactivate', { reason: 'again' }], ['clear-balance', { reason: 'support_issue' }],
      ['adjustments', { direction: 'up', amount: 100, reason: 'goodwill' }], ['extend-expiry', { expiresAt: new Date(Date.now() + 9e10).toISOString(), reason: 'x' }]] as const) {
      const refused = await post(`/v1/cards/${card.id}/${path}`, body);
      expect([path, refused.status, refused.body.error.code]).toEqual([path, 409, 'invalid_card_transition']);
    }
    const spend = await post('/v1/redemptions', { code: card.code, amount: 1, currency: 'EUR', posReference: posRef() }, h.terminalA.apiKey);
    expect([spend.status, spend.body.error.code]).toEqual([422, 'card_not_active']);
    const { rows: [audit] } = await h.deps.db.pool.query(`SELECT actor, details FROM audit_entries WHERE action = 'card_deactivated' AND subject = $1`, [`card:${card.id}`]);
    expect(audit).toMatchObject({ actor: 'Lifecycle admin', details: { entryId: Number(res.body.entryId), amount: 2_000 } });
  });

  it('refunds the rest to the sale\'s source when the policy says so', async () => {
    const card = await issueCard(h, 1_500);
    const r = await h.deps.ledger.deactivateCard({ scope: 'test', key: randomUUID(), actor: 'test' }, { cardId: card.id, refund: true, reason: 'sold by mistake' });
    expect(r).toMatchObject({ kind: 'deactivate_refund', amount: 1_500, status: 'deactivated' });
    expect(await postings(String(r.entryId))).toEqual([['card_available', card.id, -1_500], ['store_sales', h.storeA, 1_500]]);
  });

  it('clears a balance for a listed reason only and keeps the card open', async () => {
    const card = await issueCard(h, 900);
    const bad = await post(`/v1/cards/${card.id}/clear-balance`, { reason: 'because' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_error']);
    const res = await post(`/v1/cards/${card.id}/clear-balance`, { reason: 'suspicious_activity' });
    expect(res.body).toMatchObject({ card: { status: 'active', available: 0 }, amount: -900 });
    const [latest] = (await activities(card.id)).activities;
    expect(latest).toMatchObject({ type: 'clear_balance', reason: 'suspicious_activity', balanceAfter: 0, actor: 'Lifecycle admin' });
  });
});

describe('adjustments', () => {
  it('books small ones at once, never below zero', async () => {
    const card = await issueCard(h, 1_000);
    const up = await post(`/v1/cards/${card.id}/adjustments`, { direction: 'up', amount: 250, reason: 'goodwill' });
    expect(up.body).toMatchObject({ status: 'booked', result: { card: { available: 1_250 }, amount: 250 } });
    const tooMuch = await post(`/v1/cards/${card.id}/adjustments`, { direction: 'down', amount: 2_000, reason: 'correction' });
    expect([tooMuch.status, tooMuch.body.error.code]).toEqual([402, 'insufficient_funds']);
    const down = await post(`/v1/cards/${card.id}/adjustments`, { direction: 'down', amount: 50, reason: 'correction' });
    expect(await postings(down.body.result.entryId)).toEqual([['card_available', card.id, -50], ['adjustments', 'EUR', 50]]);
  });

  it('waits above the threshold for a second user, refuses the requester, then books', async () => {
    const card = await issueCard(h, 1_000);
    const key = randomUUID();
    const asked = await post(`/v1/cards/${card.id}/adjustments`, { direction: 'up', amount: THRESHOLD + 1, reason: 'lost voucher replaced' }, admin, key);
    expect(asked.status, JSON.stringify(asked.body)).toBe(200);
    expect(asked.body).toMatchObject({ status: 'pending', result: null, adjustment: { status: 'pending', amount: THRESHOLD + 1 } });
    const id = asked.body.adjustment.id;
    // A retry is the same request; nothing is booked yet.
    expect((await post(`/v1/cards/${card.id}/adjustments`, { direction: 'up', amount: THRESHOLD + 1, reason: 'lost voucher replaced' }, admin, key)).body.adjustment.id).toBe(id);
    expect((await entriesOf(card.id)).map((e) => e.kind)).toEqual(['issue']);
    const listed = await call(h, 'GET', '/v1/card-adjustments?status=pending', { key: finance });
    expect(listed.body.adjustments.map((a: { id: string }) => a.id)).toContain(id);
    const description = await h.client.workflow.getHandle(`card-adjustment-${id}`).describe();
    expect(description.status.name).toBe('RUNNING');

    const self = await post(`/v1/card-adjustments/${id}/decision`, { approve: true }, admin);
    expect([self.status, self.body.error.code]).toEqual([403, 'same_approver']);
    const approved = await post(`/v1/card-adjustments/${id}/decision`, { approve: true }, finance);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const booked = await waitFor(async () => {
      const a = (await call(h, 'GET', `/v1/card-adjustments?cardId=${card.id}`, { key: finance })).body.adjustments[0];
      return a.status === 'booked' ? a : null;
    });
    expect(booked).toMatchObject({ decidedByName: 'Lifecycle finance', entryId: expect.any(String) });
    const [latest] = (await activities(card.id)).activities;
    expect(latest).toMatchObject({ type: 'adjust', amount: THRESHOLD + 1, balanceAfter: 1_000 + THRESHOLD + 1, reason: 'lost voucher replaced', actor: 'Lifecycle finance' });
    const late = await post(`/v1/card-adjustments/${id}/decision`, { approve: false }, finance);
    expect([late.status, late.body.error.code]).toEqual([409, 'adjustment_not_pending']);
  });

  it('books nothing when refused', async () => {
    const card = await issueCard(h, 1_000);
    const asked = await post(`/v1/cards/${card.id}/adjustments`, { direction: 'down', amount: THRESHOLD + 5, reason: 'suspicious' });
    const refused = await post(`/v1/card-adjustments/${asked.body.adjustment.id}/decision`, { approve: false }, finance);
    expect(refused.body.status).toBe('refused');
    const result = await h.client.workflow.getHandle(`card-adjustment-${asked.body.adjustment.id}`).result();
    expect(result).toEqual({ status: 'refused', entryId: null });
    expect((await entriesOf(card.id)).map((e) => e.kind)).toEqual(['issue']);
  });
});

describe('the balance cache', () => {
  // Routers and activities never write the cache: the ledger does, after every call that changes a card.
  const cachedAvailable = async (code: string) =>
    (await h.deps.cache.get(hashCardCode(normalizeCardCode(code)!, h.deps.secrets.hashKey)))?.available ?? null;

  it('holds each card as the ledger left it: both sides of a transfer, a cleared balance, an approved adjustment', async () => {
    expect(h.deps.cache.enabled).toBe(true);
    const from = await issueCard(h, 1_000);
    const to = await issueCard(h, 200);
    const moved = await post(`/v1/cards/${from.id}/transfer`, { toCardId: to.id, amount: 300 });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect([await cachedAvailable(from.code), await cachedAvailable(to.code)]).toEqual(['700', '500']);

    expect((await post(`/v1/cards/${from.id}/clear-balance`, { reason: 'support_issue' })).status).toBe(200);
    expect(await cachedAvailable(from.code)).toBe('0');

    // Booked by the workflow's activity in the worker, not by the API call that approved it.
    const asked = await post(`/v1/cards/${to.id}/adjustments`, { direction: 'up', amount: THRESHOLD + 3, reason: 'cache check' });
    expect((await post(`/v1/card-adjustments/${asked.body.adjustment.id}/decision`, { approve: true }, finance)).status).toBe(200);
    await h.client.workflow.getHandle(`card-adjustment-${asked.body.adjustment.id}`).result();
    expect(await cachedAvailable(to.code)).toBe(String(500 + THRESHOLD + 3));
  });
});

describe('an adjustment nobody decides', () => {
  it('expires at its deadline and can no longer be approved', async () => {
    const card = await issueCard(h, 1_000);
    // No waiting for a day here: the deadline is now.
    h.deps.config.cardLifecycle.adjustmentApprovalHours = 0;
    try {
      const asked = await post(`/v1/cards/${card.id}/adjustments`, { direction: 'up', amount: THRESHOLD + 7, reason: 'forgotten' });
      expect(asked.body.adjustment.status).toBe('pending');
      const result = await h.client.workflow.getHandle(`card-adjustment-${asked.body.adjustment.id}`).result();
      expect(result).toEqual({ status: 'expired', entryId: null });
      const late = await post(`/v1/card-adjustments/${asked.body.adjustment.id}/decision`, { approve: true }, finance);
      expect([late.status, late.body.error.code]).toEqual([409, 'adjustment_not_pending']);
      expect((await entriesOf(card.id)).map((e) => e.kind)).toEqual(['issue']);
    } finally {
      h.deps.config.cardLifecycle.adjustmentApprovalHours = 24;
    }
  });
});

describe('transfers and expiry', () => {
  it('moves value between two cards atomically and refuses what makes no sense', async () => {
    const from = await issueCard(h, 2_000);
    const to = await issueCard(h, 500);
    const res = await post(`/v1/cards/${from.id}/transfer`, { toCardId: to.id, amount: 1_200 });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ card: { available: 800 }, toCard: { available: 1_700 }, amount: 1_200 });
    expect(await postings(res.body.entryId)).toEqual([['card_available', from.id, -1_200], ['card_available', to.id, 1_200]]);
    // The receiving card's history shows it too.
    expect((await activities(to.id)).activities[0]).toMatchObject({ type: 'transfer', balanceChange: 1_200, balanceAfter: 1_700 });
    const all = await post(`/v1/cards/${from.id}/transfer`, { toCardId: to.id });
    expect(all.body).toMatchObject({ card: { available: 0 }, toCard: { available: 2_500 } });

    const self = await post(`/v1/cards/${to.id}/transfer`, { toCardId: to.id });
    expect([self.status, self.body.error.code]).toEqual([422, 'same_card']);
    const dollars = await issueCard(h, 100, 'USD');
    const mixed = await post(`/v1/cards/${to.id}/transfer`, { toCardId: dollars.id, amount: 10 });
    expect([mixed.status, mixed.body.error.code]).toEqual([422, 'currency_mismatch']);
    const pending = await pendingCard(h);
    const toPending = await post(`/v1/cards/${to.id}/transfer`, { toCardId: pending.id, amount: 10 });
    expect([toPending.status, toPending.body.error.code]).toEqual([409, 'invalid_card_transition']);
    const missing = await post(`/v1/cards/${randomUUID()}/transfer`, { toCardId: to.id });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'card_not_found']);
  });

  it('extends expiry later only, with its reason in the history', async () => {
    const card = await issueCard(h, 700);
    const earlier = await post(`/v1/cards/${card.id}/extend-expiry`, { expiresAt: new Date(Date.now() + 86_400_000).toISOString(), reason: 'x' });
    expect([earlier.status, earlier.body.error.code]).toEqual([422, 'invalid_expiry']);
    const later = new Date(Date.now() + 5 * 365 * 86_400_000).toISOString();
    const res = await post(`/v1/cards/${card.id}/extend-expiry`, { expiresAt: later, reason: 'shop closed for renovation' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.card.expiresAt).toBe(later);
    const [latest] = (await activities(card.id)).activities;
    expect(latest).toMatchObject({ type: 'extend_expiry', amount: 0, balanceAfter: 700, reason: 'shop closed for renovation' });
  });
});

describe('activity history', () => {
  it('pages newest first with the balance after each activity', async () => {
    const card = await issueCard(h, 1_000);
    for (const amount of [10, 20, 30]) await post(`/v1/cards/${card.id}/adjustments`, { direction: 'up', amount, reason: `step ${amount}` });
    const first = await activities(card.id, '?limit=2');
    expect(first.activities.map((a: { balanceAfter: number }) => a.balanceAfter)).toEqual([1_060, 1_030]);
    const second = await activities(card.id, `?limit=2&before=${first.nextBefore}`);
    expect(second.activities.map((a: { type: string; balanceAfter: number }) => [a.type, a.balanceAfter])).toEqual([['adjust', 1_010], ['issue', 1_000]]);
    expect(second.nextBefore).toBeNull();
    expect(second.activities[1]).toMatchObject({ storeId: h.storeA, terminalId: h.terminalA.id, actor: `terminal:${h.terminalA.id}` });
    const unknown = await call(h, 'GET', `/v1/cards/${randomUUID()}/activities`, { key: admin });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'card_not_found']);
  });

  it('leaves the ledger sound', async () => {
    expect(await h.deps.ledger.violations()).toEqual([]);
  });
});
