// Scratch cards in a real browser: finance orders a batch in the portal and sees it generated, the
// system owner (an admin, not the one who ordered it) approves it there, and
// a till activates one of its cards by scanning the code from the print file on the POS page.

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, ensureWebBuild, launchBrowser, signInToPortal, watchErrors } from '../helpers/browser.ts';
import { call, startHarness, type Harness } from '../helpers/harness.ts';
import { createApiClient } from '../../services/directory.ts';

let h: Harness;
let browser: Browser;
const password = 'batches e2e password';
let financeKey: string;

beforeAll(async () => {
  ensureWebBuild();
  h = await startHarness();
  await h.deps.users.create({ email: 'finance-batches@centre.test', displayName: 'Fin Finance', role: 'finance', password });
  await h.deps.users.create({ email: 'owner-batches@centre.test', displayName: 'Olga Owner', role: 'admin', password });
  financeKey = (await createApiClient(h.deps.db.prisma, { name: 'Print shop', role: 'finance' })).apiKey;
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('scratch-card batches in the browser', () => {
  it('orders, approves and sells a scratch card at the till', async ({ onTestFailed }) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    onTestFailed(() => page.screenshot({ path: path.join(ARTIFACTS, 'batches-failed.png'), fullPage: true }).then(() => {}));

    await signInToPortal(page, `${h.baseUrl}/portal`, 'finance-batches@centre.test', password);
    await page.goto(`${h.baseUrl}/portal/batches`);
    await page.getByTestId('batch-count').fill('12');
    await page.getByTestId('batch-value').fill('25.00');
    await page.getByTestId('batch-submit').click();
    const row = page.getByTestId('batch-row').first();
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 30_000 }).toBe('awaiting_approval');
    await expect(row.textContent()).resolves.toContain('12/12');
    const batchId = (await row.getAttribute('data-batch-id'))!;
    // Finance cannot approve: no button for it.
    await expect(page.getByTestId('batch-approve').count()).resolves.toBe(0);

    const owner = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const ownerErrors = watchErrors(owner);
    await signInToPortal(owner, `${h.baseUrl}/portal`, 'owner-batches@centre.test', password);
    await owner.goto(`${h.baseUrl}/portal/batches`);
    await owner.locator(`[data-batch-id="${batchId}"]`).getByTestId('batch-approve').click();
    await expect.poll(() => owner.locator(`[data-batch-id="${batchId}"]`).getAttribute('data-status')).toBe('approved');
    await owner.screenshot({ path: path.join(ARTIFACTS, 'batches.png'), fullPage: true });

    // The print shop takes the CSV (once).
    const csv = await fetch(`${h.baseUrl}/v1/backoffice/card-batches/${batchId}/print.csv`, { method: 'POST', headers: { authorization: `Bearer ${financeKey}` } });
    expect(csv.status).toBe(200);
    const code = (await csv.text()).trim().split('\r\n')[1]!.split(',')[2]!;

    const pos = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const posErrors = watchErrors(pos);
    await pos.goto(`${h.baseUrl}/pos`);
    await pos.getByTestId('api-key').fill(h.terminalA.apiKey);
    await pos.getByTestId('save-api-key').click();
    await pos.getByTestId('code').fill(code);
    await pos.getByTestId('code').press('Enter');
    await expect.poll(() => pos.getByTestId('card-info').getAttribute('data-status')).toBe('pending');
    await pos.getByTestId('activate').click();
    await expect.poll(() => pos.getByTestId('card-info').getAttribute('data-status')).toBe('active');
    await expect.poll(() => pos.getByTestId('balance').textContent()).toBe('€25.00');
    await pos.screenshot({ path: path.join(ARTIFACTS, 'pos-activation.png'), fullPage: true });

    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code } });
    expect(lookup.body.card).toMatchObject({ status: 'active', available: 2_500 });
    expect(await h.deps.ledger.violations()).toEqual([]);
    expect([...errors, ...ownerErrors, ...posErrors]).toEqual([]);
  });
});
