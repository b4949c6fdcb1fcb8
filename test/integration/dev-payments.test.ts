// The development payment provider keeps its payments as Stripe does, so the purchase can re-read
// them: "Pay with test card" records the success before it signals, a cancel and the button decide
// against each other on one row, and a success signal the provider never saw issues nothing.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelPurchaseUpdate, paymentEventSignal, purchaseStateQuery } from '../../workflows/purchase.ts';
import { call, devShopConfig, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';

let h: Harness;
let mailbox: Mailbox;

beforeAll(async () => {
  mailbox = await startMailbox();
  h = await startHarness({ config: devShopConfig(mailbox.url) });
});
afterAll(async () => {
  await h?.close();
  await mailbox?.close();
});

const orderCall = (amount: number, idempotencyKey: string, email: string) =>
  call(h, 'POST', '/v1/orders', { key: null, body: { amount, currency: 'EUR', email }, idempotencyKey });

async function order(amount = 2_000) {
  const res = await orderCall(amount, randomUUID(), `dev-${randomUUID().slice(0, 6)}@example.test`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { orderId: string; accessToken: string };
}

const confirm = (o: { orderId: string; accessToken: string }) =>
  call(h, 'POST', `/v1/orders/${o.orderId}/dev-confirm`, { key: null, headers: { 'x-order-token': o.accessToken } });
const devPayment = (orderId: string) => h.deps.db.prisma.devPayment.findFirstOrThrow({ where: { orderId } });

describe('development payment provider', () => {
  it('records the test-card payment, which the purchase confirms before issuing', async () => {
    const o = await order(2_000);
    expect(await devPayment(o.orderId)).toMatchObject({ status: 'open', amount: 2_000n, currency: 'EUR' });
    expect((await confirm(o)).status).toBe(200);
    expect((await confirm(o)).status).toBe(200); // a double click
    expect((await h.client.workflow.getHandle(`purchase-${o.orderId}`).result()).status).toBe('fulfilled');
    expect((await devPayment(o.orderId)).status).toBe('succeeded');
  });

  it('issues nothing on a success signal the provider never recorded', async () => {
    const o = await order(1_500);
    const handle = h.client.workflow.getHandle(`purchase-${o.orderId}`);
    const { paymentId } = (await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: o.orderId } }));
    await handle.signal(paymentEventSignal, { type: 'succeeded', eventId: `forged-${randomUUID()}`, paymentId: paymentId! });
    await waitFor(async () => (await handle.query(purchaseStateQuery)).eventsSeen === 1);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: o.orderId } })).toMatchObject({ status: 'awaiting_payment', cardId: null });
    expect((await confirm(o)).status).toBe(200);
    expect((await handle.result()).status).toBe('fulfilled');
  });

  it('refuses the test card once the payment was cancelled: the order expires, nothing is paid', async () => {
    const o = await order(1_200);
    const handle = h.client.workflow.getHandle(`purchase-${o.orderId}`);
    const state = await handle.executeUpdate(cancelPurchaseUpdate, { args: [{ reason: 'test', requestedBy: 'Sam' }] });
    expect(state.status).toBe('expired');
    const refused = await confirm(o);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'order_not_payable']);
    expect((await devPayment(o.orderId)).status).toBe('canceled');
  });

  it('answers a retry for a purchase whose run ended without a payment with 409, not 500', async () => {
    const key = randomUUID();
    const email = `ended-${randomUUID().slice(0, 6)}@example.test`;
    const first = await orderCall(1_000, key, email);
    expect(first.status).toBe(200);
    await h.client.workflow.getHandle(`purchase-${first.body.orderId}`).terminate('operator ended it');
    const again = await orderCall(1_000, key, email);
    expect(again.status, JSON.stringify(again.body)).toBe(409);
    expect(again.body.error.code).toBe('order_not_payable');
    expect(await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: first.body.orderId } })).toMatchObject({ status: 'awaiting_payment', cardId: null });
  });
});
