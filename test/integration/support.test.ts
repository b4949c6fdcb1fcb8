// The support console: a purchase stuck because the mail relay is down shows up with its failing
// step and last error, and is retried at once when support asks; an open redemption is cancelled
// with its compensation (the hold is voided).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { call, devShopConfig, issueCard, posRef, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { signIn, trpc, type PortalAuth } from '../helpers/portal.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';

let h: Harness;
let mailbox: Mailbox;
let support: PortalAuth;

beforeAll(async () => {
  mailbox = await startMailbox();
  h = await startHarness({ config: devShopConfig(mailbox.url) });
  const user = await h.deps.users.create({ email: `support-${randomUUID().slice(0, 6)}@centre.test`, displayName: 'Sam', role: 'support', password: 'support console password' });
  support = await signIn(h, user.email, 'support console password');
});
afterAll(async () => {
  await h?.close();
  await mailbox?.close();
});

describe('support console', () => {
  it('shows a purchase stuck on a failing e-mail with its step and error, and retries it now', async () => {
    mailbox.refusing = true;
    const email = `stuck-${randomUUID().slice(0, 6)}@example.test`;
    const order = await call(h, 'POST', '/v1/orders', { key: null, body: { amount: 2_500, currency: 'EUR', email }, idempotencyKey: randomUUID() });
    const confirmed = await call(h, 'POST', `/v1/orders/${order.body.orderId}/dev-confirm`, { key: null, headers: { 'x-order-token': order.body.accessToken } });
    expect(confirmed.status).toBe(200);
    const workflowId = `purchase-${order.body.orderId}`;

    // Retrying with backoff: by the fourth attempt the next one is 16 s away.
    const stuck = await waitFor(async () => {
      const res = await trpc(h, 'query', 'support.stuck', { thresholdMinutes: 60 }, support);
      const entry = res.data?.workflows.find((w: any) => w.workflowId === workflowId);
      return entry && entry.attempt >= 4 && entry;
    }, 60_000, 500);
    expect(stuck).toMatchObject({ type: 'purchaseWorkflow', failingStep: 'deliverVoucher', cancellable: false });
    expect(stuck.lastError).toContain('451');

    mailbox.refusing = false;
    const retried = await trpc(h, 'mutation', 'support.retryNow', { workflowId }, support);
    expect(retried.data).toEqual({ workflowId, reset: true });
    const started = Date.now();
    await waitFor(async () => mailbox.messages.some((m) => JSON.stringify(m.to).includes(email)), 10_000, 100);
    expect(Date.now() - started).toBeLessThan(10_000);
    await waitFor(async () => (await h.client.workflow.getHandle(workflowId).describe()).status.name === 'COMPLETED', 10_000);
    const after = await trpc(h, 'query', 'support.stuck', { thresholdMinutes: 60 }, support);
    expect(after.data.workflows.map((w: any) => w.workflowId)).not.toContain(workflowId);

    // Nothing is failing any more; cancelling a purchase is not something the console does.
    expect((await trpc(h, 'mutation', 'support.retryNow', { workflowId }, support)).code).toBe('not_found');
    expect((await trpc(h, 'mutation', 'support.cancel', { workflowId }, support)).code).toBe('not_cancellable');
    const { rows } = await h.deps.db.pool.query(`SELECT action FROM audit_entries WHERE subject = $1`, [`workflow:${workflowId}`]);
    expect(rows.map((r) => r.action)).toEqual(['workflow_retried']);

    // The shopper lost the mail: support resends it (once per Idempotency-Key), through a workflow.
    const { rows: [orderRow] } = await h.deps.db.pool.query('SELECT card_id FROM orders WHERE id = $1', [order.body.orderId]);
    const key = randomUUID();
    const resend = () => fetch(`${h.baseUrl}/trpc/transactions.resendVoucher`, {
      method: 'POST', body: JSON.stringify({ cardId: orderRow.card_id }),
      headers: { 'content-type': 'application/json', cookie: support.cookie!, 'x-csrf-token': support.csrf!, 'idempotency-key': key },
    }).then(async (r) => (await r.json() as any).result.data);
    expect(await resend()).toEqual({ orderId: order.body.orderId, sent: true });
    expect(await resend()).toEqual({ orderId: order.body.orderId, sent: true });
    const mails = mailbox.messages.filter((m) => JSON.stringify(m.to).includes(email));
    expect(mails).toHaveLength(2);
    expect(mails[1]!.attachments[0]!.contentType).toBe('application/pdf');
  }, 90_000);

  it('cancels an open redemption with its compensation: the hold is voided and its workflow ends', async () => {
    const card = await issueCard(h, 2_000);
    const ref = posRef();
    const hold = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 800, currency: 'EUR', posReference: ref } });
    const workflowId = `redemption-${h.terminalA.id}-${ref}`;
    await waitFor(async () => (await h.client.workflow.getHandle(workflowId).describe().catch(() => null))?.status.name === 'RUNNING');
    const cancelled = await trpc(h, 'mutation', 'support.cancel', { workflowId }, support);
    expect(cancelled.data).toEqual({ workflowId, compensation: 'hold_voided', cardAvailable: 2_000 });
    await waitFor(async () => (await h.client.workflow.getHandle(workflowId).describe()).status.name === 'COMPLETED', 20_000);
    const res = await call(h, 'GET', `/v1/redemptions/${hold.body.id}`);
    expect(res.body.status).toBe('voided');
    expect((await trpc(h, 'mutation', 'support.cancel', { workflowId }, support)).code).toBe('hold_not_authorized');
  }, 60_000);
});
