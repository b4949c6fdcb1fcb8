// The support console: a purchase stuck because the mail relay is down shows up with its failing
// step and last error, and is retried at once when support asks; stuck work is cancelled with its
// compensation: an open redemption's hold is voided; a purchase's payment is cancelled, or, once
// paid, its card's sale is cancelled in the ledger and the payment refunded.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { formatCardCode } from '../../domain/card-code.ts';
import { orderCardCode } from '../../services/orders.ts';
import { call, devShopConfig, issueCard, posRef, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { signIn, trpc, type PortalAuth } from '../helpers/portal.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';
import { redemptionWorkflowId } from '../../workflows/names/redemption.ts';

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
    expect(stuck).toMatchObject({ type: 'purchaseWorkflow', failingStep: 'deliverVoucher', cancellable: true });
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

    // Nothing is failing any more, and a fulfilled purchase cannot be cancelled.
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
    const workflowId = redemptionWorkflowId(h.terminalA.id, ref);
    await waitFor(async () => (await h.client.workflow.getHandle(workflowId).describe().catch(() => null))?.status.name === 'RUNNING');
    const cancelled = await trpc(h, 'mutation', 'support.cancel', { workflowId }, support);
    expect(cancelled.data).toEqual({ workflowId, compensation: 'hold_voided', cardAvailable: 2_000 });
    await waitFor(async () => (await h.client.workflow.getHandle(workflowId).describe()).status.name === 'COMPLETED', 20_000);
    const res = await call(h, 'GET', `/v1/redemptions/${hold.body.id}`);
    expect(res.body.status).toBe('voided');
    expect((await trpc(h, 'mutation', 'support.cancel', { workflowId }, support)).code).toBe('hold_not_authorized');
  }, 60_000);

  async function stuckPurchase(confirm: boolean) {
    const email = `cancel-${randomUUID().slice(0, 6)}@example.test`;
    const order = await call(h, 'POST', '/v1/orders', { key: null, body: { amount: 3_000, currency: 'EUR', email }, idempotencyKey: randomUUID() });
    const orderId = order.body.orderId as string;
    if (confirm) {
      expect((await call(h, 'POST', `/v1/orders/${orderId}/dev-confirm`, { key: null, headers: { 'x-order-token': order.body.accessToken } })).status).toBe(200);
      await waitFor(async () => {
        const res = await trpc(h, 'query', 'support.stuck', { thresholdMinutes: 60 }, support);
        return res.data?.workflows.some((w: any) => w.workflowId === `purchase-${orderId}` && w.failingStep === 'deliverVoucher' && w.attempt >= 2);
      }, 30_000, 250);
    }
    return { orderId, email, workflowId: `purchase-${orderId}` };
  }

  it('cancels a paid purchase stuck on e-mail: the card\'s sale is cancelled, the payment refunded, the shopper told', async () => {
    mailbox.refusing = true;
    const { orderId, email, workflowId } = await stuckPurchase(true);
    const { rows: [issued] } = await h.deps.db.pool.query('SELECT card_id FROM orders WHERE id = $1', [orderId]);

    // Asked twice (a double click): one cancellation, the same answer.
    const [first, second] = await Promise.all([
      trpc(h, 'mutation', 'support.cancel', { workflowId, reason: 'shopper asked by phone' }, support),
      trpc(h, 'mutation', 'support.cancel', { workflowId, reason: 'shopper asked by phone' }, support),
    ]);
    expect(first.data).toEqual({ workflowId, compensation: 'payment_refunded', cardAvailable: null });
    expect(second.data).toEqual(first.data);

    const order = await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
    expect(order).toMatchObject({ status: 'refunded', refundId: `devrefund_${orderId}`, cardId: issued.card_id });
    expect(order.failureReason).toBe('cancelled by support (Sam): shopper asked by phone');
    const card = await trpc(h, 'query', 'transactions.card', { cardId: issued.card_id }, support);
    expect(card.data).toMatchObject({ status: 'blocked', available: 0, held: 0 });
    expect(card.data.history.map((t: any) => [t.type, t.amount])).toEqual([['sale', 3_000], ['sale_cancellation', 3_000]]);
    expect(await h.deps.ledger.violations()).toEqual([]);
    // The code no longer pays at a till, and the cache says so at once.
    const code = formatCardCode(orderCardCode(h.deps.secrets.deriveKey, orderId));
    const spend = await call(h, 'POST', '/v1/redemptions', { body: { code, amount: 100, currency: 'EUR', posReference: posRef() } });
    expect([spend.status, spend.body.error?.code]).toEqual([422, 'card_blocked']);

    // The refund notice goes out once the relay is back; the voucher never does.
    mailbox.refusing = false;
    await waitFor(async () => (await h.client.workflow.getHandle(workflowId).describe()).status.name === 'COMPLETED', 60_000, 250);
    const mails = mailbox.messages.filter((m) => JSON.stringify(m.to).includes(email));
    expect(mails.map((m) => m.subject)).toEqual(['Your voucher order could not be completed - €30.00 refunded']);

    // Asked again after the end: answered as it ended, and audited once per call.
    expect((await trpc(h, 'mutation', 'support.cancel', { workflowId }, support)).data.compensation).toBe('payment_refunded');
    const { rows } = await h.deps.db.pool.query(`SELECT details FROM audit_entries WHERE subject = $1 AND action = 'workflow_cancelled'`, [`workflow:${workflowId}`]);
    expect(rows.map((r) => r.details.compensation)).toEqual(['payment_refunded', 'payment_refunded', 'payment_refunded']);
  }, 120_000);

  it('cancels a purchase still awaiting payment: the payment is cancelled and the order expires', async () => {
    const { orderId, workflowId } = await stuckPurchase(false);
    await waitFor(async () => (await h.deps.db.pool.query('SELECT payment_id FROM orders WHERE id = $1', [orderId])).rows[0]?.payment_id);
    const cancelled = await trpc(h, 'mutation', 'support.cancel', { workflowId }, support);
    expect(cancelled.data).toEqual({ workflowId, compensation: 'payment_cancelled', cardAvailable: null });
    const order = await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
    expect(order).toMatchObject({ status: 'expired', cardId: null, refundId: null });
    expect(order.failureReason).toMatch(/^cancelled by support \(Sam\): stuck; cancelled from the support console$/);
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('expired');
  }, 60_000);

  it('refuses to cancel a purchase whose card was used meanwhile, and the purchase goes on', async () => {
    mailbox.refusing = true;
    const { orderId, email, workflowId } = await stuckPurchase(true);
    const code = formatCardCode(orderCardCode(h.deps.secrets.deriveKey, orderId));
    const spend = await call(h, 'POST', '/v1/redemptions', { body: { code, amount: 500, currency: 'EUR', posReference: posRef() } });
    expect(spend.status).toBe(200);

    const refused = await trpc(h, 'mutation', 'support.cancel', { workflowId }, support);
    expect([refused.status, refused.code]).toEqual([409, 'card_in_use']);
    expect((await trpc(h, 'mutation', 'support.cancel', { workflowId }, support)).code).toBe('card_in_use');
    const order = await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
    expect(order).toMatchObject({ status: 'issued', refundId: null });

    mailbox.refusing = false;
    await trpc(h, 'mutation', 'support.retryNow', { workflowId }, support);
    expect((await h.client.workflow.getHandle(workflowId).result()).status).toBe('fulfilled');
    expect(mailbox.messages.some((m) => JSON.stringify(m.to).includes(email))).toBe(true);
    expect(await h.deps.ledger.violations()).toEqual([]);
  }, 120_000);

  it('refuses bad cancellations with 4xx and changes nothing', async () => {
    for (const [input, code] of [
      [{ workflowId: `purchase-${randomUUID()}` }, 'not_cancellable'],
      [{ workflowId: 'clearing-2024-02' }, 'not_cancellable'],
      [{ workflowId: `purchase-${randomUUID()}`, reason: '' }, 'validation_error'],
      [{ workflowId: 'x'.repeat(301) }, 'validation_error'],
    ] as const) {
      const res = await trpc(h, 'mutation', 'support.cancel', input, support);
      expect([res.status >= 400 && res.status < 500, res.code], JSON.stringify(input)).toEqual([true, code]);
    }
  });
});
