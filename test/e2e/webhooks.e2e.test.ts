// The portal's Webhooks page in a real browser: an admin registers an endpoint (its secret shown
// once), a sale is delivered to a real receiver in this process, the delivery shows as delivered,
// and "Send again" delivers the same event once more.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { verifySignature } from '../../domain/webhook-signature.ts';
import { ensureWebBuild, launchBrowser, signInToPortal, watchErrors } from '../helpers/browser.ts';
import { issueCard, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

let h: Harness;
let browser: Browser;
let receiver: WebhookReceiver;
const password = 'webhooks e2e password';
const email = `hooks-e2e-${randomUUID().slice(0, 6)}@centre.test`;

beforeAll(async () => {
  ensureWebBuild();
  receiver = await startWebhookReceiver();
  h = await startHarness();
  await h.deps.users.create({ email, displayName: 'Hook Admin', role: 'admin', password });
  browser = await launchBrowser();
});
afterAll(async () => {
  await h?.deps.db.pool.query(`UPDATE webhook_endpoints SET enabled = false WHERE url LIKE $1`, [`${receiver.url}%`]);
  await browser?.close();
  await h?.close();
  await receiver?.close();
});

describe('portal webhooks page', () => {
  it('registers an endpoint, shows its deliveries, and sends one event again', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    await signInToPortal(page, `${h.baseUrl}/portal/webhooks`, email, password);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByLabel('URL').fill(`${receiver.url}/portal`);
    await page.getByLabel('Description').fill('Loyalty app');
    await page.getByRole('checkbox', { name: 'card.created' }).check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const secret = (await page.getByTestId('webhook-secret').locator('code').textContent())!;
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'I have stored it' }).click();
    await expect.poll(() => page.getByTestId('webhook-secret').count()).toBe(0);
    await expect.poll(() => page.getByTestId('webhook-endpoints').innerText()).toContain('card.created');

    const card = await issueCard(h, 1_100);
    const [first] = await waitFor(async () => { const l = receiver.on('/portal').filter((r) => r.event.data.object.card?.id === card.id); return l.length ? l : undefined; });
    expect(verifySignature(first!.headers['voucher-signature'] as string, first!.body, secret).ok).toBe(true);

    await page.getByRole('button', { name: 'Show deliveries' }).click();
    const deliveries = page.getByTestId('webhook-deliveries');
    await expect.poll(async () => {
      await page.getByRole('button', { name: 'Show deliveries' }).click();
      await page.getByRole('button', { name: 'Show deliveries' }).click();
      return deliveries.innerText();
    }, { timeout: 20_000 }).toContain('delivered');
    expect(await deliveries.innerText()).toContain(first!.event.id);
    await deliveries.getByRole('button', { name: 'Send again' }).first().click();
    await page.getByText(/Sent again as delivery \d+/).waitFor();
    await waitFor(async () => receiver.on('/portal').filter((r) => r.event.id === first!.event.id).length === 2);
    expect(await page.locator('body').innerText()).not.toContain('⟦');
    expect(errors).toEqual([]);
  });
});
