// HOLD_TTL_SECONDS is the hold lifetime of a store created without its own: a till of such a store
// gets holds that expire after it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { call, posRef, startHarness, type Harness } from '../helpers/harness.ts';
import { signIn, trpc, type PortalAuth } from '../helpers/portal.ts';

let h: Harness;
let admin: PortalAuth;

beforeAll(async () => {
  h = await startHarness({ worker: false, config: { defaultHoldTtlSeconds: 420 } });
  const user = await h.deps.users.create({ email: `admin-${randomUUID().slice(0, 6)}@centre.test`, displayName: 'Root', role: 'admin', password: 'admin test password' });
  admin = await signIn(h, user.email, 'admin test password');
});
afterAll(async () => {
  await h?.close();
});

describe('HOLD_TTL_SECONDS', () => {
  it('is the hold lifetime of a store created without its own', async () => {
    const store = await trpc(h, 'mutation', 'admin.createStore', { billingPartyId: h.billingPartyId, name: 'Default TTL store' }, admin);
    const { rows: [row] } = await h.deps.db.pool.query('SELECT hold_ttl_seconds FROM stores WHERE id = $1', [store.data.id]);
    expect(row.hold_ttl_seconds).toBe(420);

    const terminal = await trpc(h, 'mutation', 'admin.createTerminal', { storeId: store.data.id, name: 'Till' }, admin);
    const sale = await call(h, 'POST', '/v1/cards', { body: { amount: 1_000, currency: 'EUR' }, idempotencyKey: randomUUID(), key: terminal.data.apiKey });
    const before = Date.now();
    const auth = await call(h, 'POST', '/v1/redemptions', {
      body: { code: sale.body.code, amount: 100, currency: 'EUR', posReference: posRef() }, key: terminal.data.apiKey });
    expect(auth.status).toBe(200);
    const lifetime = (Date.parse(auth.body.expiresAt) - before) / 1000;
    expect(lifetime).toBeGreaterThan(400);
    expect(lifetime).toBeLessThanOrEqual(421);
    await h.deps.db.pool.query('DELETE FROM workflow_outbox WHERE workflow_id LIKE $1', [`redemption-${terminal.data.id}-%`]);
  });
});
