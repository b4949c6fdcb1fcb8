// Print@Home end to end: REST order -> purchase workflow -> stripe-mock -> signed webhook ->
// payment re-read from Stripe -> card issued -> PDF with QR e-mailed through a real SMTP server ->
// the code redeems at a till. stripe-mock sits behind the state proxy (test/helpers/stripe-proxy.ts),
// which holds what a Stripe account would: which intents the shopper paid.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import Stripe from 'stripe';
import { loadConfig } from '../../infra/config.ts';
import { hashCardCode } from '../../domain/card-code.ts';
import { orderCardCode } from '../../services/orders.ts';
import { cancelPurchaseUpdate, purchaseStateQuery } from '../../workflows/purchase.ts';
import { call, posRef, startHarness, startWorker, waitFor, type Harness } from '../helpers/harness.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';
import { pdfQrCode, pdfText } from '../helpers/voucher.ts';
import { startStripeProxy, type StripeProxy } from '../helpers/stripe-proxy.ts';

let h: Harness;
let mailbox: Mailbox;
let stripeState: StripeProxy;
const stripe = new Stripe('sk_test_123');
const WEBHOOK_SECRET = 'whsec_test_secret';

beforeAll(async () => {
  mailbox = await startMailbox();
  stripeState = await startStripeProxy(inject('stripeMockUrl'));
  h = await startHarness({ config: {
    mail: { smtpUrl: mailbox.url, from: 'Vouchers <vouchers@centre.test>' },
    payments: { ...loadConfig().payments, provider: 'stripe', stripeApiBase: stripeState.url, stripeWebhookSecret: WEBHOOK_SECRET },
  } });
  h.config.payments.confirmationTimeoutSeconds = 60;
});
afterAll(async () => {
  await h?.close();
  await mailbox?.close();
  await stripeState?.close();
});
beforeEach(() => {
  mailbox.refusing = false;
  mailbox.delayMs = 0;
  stripeState.beforeCancel = null;
});

async function order(amount = 2_500, email = `shopper-${randomUUID().slice(0, 6)}@example.test`) {
  const res = await call(h, 'POST', '/v1/orders', { key: null, body: { amount, currency: 'EUR', email }, idempotencyKey: randomUUID() });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { ...res.body as { orderId: string; clientSecret: string | null; status: string; accessToken: string }, email };
}

function getOrder(o: { orderId: string; accessToken: string }, token = o.accessToken) {
  return call(h, 'GET', `/v1/orders/${o.orderId}`, { key: null, headers: { 'x-order-token': token } });
}

async function orderRow(orderId: string) {
  return h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
}

