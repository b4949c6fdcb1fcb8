// The shop's card step with Stripe, up to Stripe.js (which cannot load offline): the publishable key
// and the order's PaymentIntent client secret served to the order's holder only, nothing once the
// order is past paying, the return path after 3-D Secure served as the shop page, and the order
// completed by the webhook as before. stripe-mock behind the state proxy plays Stripe.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../infra/config.ts';
import { ensureWebBuild } from '../helpers/browser.ts';
import { call, startHarness, stripeShopConfig, waitFor, type Harness } from '../helpers/harness.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';
import { startStripeProxy, type StripeProxy } from '../helpers/stripe-proxy.ts';
import { sendStripeWebhook } from '../helpers/stripe-webhook.ts';

const PUBLISHABLE_KEY = 'pk_test_51VoucherEngineShopTest';

let h: Harness;
let mailbox: Mailbox;
let stripeState: StripeProxy;

beforeAll(async () => {
  // The return path is the shop page itself: the server serves it only from a built web app.
  ensureWebBuild();
  mailbox = await startMailbox();
  stripeState = await startStripeProxy(inject('stripeMockUrl'));
  h = await startHarness({ config: stripeShopConfig(mailbox.url, stripeState.url, PUBLISHABLE_KEY) });
}, 240_000);
afterAll(async () => {
  await h?.close();
  await mailbox?.close();
  await stripeState?.close();
});

async function order() {
  const body = { amount: 2_500, currency: 'EUR', email: `s-${randomUUID().slice(0, 6)}@example.test` };
  const idempotencyKey = randomUUID();
  // A 503 says "retry with the same Idempotency-Key" (the first workflow start on a loaded machine can time out).
  let res = await call(h, 'POST', '/v1/orders', { key: null, body, idempotencyKey });
  for (let i = 0; i < 3 && res.status === 503; i++) res = await call(h, 'POST', '/v1/orders', { key: null, body, idempotencyKey });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { orderId: string; clientSecret: string; accessToken: string };
}

const payment = (orderId: string, token?: string) =>
  call(h, 'GET', `/v1/orders/${orderId}/payment`, { key: null, headers: token === undefined ? {} : { 'x-order-token': token } });

describe('GET /v1/orders/{orderId}/payment', () => {
  it('hands the publishable key and the PaymentIntent client secret to the order\'s holder', async () => {
    const o = await order();
    const row = await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: o.orderId } });
    const res = await payment(o.orderId, o.accessToken);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ orderId: o.orderId, provider: 'stripe', publishableKey: PUBLISHABLE_KEY, clientSecret: expect.stringMatching(/^pi_\w+_secret_\w+$/) });
    // Read from Stripe: the intent the order's payment is.
    const retrieved = stripeState.calls.filter((c) => c.method === 'GET' && c.path === `/v1/payment_intents/${row.paymentId}`);
    expect(retrieved.length).toBeGreaterThanOrEqual(1);
    // Over tRPC, as the shop page asks.
    const trpc = await fetch(`${h.baseUrl}/trpc/shop.payment?input=${encodeURIComponent(JSON.stringify({ orderId: o.orderId }))}`, { headers: { 'x-order-token': o.accessToken } });
    expect(trpc.status).toBe(200);
    expect((await trpc.json() as any).result.data).toEqual(res.body);
  });

  it('answers 404 without the order\'s token, with another order\'s token, and for an unknown order, and gives out no secret', async () => {
    const o = await order();
    const other = await order();
    for (const [id, token] of [[o.orderId, undefined], [o.orderId, other.accessToken], [o.orderId, 'not-a-token'], [randomUUID(), o.accessToken]] as const) {
      const res = await payment(id, token);
      expect(res.status, `${id} ${token}`).toBe(404);
      expect(res.body.error.code).toBe('not_found');
      expect(JSON.stringify(res.body)).not.toMatch(/secret_|pk_test/);
    }
    const bad = await payment('not-a-uuid', o.accessToken);
    expect(bad.status).toBe(400);
  });

  it('gives out no client secret once the webhook has completed the order', async () => {
    const o = await order();
    const row = await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: o.orderId } });
    stripeState.succeed(row.paymentId!);
    expect((await sendStripeWebhook(h.baseUrl, { orderId: o.orderId, paymentId: row.paymentId!, type: 'payment_intent.succeeded' })).body)
      .toEqual({ received: true, handled: true });
    await waitFor(async () => (await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: o.orderId } })).status === 'fulfilled', 30_000, 100);
    const res = await payment(o.orderId, o.accessToken);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ orderId: o.orderId, provider: 'stripe', publishableKey: PUBLISHABLE_KEY, clientSecret: null });
  });

  it('serves the shop page at the return path Stripe sends the shopper to after 3-D Secure', async () => {
    const o = await order();
    const row = await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: o.orderId } });
    const res = await fetch(`${h.baseUrl}/?order=${o.orderId}&payment_intent=${row.paymentId}&payment_intent_client_secret=${encodeURIComponent(o.clientSecret)}&redirect_status=succeeded`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain('<div id="root">');
  });
});

describe('STRIPE_PUBLISHABLE_KEY', () => {
  it('must be a publishable key: a secret key would reach every browser', () => {
    const saved = process.env.STRIPE_PUBLISHABLE_KEY;
    try {
      process.env.STRIPE_PUBLISHABLE_KEY = 'sk_test_123';
      expect(() => loadConfig()).toThrow(/STRIPE_PUBLISHABLE_KEY must be a publishable key/);
      process.env.STRIPE_PUBLISHABLE_KEY = 'pk_test_abc123';
      expect(loadConfig().payments.stripePublishableKey).toBe('pk_test_abc123');
      delete process.env.STRIPE_PUBLISHABLE_KEY;
      expect(loadConfig().payments.stripePublishableKey).toBeNull();
    } finally {
      if (saved === undefined) delete process.env.STRIPE_PUBLISHABLE_KEY;
      else process.env.STRIPE_PUBLISHABLE_KEY = saved;
    }
  });
});
