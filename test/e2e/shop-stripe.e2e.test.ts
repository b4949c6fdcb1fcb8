// The shop with Stripe configured, in Chromium. Stripe.js cannot load here (no network), so the
// browser's request for it is intercepted with route(): the test sees the page ask js.stripe.com
// for Stripe.js, and answers with a small stand-in that records what the page gives Stripe.js (the
// publishable key, the PaymentIntent's client secret, the return URL) and marks where the Payment
// Element would mount. Card entry, 3-D Secure at the bank and Stripe's own confirmation are not
// tested here (they need Stripe); the page Stripe returns the shopper to afterwards is, with the
// order completed by the signed webhook as Stripe would send it.

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, ensureWebBuild, launchBrowser } from '../helpers/browser.ts';
import { startHarness, stripeShopConfig, type Harness } from '../helpers/harness.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';
import { startStripeProxy, type StripeProxy } from '../helpers/stripe-proxy.ts';
import { sendStripeWebhook } from '../helpers/stripe-webhook.ts';

const PUBLISHABLE_KEY = 'pk_test_51VoucherEngineBrowserTest';

/** Stands in for https://js.stripe.com/…/stripe.js: records the page's calls; renders a marker where the element mounts. */
const STRIPE_JS_STAND_IN = `
window.__stripe = { keys: [], elements: [], created: [], confirms: [] };
window.Stripe = function (key) {
  window.__stripe.keys.push(key);
  const noop = () => {};
  return {
    _registerWrapper: noop, registerAppInfo: noop,
    createToken: noop, createPaymentMethod: noop, confirmCardPayment: noop,
    elements(options) {
      window.__stripe.elements.push(options);
      return {
        update: noop, getElement: () => null, fetchUpdates: () => Promise.resolve({}), submit: () => Promise.resolve({}),
        create(type, opts) {
          window.__stripe.created.push(type);
          const handlers = {};
          return {
            mount(node) {
              const el = document.createElement('div');
              el.setAttribute('data-testid', 'stripe-element-stand-in');
              el.textContent = 'Payment Element (' + type + ')';
              node.appendChild(el);
              setTimeout(() => (handlers.ready || []).forEach((cb) => cb({ elementType: type })), 0);
            },
            on(event, cb) { (handlers[event] = handlers[event] || []).push(cb); return this; },
            off: noop, once: noop, update: noop, destroy: noop, unmount: noop, blur: noop, focus: noop, clear: noop,
          };
        },
      };
    },
    confirmPayment(params) {
      window.__stripe.confirms.push({ returnUrl: params.confirmParams && params.confirmParams.return_url, redirect: params.redirect });
      return Promise.resolve({ error: { type: 'card_error', message: 'Your card requires authentication (stand-in).' } });
    },
  };
};
`;

let h: Harness;
let mailbox: Mailbox;
let stripeState: StripeProxy;
let browser: Browser;

beforeAll(async () => {
  ensureWebBuild();
  mailbox = await startMailbox();
  stripeState = await startStripeProxy(inject('stripeMockUrl'));
  h = await startHarness({ config: stripeShopConfig(mailbox.url, stripeState.url, PUBLISHABLE_KEY) });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await mailbox?.close();
  await stripeState?.close();
});

