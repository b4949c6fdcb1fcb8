// The support console in a real browser: a purchase stuck because the mail relay is down appears
// with its failing step; once the relay is back, "Retry now" delivers the voucher at once.

import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, ensureWebBuild, launchBrowser, signInToPortal, watchErrors } from '../helpers/browser.ts';
import { call, devShopConfig, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';

let h: Harness;
let mailbox: Mailbox;
let browser: Browser;
const password = 'support e2e password';

beforeAll(async () => {
  ensureWebBuild();
  mailbox = await startMailbox();
  h = await startHarness({ config: devShopConfig(mailbox.url) });
  await h.deps.users.create({ email: 'support-ui@centre.test', displayName: 'Sam Support', role: 'support', password });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await mailbox?.close();
});

/** A purchase paid and stuck on the refusing mail relay; its workflow id. */
async function stuckPurchase(amount: number, email: string): Promise<string> {
  mailbox.refusing = true;
  const order = await call(h, 'POST', '/v1/orders', { key: null, body: { amount, currency: 'EUR', email }, idempotencyKey: randomUUID() });
  await call(h, 'POST', `/v1/orders/${order.body.orderId}/dev-confirm`, { key: null, headers: { 'x-order-token': order.body.accessToken } });
  return `purchase-${order.body.orderId}`;
}

/** The support console, signed in, with a screenshot if the test fails. */
async function openConsole(onTestFailed: (fn: () => Promise<void>) => void, failedShot: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = watchErrors(page);
  onTestFailed(() => page.screenshot({ path: path.join(ARTIFACTS, failedShot), fullPage: true }).then(() => {}));
  await signInToPortal(page, `${h.baseUrl}/portal/support`, 'support-ui@centre.test', password);
  await page.getByRole('heading', { name: 'Stuck workflows' }).waitFor();
  return { page, errors };
}

describe('support console', () => {
  it('shows a purchase stuck on the mail relay and retries it from the console once the relay is back', async ({ onTestFailed }) => {
    const email = `stuck-${randomUUID().slice(0, 6)}@example.test`;
    const workflowId = await stuckPurchase(1_500, email);
    const { page, errors } = await openConsole(onTestFailed, 'portal-support-failed.png');

    const row = page.getByTestId('stuck').locator('tr', { hasText: workflowId });
    await expect.poll(async () => (await row.count()) > 0 && (await row.innerText()), { timeout: 60_000, interval: 1_000 })
      .toMatch(/deliverVoucher[\s\S]*451/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-support.png'), fullPage: true });

    mailbox.refusing = false;
    await row.getByRole('button', { name: 'Retry now' }).click();
    await expect.poll(() => page.getByTestId('support-notice').textContent()).toBe(`Retrying ${workflowId} now.`);
    await waitFor(async () => mailbox.messages.some((m) => JSON.stringify(m.to).includes(email)), 15_000);
    await expect.poll(() => row.count(), { timeout: 15_000, interval: 1_000 }).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('cancels a stuck purchase from the console with a reason: the voucher is cancelled and the payment refunded', async ({ onTestFailed }) => {
    const email = `cancel-${randomUUID().slice(0, 6)}@example.test`;
    const workflowId = await stuckPurchase(2_000, email);
    const { page, errors } = await openConsole(onTestFailed, 'portal-support-cancel-failed.png');
    const row = page.getByTestId('stuck').locator('tr', { hasText: workflowId });
    await expect.poll(async () => (await row.count()) > 0 && (await row.innerText()), { timeout: 60_000, interval: 1_000 })
      .toMatch(/deliverVoucher/);

    await row.getByRole('button', { name: 'Cancel with compensation' }).click();
    const confirm = page.getByTestId('cancel-confirm');
    await confirm.getByLabel('Reason').fill('shopper asked for the money back');
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-support-cancel.png'), fullPage: true });
    await confirm.getByRole('button', { name: 'Confirm cancellation' }).click();
    await expect.poll(() => page.getByTestId('support-notice').textContent(), { timeout: 30_000 })
      .toBe(`Cancelled ${workflowId}: the voucher was cancelled and the payment refunded.`);
    const cancelled = await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: workflowId.slice('purchase-'.length) } });
    expect(cancelled).toMatchObject({ status: 'refunded', failureReason: 'cancelled by support (Sam Support): shopper asked for the money back' });

    // With the relay back, the shopper gets the refund notice, and the console is clear.
    mailbox.refusing = false;
    await waitFor(async () => mailbox.messages.some((m) => JSON.stringify(m.to).includes(email) && (m.subject ?? '').includes('refunded')), 30_000);
    await expect.poll(() => row.count(), { timeout: 30_000, interval: 1_000 }).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