/** Stripe's webhook. A success is sent as Stripe sends it: after the shopper paid (unless `forged`). */
async function webhook(orderId: string, type: 'payment_intent.succeeded' | 'payment_intent.payment_failed', opts: { eventId?: string; secret?: string; paymentId?: string; forged?: boolean } = {}) {
  const paymentId = opts.paymentId ?? (await orderRow(orderId)).paymentId!;
  if (type === 'payment_intent.succeeded' && !opts.forged && !opts.secret && stripeState.intents.has(paymentId)) stripeState.succeed(paymentId);
  const payload = JSON.stringify({
    id: opts.eventId ?? `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type, api_version: '2024-06-20',
    created: Math.floor(Date.now() / 1000), livemode: false, pending_webhooks: 1, request: null,
    data: { object: { id: paymentId, object: 'payment_intent', amount: 2_500, currency: 'eur', metadata: { orderId },
      last_payment_error: type === 'payment_intent.payment_failed' ? { message: 'Your card was declined.' } : null } },
  });
  const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: opts.secret ?? WEBHOOK_SECRET });
  const res = await fetch(`${h.baseUrl}/v1/webhooks/stripe`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload,
  });
  return { status: res.status, body: await res.json() as any };
}

async function settled(orderId: string, statuses = ['fulfilled', 'refunded', 'expired']) {
  return waitFor(async () => {
    const row = await orderRow(orderId);
    return statuses.includes(row.status) ? row : null;
  }, 30_000, 100);
}

/** The order row is final a moment before the workflow's last task completes: wait for both. */
async function workflowClosed(orderId: string) {
  return h.client.workflow.getHandle(`purchase-${orderId}`).result();
}

function mailsTo(email: string) {
  return mailbox.messages.filter((m) => m.to && JSON.stringify(m.to).includes(email));
}

describe('Print@Home purchase', () => {
  it('pays, issues one card, e-mails a PDF whose QR code redeems at a till', async () => {
    const o = await order(2_500);
    expect(o.status).toBe('awaiting_payment');
    expect(o.clientSecret).toEqual(expect.any(String));
    expect((await webhook(o.orderId, 'payment_intent.succeeded')).body).toEqual({ received: true, handled: true });

    const row = await settled(o.orderId);
    expect(row.status).toBe('fulfilled');
    expect(row.cardId).toEqual(expect.any(String));
    await waitFor(async () => mailsTo(o.email).length === 1);
    const [mail] = mailsTo(o.email);
    expect(mail!.subject).toContain('€25.00');
    expect(mail!.attachments).toHaveLength(1);
    const pdf = mail!.attachments[0]!;
    expect(pdf.contentType).toBe('application/pdf');

    const code = pdfQrCode(pdf.content);
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    const text = pdfText(pdf.content);
    expect(text).toContain(code!);
    expect(text).toContain('€25.00');
    expect(text).toMatch(/Valid until \d{1,2} [A-Z][a-z]+ \d{4}/);

    // Redeemable at once in any store.
    const auth = await call(h, 'POST', '/v1/redemptions', { key: h.terminalB.apiKey, body: { code, amount: 1_000, currency: 'EUR', posReference: posRef() } });
    expect(auth.status).toBe(200);
    expect(auth.body.card).toMatchObject({ available: 1_500, held: 1_000 });

    // The workflow is findable by its search attributes and reports its state.
    const handle = h.client.workflow.getHandle(`purchase-${o.orderId}`);
    expect((await handle.result()).status).toBe('fulfilled');
    const description = await handle.describe();
    expect(description.searchAttributes.VoucherStatus).toEqual(['fulfilled']);
    expect(description.searchAttributes.VoucherAmount).toEqual([2_500]);
    expect((await handle.query(purchaseStateQuery)).cardId).toBe(row.cardId);
  });

  it('serves the PDF through a signed, expiring link and refuses altered ones', async () => {
    const o = await order(5_000);
    await webhook(o.orderId, 'payment_intent.succeeded');
    await settled(o.orderId);
    const view = await getOrder(o);
    expect(view.body).toMatchObject({ status: 'fulfilled', amount: 5_000, steps: [{ done: true }, { done: true }, { done: true }] });
    // The order id alone opens nothing: it travels in workflow ids, Stripe metadata and e-mails.
    expect((await call(h, 'GET', `/v1/orders/${o.orderId}`, { key: null })).status).toBe(404);
    expect((await getOrder(o, o.accessToken.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')))).status).toBe(404);
    expect(view.body.emailMasked).not.toContain(o.email.split('@')[0]);
    const url = new URL(view.body.downloadUrl);
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await ok.arrayBuffer());
    expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
    expect(pdfQrCode(pdf)).toEqual(expect.stringMatching(/^[0-9A-Z-]{19}$/));

    const altered = new URL(url);
    altered.searchParams.set('sig', url.searchParams.get('sig')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')));
    expect((await fetch(altered)).status).toBe(400);
    const extended = new URL(url);
    extended.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    expect((await fetch(extended)).status).toBe(400);
    const otherOrder = new URL(url.href.replace(o.orderId, randomUUID()));
    expect((await fetch(otherOrder)).status).toBe(400);
    const guessed = await fetch(`${h.baseUrl}/v1/orders/${o.orderId}/voucher.pdf`);
    expect(guessed.status).toBe(400);
    expect(((await guessed.json()) as any).error.code).toBe('invalid_signature');
  });

  it('ignores duplicate, late and out-of-order webhooks: one card, one e-mail', async () => {
    const o = await order(1_000);
    expect((await webhook(o.orderId, 'payment_intent.payment_failed')).status).toBe(200);
    await waitFor(async () => (await orderRow(o.orderId)).status === 'payment_failed');
    const success = await webhook(o.orderId, 'payment_intent.succeeded', { eventId: 'evt_dup_1' });
    expect(success.status).toBe(200);
    await webhook(o.orderId, 'payment_intent.succeeded', { eventId: 'evt_dup_1' });
    await webhook(o.orderId, 'payment_intent.succeeded');
    await webhook(o.orderId, 'payment_intent.payment_failed');
    const row = await settled(o.orderId);
    expect(row.status).toBe('fulfilled');
    await workflowClosed(o.orderId);
    // Late, after the workflow finished: acknowledged, nothing happens.
    const late = await webhook(o.orderId, 'payment_intent.succeeded');
    expect(late).toEqual({ status: 200, body: { received: true, handled: false } });
    await new Promise((r) => setTimeout(r, 500));
    expect(mailsTo(o.email)).toHaveLength(1);
    const { rows } = await h.deps.db.pool.query(`SELECT count(*)::int AS n FROM idempotency_records WHERE scope = 'order' AND key = $1`, [o.orderId]);
    expect(rows[0].n).toBe(1);
    expect(await h.deps.db.prisma.card.count({ where: { orders: { some: { id: o.orderId } } } })).toBe(1);
  });

  it('cancels the payment when no confirmation arrives in time, and refunds a success that comes later', async () => {
    h.config.payments.confirmationTimeoutSeconds = 5;
    try {
      const o = await order(1_500);
      await webhook(o.orderId, 'payment_intent.payment_failed');
      const failed = await waitFor(async () => {
        const view = await getOrder(o);
        return view.body.status === 'payment_failed' ? view.body : null;
      }, 4_000, 50);
      expect(failed.failureReason).toBe('Your card was declined.');
      const row = await settled(o.orderId);
      expect(row).toMatchObject({ status: 'expired', cardId: null, emailSentAt: null });
      expect(mailsTo(o.email)).toHaveLength(0);
      expect((await workflowClosed(o.orderId)).status).toBe('expired');
      // A success arriving for an expired order (one expired by an earlier version, which took a
      // refused cancel for "nothing to cancel"): the shopper was told the order was cancelled, so
      // the money goes back, once. Only a payment Stripe holds as succeeded: a success event for
      // the cancelled intent changes nothing.
      expect((await webhook(o.orderId, 'payment_intent.succeeded', { forged: true })).body.handled).toBe(false);
      await expect(h.client.workflow.getHandle(`late-payment-${o.orderId}`).describe()).rejects.toThrow();
      expect((await webhook(o.orderId, 'payment_intent.succeeded')).body.handled).toBe(true);
      expect((await webhook(o.orderId, 'payment_intent.succeeded')).body.handled).toBe(true);
      const refunded = await settled(o.orderId, ['refunded']);
      expect(refunded).toMatchObject({ status: 'refunded', cardId: null, refundId: expect.stringMatching(/^re_/) });
      await h.client.workflow.getHandle(`late-payment-${o.orderId}`).result();
      await waitFor(async () => mailsTo(o.email).length === 1);
      expect(mailsTo(o.email)[0]!.subject).toContain('refunded');
      expect((await webhook(o.orderId, 'payment_intent.succeeded')).body.handled).toBe(false);
    } finally {
      h.config.payments.confirmationTimeoutSeconds = 60;
    }
  });

  it('refunds through Stripe and tells the shopper when the card cannot be issued', async () => {
    const o = await order(2_000);
    // A card already holding this order's code makes issuing fail for good.
    const hash = hashCardCode(orderCardCode(h.deps.secrets.deriveKey, o.orderId), h.deps.secrets.hashKey);
    await h.deps.ledger.issueCard({ scope: 'test', key: randomUUID() }, {
      codeHash: hash, last4: 'XXXX', currency: 'EUR', amount: 100n, expiresAt: new Date(Date.now() + 86_400_000),
      channel: 'pos', storeId: h.storeA, terminalId: h.terminalA.id,
    });
    await webhook(o.orderId, 'payment_intent.succeeded');
    const row = await settled(o.orderId);
    expect(row.status).toBe('refunded');
    expect(row.refundId).toMatch(/^re_/);
    expect(row.cardId).toBeNull();
    expect(row.failureReason).toContain('card_code_collision');
    await waitFor(async () => mailsTo(o.email).length === 1);
    expect(mailsTo(o.email)[0]!.subject).toContain('refunded');
  });

  it('survives the worker dying before the webhook and while mail is down: still one card and one e-mail', async () => {
    const o = await order(3_000);
    await h.worker!.stop();
    await webhook(o.orderId, 'payment_intent.succeeded');
    await webhook(o.orderId, 'payment_intent.succeeded');
    mailbox.refusing = true;
    let worker = await startWorker(h.deps, h.client);
    await waitFor(async () => mailbox.refusedCount > 0 && (await orderRow(o.orderId)).status === 'issued');
    // The relay keeps refusing: kill the worker mid-retry, bring mail back, start a new one.
    await worker.stop();
    mailbox.refusing = false;
    worker = await startWorker(h.deps, h.client);
    h.worker = worker;
    const row = await settled(o.orderId);
    expect(row.status).toBe('fulfilled');
    await waitFor(async () => mailsTo(o.email).length === 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(mailsTo(o.email)).toHaveLength(1);
    expect(await h.deps.db.prisma.card.count({ where: { orders: { some: { id: o.orderId } } } })).toBe(1);
  }, 90_000);

  it('answers a checkout retry after the purchase finished from the order: no second run, no new payment', async () => {
    const key = randomUUID();
    const body = { amount: 1_200, currency: 'EUR', email: `retry-${randomUUID().slice(0, 6)}@example.test` };
    const first = await call(h, 'POST', '/v1/orders', { key: null, body, idempotencyKey: key });
    await webhook(first.body.orderId, 'payment_intent.succeeded');
    await settled(first.body.orderId);
    await workflowClosed(first.body.orderId);
    const { runId } = await h.client.workflow.getHandle(`purchase-${first.body.orderId}`).describe();
    const retry = await call(h, 'POST', '/v1/orders', { key: null, body, idempotencyKey: key });
    expect(retry.body).toEqual({
      orderId: first.body.orderId, status: 'fulfilled', provider: 'stripe', clientSecret: null, accessToken: first.body.accessToken });
    expect((await h.client.workflow.getHandle(`purchase-${first.body.orderId}`).describe()).runId).toBe(runId);
  });

  it('refuses bad input with 4xx and changes nothing', async () => {
    const before = await h.deps.db.prisma.order.count();
    const bad = async (body: unknown, status: number, code: string) => {
      const res = await call(h, 'POST', '/v1/orders', { key: null, body, idempotencyKey: randomUUID() });
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.error.code).toBe(code);
    };
    await bad({ amount: 100, currency: 'EUR', email: 'a@example.test' }, 422, 'amount_out_of_range');
    await bad({ amount: 99_999_999, currency: 'EUR', email: 'a@example.test' }, 422, 'amount_out_of_range');
    await bad({ amount: 2_500, currency: 'EUR', email: 'not-an-email' }, 400, 'validation_error');
    await bad({ amount: 2_500, currency: 'USD', email: 'a@example.test' }, 400, 'validation_error');
    await bad({ amount: 25.5, currency: 'EUR', email: 'a@example.test' }, 400, 'validation_error');
    expect(await h.deps.db.prisma.order.count()).toBe(before);

    const unknown = await call(h, 'GET', `/v1/orders/${randomUUID()}`, { key: null, headers: { 'x-order-token': 'x' } });
    expect(unknown.status).toBe(404);
    expect((await call(h, 'GET', '/v1/orders/not-a-uuid', { key: null })).status).toBe(400);

    const o = await order(1_000);
    const forged = await webhook(o.orderId, 'payment_intent.succeeded', { secret: 'whsec_wrong' });
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('invalid_signature');
    const unsigned = await fetch(`${h.baseUrl}/v1/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unsigned.status).toBe(400);
    await new Promise((r) => setTimeout(r, 300));
    expect((await orderRow(o.orderId)).status).toBe('awaiting_payment');
    // Same idempotency key, same order; different body, refused.
    const key = randomUUID();
    const first = await call(h, 'POST', '/v1/orders', { key: null, body: { amount: 1_000, currency: 'EUR', email: 'k@example.test' }, idempotencyKey: key });
    const again = await call(h, 'POST', '/v1/orders', { key: null, body: { amount: 1_000, currency: 'EUR', email: 'k@example.test' }, idempotencyKey: key });
    expect(again.body.orderId).toBe(first.body.orderId);
    const other = await call(h, 'POST', '/v1/orders', { key: null, body: { amount: 2_000, currency: 'EUR', email: 'k@example.test' }, idempotencyKey: key });
    expect(other.status).toBe(422);
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** The payment succeeds, and its webhook arrives, while Stripe is still answering the cancel. */
  function payWhileCancelling(orderId: string, paymentId: string): () => Promise<{ status: number; body: any }> {
    let raced: Promise<{ status: number; body: any }> | undefined;
    stripeState.beforeCancel = async (id) => {
      if (id !== paymentId || raced) return;
      stripeState.succeed(id);
      raced = webhook(orderId, 'payment_intent.succeeded');
      await raced;
      await sleep(300);
    };
    return () => raced!;
  }
  const cardsOf = (orderId: string) => h.deps.db.prisma.card.count({ where: { orders: { some: { id: orderId } } } });

  it('issues a payment that succeeds while the deadline cancels it: one card, one e-mail, no refund', async () => {
    h.config.payments.confirmationTimeoutSeconds = 2;
    try {
      const o = await order(1_800);
      const paymentId = (await orderRow(o.orderId)).paymentId!;
      // Stripe is slow to answer the cancel; the shopper's payment goes through first and its
      // webhook arrives while the cancel is on its way.
      const raced = payWhileCancelling(o.orderId, paymentId);
      expect((await workflowClosed(o.orderId)).status).toBe('fulfilled');
      expect((await raced()).body).toEqual({ received: true, handled: true });
      expect(await orderRow(o.orderId)).toMatchObject({ status: 'fulfilled', refundId: null, failureReason: null });
      await waitFor(async () => mailsTo(o.email).length === 1);
      await sleep(300);
      expect(mailsTo(o.email)).toHaveLength(1);
      expect(mailsTo(o.email)[0]!.attachments).toHaveLength(1);
      expect(await cardsOf(o.orderId)).toBe(1);
      expect(stripeState.refundsOf(paymentId)).toBe(0);
    } finally {
      h.config.payments.confirmationTimeoutSeconds = 60;
    }
  });

  it('refunds, once, a payment that succeeds while support cancels the unpaid order: no card', async () => {
    const o = await order(2_200);
    const paymentId = (await orderRow(o.orderId)).paymentId!;
    payWhileCancelling(o.orderId, paymentId);
    const handle = h.client.workflow.getHandle(`purchase-${o.orderId}`);
    const state = await handle.executeUpdate(cancelPurchaseUpdate, { args: [{ reason: 'shopper changed their mind', requestedBy: 'Sam' }] });
    expect(state.status).toBe('refunded');
    expect((await handle.result()).status).toBe('refunded');
    expect(await orderRow(o.orderId)).toMatchObject({
      status: 'refunded', cardId: null, refundId: expect.stringMatching(/^re_/),
      failureReason: 'cancelled by support (Sam): shopper changed their mind' });
    expect(stripeState.refundsOf(paymentId)).toBe(1);
    await waitFor(async () => mailsTo(o.email).length === 1);
    expect(mailsTo(o.email)[0]!.subject).toContain('refunded');
    expect(await cardsOf(o.orderId)).toBe(0);
  });

  it('does not issue on a success Stripe does not confirm; the real payment then issues one card', async () => {
    const o = await order(1_300);
    const paymentId = (await orderRow(o.orderId)).paymentId!;
    // Signed, so it passes the signature check, but the intent was never paid.
    expect((await webhook(o.orderId, 'payment_intent.succeeded', { forged: true })).body.handled).toBe(true);
    await waitFor(async () => stripeState.calls.some((c) => c.method === 'GET' && c.path === `/v1/payment_intents/${paymentId}`));
    await sleep(500);
    expect(await orderRow(o.orderId)).toMatchObject({ status: 'awaiting_payment', cardId: null });
    expect(await cardsOf(o.orderId)).toBe(0);
    expect(mailsTo(o.email)).toHaveLength(0);

    await webhook(o.orderId, 'payment_intent.succeeded');
    expect((await workflowClosed(o.orderId)).status).toBe('fulfilled');
    expect(await cardsOf(o.orderId)).toBe(1);
    await waitFor(async () => mailsTo(o.email).length === 1);
  });

  it('refunds the whole of a paid intent that does not match its order, and issues no card', async () => {
    const o = await order(2_700);
    const paymentId = (await orderRow(o.orderId)).paymentId!;
    stripeState.intents.get(paymentId)!.amount = 270;
    await webhook(o.orderId, 'payment_intent.succeeded');
    expect((await workflowClosed(o.orderId)).status).toBe('refunded');
    const row = await orderRow(o.orderId);
    expect(row).toMatchObject({ status: 'refunded', cardId: null, refundId: expect.stringMatching(/^re_/) });
    expect(row.failureReason).toBe('the payment does not match the order: 270 EUR was paid for 2700 EUR');
    expect(stripeState.refundsOf(paymentId)).toBe(1);
    const refund = stripeState.calls.find((c) => c.path === '/v1/refunds' && c.params.get('payment_intent') === paymentId)!;
    expect(refund.params.has('amount')).toBe(false);
    expect(await cardsOf(o.orderId)).toBe(0);
  });

  it('keeps an order refunded when its cancelled delivery finishes after the compensation', async () => {
    mailbox.delayMs = 2_000;
    const o = await order(1_600);
    await webhook(o.orderId, 'payment_intent.succeeded');
    // The voucher e-mail is in the relay's hands when support cancels.
    await waitFor(async () => mailbox.receiving > 0 && (await orderRow(o.orderId)).status === 'issued', 20_000, 20);
    const handle = h.client.workflow.getHandle(`purchase-${o.orderId}`);
    const state = await handle.executeUpdate(cancelPurchaseUpdate, { args: [{ reason: 'duplicate order', requestedBy: 'Sam' }] });
    expect(state.status).toBe('refunded');
    expect((await handle.result()).status).toBe('refunded');
    // The abandoned attempt's mail is accepted after that, and its activity finishes.
    await waitFor(async () => mailbox.receiving === 0 && mailsTo(o.email).length === 2, 20_000);
    await sleep(500);
    expect(await orderRow(o.orderId)).toMatchObject({ status: 'refunded', refundId: expect.stringMatching(/^re_/) });
    const card = await h.deps.db.prisma.card.findFirstOrThrow({ where: { orders: { some: { id: o.orderId } } } });
    expect(card.status).toBe('blocked');
  }, 60_000);
});
