// Velocity limits at the till, enforced in the ledger's transaction: N parallel operations against
// a limit pass exactly as many as fit (like the double-spend test), a decline has its own code and
// changes nothing, and admins set each store's limits through the API (tRPC and REST), validated
// and audited.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../services/directory.ts';
import { fraudMetrics, VELOCITY_LIMITS } from '../../services/fraud-limits.ts';
import { call, issueCard, posRef, startHarness, type Harness } from '../helpers/harness.ts';
import { signIn, trpc, type PortalAuth } from '../helpers/portal.ts';

let h: Harness;
let adminKey: string;
let admin: PortalAuth;

const none = Object.fromEntries(VELOCITY_LIMITS.map((k) => [k, null]));

beforeAll(async () => {
  h = await startHarness({ worker: false });
  adminKey = (await createApiClient(h.deps.db.prisma, { name: 'limits admin', role: 'admin' })).apiKey;
  const password = 'velocity test password';
  const user = await h.deps.users.create({ email: `adm-${randomUUID().slice(0, 6)}@centre.test`, displayName: 'A', role: 'admin', password });
  admin = await signIn(h, user.email, password);
});
afterAll(async () => {
  await h?.close();
});

async function setLimits(storeId: string, limits: Record<string, number | null>) {
  const res = await call(h, 'PUT', `/v1/admin/stores/${storeId}/limits`, { key: adminKey, body: { ...none, ...limits } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function countRows(sql: string, params: unknown[]): Promise<number> {
  const { rows } = await h.deps.db.pool.query(sql, params);
  return Number(rows[0].n);
}

describe('velocity limits', () => {
  it('let exactly the allowed redemptions of a card pass when they race (count per hour)', async () => {
    await setLimits(h.storeA, { cardRedemptionsPerHour: 5 });
    const card = await issueCard(h, 10_000);
    const declinesBefore = (await fraudMetrics.velocityDeclines.get()).values[0]?.value ?? 0;
    const terminals = [h.terminalA, h.terminalA2];
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) =>
      call(h, 'POST', '/v1/redemptions', {
        key: terminals[i % 2]!.apiKey, body: { code: card.code, amount: 100, currency: 'EUR', posReference: posRef() },
      })));
    const approved = results.filter((r) => r.status === 200);
    const declined = results.filter((r) => r.status !== 200);
    expect(approved).toHaveLength(5);
    expect(declined.every((r) => r.status === 422 && r.body.error.code === 'velocity_limit_exceeded')).toBe(true);
    expect((await fraudMetrics.velocityDeclines.get()).values[0]!.value - declinesBefore).toBe(19);
    // A decline changes nothing: no hold, no entry, the card holds exactly the approved ones.
    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } });
    expect(lookup.body.card).toMatchObject({ available: 10_000 - 500, held: 500 });
    expect(await countRows(`SELECT count(*) AS n FROM holds WHERE card_id = $1`, [card.id])).toBe(5);
    expect(await countRows(`SELECT count(*) AS n FROM journal_entries WHERE card_id = $1 AND kind = 'authorize'`, [card.id])).toBe(5);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });

  it('let exactly the value that fits pass (amount per day), and a declined key is decided afresh', async () => {
    await setLimits(h.storeA, { cardAmountPerDay: 1_000 });
    const card = await issueCard(h, 10_000);
    const results = await Promise.all(Array.from({ length: 12 }, () =>
      call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 300, currency: 'EUR', posReference: posRef() } })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    expect(results.filter((r) => r.status === 422 && r.body.error.code === 'velocity_limit_exceeded')).toHaveLength(9);

    // 100 more fits; 200 does not. The refused call stored nothing under its key: once the
    // limit is raised, the same key is decided again and passes.
    const key = randomUUID();
    const ref = posRef();
    const refused = await call(h, 'POST', '/v1/redemptions', { idempotencyKey: key, body: { code: card.code, amount: 200, currency: 'EUR', posReference: ref } });
    expect(refused.body.error.code).toBe('velocity_limit_exceeded');
    expect((await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 100, currency: 'EUR', posReference: posRef() } })).status).toBe(200);
    await setLimits(h.storeA, { cardAmountPerDay: 2_000 });
    const retried = await call(h, 'POST', '/v1/redemptions', { idempotencyKey: key, body: { code: card.code, amount: 200, currency: 'EUR', posReference: ref } });
    expect(retried.status).toBe(200);
    expect(retried.body.replayed).toBe(false);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });

  it('cap what one terminal sells and loads per day, under concurrency, without touching other tills', async () => {
    await setLimits(h.storeB, { terminalSoldPerDay: 5_000 });
    const sales = await Promise.all(Array.from({ length: 10 }, () =>
      call(h, 'POST', '/v1/cards', { key: h.terminalB.apiKey, idempotencyKey: randomUUID(), body: { amount: 1_000, currency: 'EUR' } })));
    expect(sales.filter((r) => r.status === 200)).toHaveLength(5);
    expect(sales.filter((r) => r.status === 422 && r.body.error.code === 'velocity_limit_exceeded')).toHaveLength(5);
    // Loading counts too.
    const sold = sales.find((r) => r.status === 200)!.body;
    const load = await call(h, 'POST', '/v1/cards/load', { key: h.terminalB.apiKey, idempotencyKey: randomUUID(), body: { code: sold.code, amount: 1, currency: 'EUR' } });
    expect([load.status, load.body.error.code]).toEqual([422, 'velocity_limit_exceeded']);
    // Another store's till is not limited by it.
    const elsewhere = await call(h, 'POST', '/v1/cards/load', { key: h.terminalA.apiKey, idempotencyKey: randomUUID(), body: { code: sold.code, amount: 1, currency: 'EUR' } });
    expect(elsewhere.status).toBe(200);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });

  it('cap what a store redeems per day across its tills', async () => {
    await setLimits(h.storeA, { storeRedeemedPerDay: 0 });
    const card = await issueCard(h, 1_000);
    const res = await call(h, 'POST', '/v1/redemptions', { key: h.terminalA2.apiKey, body: { code: card.code, amount: 1, currency: 'EUR', posReference: posRef() } });
    expect([res.status, res.body.error.code]).toEqual([422, 'velocity_limit_exceeded']);
    await setLimits(h.storeA, {});
    expect((await call(h, 'POST', '/v1/redemptions', { key: h.terminalA2.apiKey, body: { code: card.code, amount: 1, currency: 'EUR', posReference: posRef() } })).status).toBe(200);
  });

  it('are shown and set by admins over tRPC and REST, validated and audited', async () => {
    const set = await trpc(h, 'mutation', 'admin.setStoreLimits', { storeId: h.storeB, ...none, cardRedemptionsPerHour: 7, cardAmountPerDay: 12_345 }, admin);
    expect(set.status).toBe(200);
    expect(set.data.overrides).toMatchObject({ cardRedemptionsPerHour: 7, cardAmountPerDay: 12_345, terminalSoldPerDay: null });
    const listed = await call(h, 'GET', '/v1/admin/limits', { key: adminKey });
    expect(listed.status).toBe(200);
    const storeB = listed.body.stores.find((s: any) => s.storeId === h.storeB);
    expect(storeB.effective).toMatchObject({ cardRedemptionsPerHour: 7, cardAmountPerDay: 12_345 });
    // Defaults come from configuration (the harness runs without limits).
    expect(listed.body.defaults).toEqual(none);
    const { rows } = await h.deps.db.pool.query(
      `SELECT actor, details FROM audit_entries WHERE action = 'store_limits_set' AND subject = $1 ORDER BY id DESC LIMIT 1`, [`store:${h.storeB}`]);
    expect(rows[0].details.overrides).toMatchObject({ cardRedemptionsPerHour: 7 });

    for (const bad of [{ cardRedemptionsPerHour: -1 }, { cardAmountPerDay: 1.5 }, { cardRedemptionsPerHour: 'many' }, { nonsense: 1 }]) {
      const res = await call(h, 'PUT', `/v1/admin/stores/${h.storeB}/limits`, { key: adminKey, body: { ...none, ...bad } });
      expect([res.status, res.body.error.code], JSON.stringify(bad)).toEqual([400, 'validation_error']);
    }
    const missing = await call(h, 'PUT', `/v1/admin/stores/${randomUUID()}/limits`, { key: adminKey, body: { ...none, cardRedemptionsPerHour: 1 } });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found']);
    const finance = (await createApiClient(h.deps.db.prisma, { name: 'fin', role: 'finance' })).apiKey;
    expect((await call(h, 'PUT', `/v1/admin/stores/${h.storeB}/limits`, { key: finance, body: none })).status).toBe(403);
    // Nothing changed by the refusals.
    const after = await call(h, 'GET', '/v1/admin/limits', { key: adminKey });
    expect(after.body.stores.find((s: any) => s.storeId === h.storeB).overrides).toEqual(storeB.overrides);
    await setLimits(h.storeB, {});
  });
});