describe('shop with Stripe', () => {
  it('asks js.stripe.com for Stripe.js, gives it the publishable key and the order\'s client secret, and mounts the Payment Element', async ({ onTestFailed }) => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    onTestFailed(() => page.screenshot({ path: path.join(ARTIFACTS, 'shop-stripe-failed.png'), fullPage: true }).then(() => {}));
    const stripeRequests: string[] = [];
    await page.route('https://js.stripe.com/**', (route) => {
      stripeRequests.push(route.request().url());
      return route.fulfill({ status: 200, contentType: 'application/javascript', body: STRIPE_JS_STAND_IN });
    });
    await page.goto(`${h.baseUrl}/`);
    await page.getByTestId('preset-2500').click();
    await page.getByTestId('email').fill('stripe-shopper@example.test');
    await page.getByTestId('buy').click();
    await page.waitForURL(/[?&]order=[0-9a-f-]{36}/);
    const orderId = new URL(page.url()).searchParams.get('order')!;

    await page.getByTestId('stripe-element-stand-in').waitFor();
    expect(stripeRequests).toHaveLength(1);
    expect(stripeRequests[0]).toMatch(/^https:\/\/js\.stripe\.com\/(v3|[a-z]+)\/stripe\.js/);
    const row = await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
    const recorded = await page.evaluate(() => (window as any).__stripe);
    expect(recorded.keys).toEqual([PUBLISHABLE_KEY]);
    expect(recorded.elements).toEqual([expect.objectContaining({ clientSecret: expect.stringMatching(/^pi_\w+_secret_\w+$/) })]);
    expect(recorded.created).toEqual(['payment']);
    // The mount point is the page's own container.
    expect(await page.getByTestId('stripe-payment-element').getByTestId('stripe-element-stand-in').count()).toBe(1);

    // Paying confirms with the order's page as the return URL; Stripe.js's error is shown.
    await page.getByTestId('stripe-pay').click();
    await page.getByTestId('stripe-card-error').waitFor();
    const confirms = await page.evaluate(() => (window as any).__stripe.confirms);
    expect(confirms).toEqual([{ returnUrl: `${h.baseUrl}/?order=${orderId}`, redirect: 'if_required' }]);
    expect(row.status).toBe('awaiting_payment');
    await page.close();
  });

  it('after 3-D Secure, the return URL shows the order\'s state and follows it to the voucher once Stripe\'s webhook arrives', async ({ onTestFailed }) => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    onTestFailed(() => page.screenshot({ path: path.join(ARTIFACTS, 'shop-stripe-return-failed.png'), fullPage: true }).then(() => {}));
    await page.route('https://js.stripe.com/**', (route) => route.fulfill({ status: 200, contentType: 'application/javascript', body: STRIPE_JS_STAND_IN }));
    await page.goto(`${h.baseUrl}/`);
    await page.getByTestId('preset-5000').click();
    await page.getByTestId('email').fill('three-ds@example.test');
    await page.getByTestId('buy').click();
    await page.waitForURL(/[?&]order=[0-9a-f-]{36}/);
    const orderId = new URL(page.url()).searchParams.get('order')!;
    await page.getByTestId('stripe-element-stand-in').waitFor();
    const row = await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
    const clientSecret = (await page.evaluate(() => (window as any).__stripe.elements[0].clientSecret)) as string;

    // The bank sends the shopper back as Stripe does: the return URL (no fragment) plus Stripe's parameters.
    await page.goto(`${h.baseUrl}/?order=${orderId}&payment_intent=${row.paymentId}&payment_intent_client_secret=${encodeURIComponent(clientSecret)}&redirect_status=succeeded`);
    await page.getByTestId('stripe-return').waitFor();
    expect(await page.getByTestId('stripe-return').getAttribute('data-redirect-status')).toBe('succeeded');
    expect(await page.getByTestId('order').getAttribute('data-status')).toBe('awaiting_payment');
    expect(await page.getByTestId('order-amount').textContent()).toBe('€50.00');
    // Stripe's parameters (the client secret among them) leave the address bar; the order stays.
    await expect.poll(() => new URL(page.url()).search).toBe(`?order=${orderId}`);
    expect(new URLSearchParams(new URL(page.url()).hash.slice(1)).get('token')).toBeTruthy();

    // Stripe's webhook completes the order; the page follows.
    stripeState.succeed(row.paymentId!);
    expect((await sendStripeWebhook(h.baseUrl, { orderId, paymentId: row.paymentId!, type: 'payment_intent.succeeded', amount: 5_000 })).status).toBe(200);
    await page.getByRole('heading', { name: 'Your voucher is ready' }).waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('stripe-return').count()).toBe(0);
    await page.close();
  });

  it('after a failed 3-D Secure, says the card was not confirmed and offers the card form again', async () => {
    const page = await browser.newPage();
    await page.route('https://js.stripe.com/**', (route) => route.fulfill({ status: 200, contentType: 'application/javascript', body: STRIPE_JS_STAND_IN }));
    await page.goto(`${h.baseUrl}/`);
    await page.getByTestId('email').fill('three-ds-fail@example.test');
    await page.getByTestId('buy').click();
    await page.waitForURL(/[?&]order=[0-9a-f-]{36}/);
    const orderId = new URL(page.url()).searchParams.get('order')!;
    await page.getByTestId('stripe-element-stand-in').waitFor();
    const row = await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
    await page.goto(`${h.baseUrl}/?order=${orderId}&payment_intent=${row.paymentId}&redirect_status=failed`);
    await page.getByTestId('stripe-return').waitFor();
    expect(await page.getByTestId('stripe-return').textContent()).toMatch(/not confirmed with your bank/);
    await page.getByTestId('stripe-element-stand-in').waitFor();
    await page.close();
  });

  it('without a connection to Stripe, says the card form could not be loaded', async () => {
    const page = await browser.newPage();
    await page.route('https://js.stripe.com/**', (route) => route.abort('internetdisconnected'));
    await page.goto(`${h.baseUrl}/`);
    await page.getByTestId('email').fill('offline@example.test');
    await page.getByTestId('buy').click();
    await page.getByTestId('stripe-load-failed').waitFor();
    expect(await page.getByTestId('stripe-payment-element').count()).toBe(0);
    await page.close();
  });
});
