// The back-office portal in a real browser: sign in, clear a month and close it, in English and in
// German; and a user whose admin requires a second factor enrols and signs in with a TOTP code.

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, ensureWebBuild, launchBrowser, signInToPortal, watchErrors } from '../helpers/browser.ts';
import { buildDataset, moveIntoPeriod, type Dataset } from '../helpers/clearing-dataset.ts';
import { call, issueCard, posRef, startHarness, type Harness } from '../helpers/harness.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';

let h: Harness;
let mailbox: Mailbox;
let browser: Browser;
let dataset: Dataset;
const password = 'portal e2e password';
const period = '2025-06';

beforeAll(async () => {
  ensureWebBuild();
  mailbox = await startMailbox();
  h = await startHarness({ config: { mail: { smtpUrl: mailbox.url, from: 'Clearing <clearing@centre.test>' } } });
  await h.deps.users.create({ email: 'admin-e2e@centre.test', displayName: 'Ada Admin', role: 'admin', password });
  dataset = await buildDataset(h, 'e2e');
  await moveIntoPeriod(inject('databaseUrl'), dataset.cardIds, period);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await mailbox?.close();
});

function signIn(page: Page, email: string): Promise<void> {
  return signInToPortal(page, `${h.baseUrl}/portal`, email, password);
}

async function noMissingTexts(page: Page): Promise<void> {
  expect(await page.locator('body').innerText()).not.toContain('⟦');
}

describe('back-office portal', () => {
  it('signs in, clears a month to approval, closes it, and shows it in German', async ({ onTestFailed }) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    onTestFailed(() => page.screenshot({ path: path.join(ARTIFACTS, 'portal-failed.png'), fullPage: true }).then(() => {}));
    await page.goto(`${h.baseUrl}/portal`);
    await page.getByRole('heading', { name: 'Sign in to the back office' }).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-sign-in.png'), fullPage: true });

    // A wrong password is refused on the page.
    await page.getByLabel('E-mail').fill('admin-e2e@centre.test');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByTestId('error').getAttribute('data-app-code')).toBe('invalid_credentials');

    await signIn(page, 'admin-e2e@centre.test');
    await expect.poll(() => page.getByTestId('signed-in-as').textContent()).toBe('Ada Admin · Admin');

    // The dashboard opens first; the seeded month shows in its figures and charts.
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByLabel('From', { exact: true }).fill(`${period}-01`);
    await page.getByLabel('To', { exact: true }).fill(`${period}-30`);
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => page.getByTestId('kpi-sales').textContent()).toBe('290.00 EUR');
    await expect(page.getByTestId('kpi-redemptions').textContent()).resolves.toBe('230.00 EUR');
    await expect(page.getByTestId('kpi-refunds').textContent()).resolves.toBe('35.00 EUR');
    expect(await page.getByTestId('chart-daily').locator('rect[height]:not([height="0"])').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('chart-liability').locator('polyline').count()).toBe(1);
    expect(await page.getByTestId('counter-channel').innerText()).toContain('At the till');
    await noMissingTexts(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-dashboard.png'), fullPage: true });

    await page.getByRole('link', { name: 'Clearing' }).click();

    await page.getByLabel('Period (YYYY-MM)').fill(period);
    await page.getByRole('button', { name: 'Start clearing' }).click();
    await expect.poll(() => page.getByTestId('period-status').textContent(), { timeout: 60_000 }).toBe('Awaiting approval');
    const positions = await page.getByTestId('positions').innerText();
    for (const party of dataset.parties) expect(positions).toContain(party.name);
    expect(positions).toContain('Centre (scheme)');
    expect(positions).toContain('-15.00 EUR'); // party 1's net, worked out by hand
    await expect(page.getByTestId('net-total').textContent()).resolves.toBe('0.00 EUR');
    expect(await page.getByTestId('statements').locator('a').count()).toBe(6);
    await noMissingTexts(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-clearing.png'), fullPage: true });

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Approve and close' }).click();
    await expect.poll(() => page.getByTestId('period-status').textContent(), { timeout: 30_000 }).toBe('Closed');
    const { rows } = await h.deps.db.pool.query('SELECT status, approved_by FROM clearing_periods WHERE period = $1', [period]);
    expect(rows[0]).toMatchObject({ status: 'closed', approved_by: expect.stringContaining('Ada Admin') });
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-clearing-closed.png'), fullPage: true });

    await page.getByTestId('language').selectOption('de');
    await page.getByRole('heading', { name: 'Monatsabrechnung' }).waitFor();
    await expect(page.getByTestId('period-status').textContent()).resolves.toBe('Abgeschlossen');
    await noMissingTexts(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-clearing-de.png'), fullPage: true });

    await page.getByRole('link', { name: 'Benutzer' }).click();
    await expect.poll(() => page.getByTestId('users').innerText()).toContain('admin-e2e@centre.test');
    await noMissingTexts(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-users-de.png'), fullPage: true });
    await page.getByTestId('language').selectOption('en');

    // Admin: a new terminal's key is shown once, and the audit log has what happened.
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Administration' }).waitFor();
    await page.locator('#t-store').selectOption({ label: dataset.stores[0]!.name });
    await page.locator('#t-name').fill('Till from the portal');
    await page.getByRole('button', { name: 'Add terminal' }).click();
    await expect.poll(() => page.getByTestId('new-terminal-key').locator('code').textContent()).toMatch(/^vk_[\w-]{32}$/);
    await page.getByTestId('audit-search').fill('clearing');
    await expect.poll(() => page.getByTestId('audit').innerText()).toContain('clearing_approved');
    await noMissingTexts(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-admin.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('walks a user whose admin requires a second factor through enrolment and a TOTP code', async ({ onTestFailed }) => {
    const user = await h.deps.users.create({ email: 'finance-e2e@centre.test', displayName: 'Fiona Finance', role: 'finance', password });
    await h.deps.users.setTotpRequired(user.userId, true);
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const errors = watchErrors(page);
    onTestFailed(() => page.screenshot({ path: path.join(ARTIFACTS, 'portal-totp-failed.png'), fullPage: true }).then(() => {}));
    await signIn(page, user.email);
    await page.getByRole('heading', { name: 'Second factor' }).waitFor();
    await page.getByRole('button', { name: 'Set up the second factor' }).click();
    await expect.poll(() => page.getByTestId('totp-secret').textContent()).toMatch(/^[A-Z2-7]{32}$/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-totp.png'), fullPage: true });
    await page.getByLabel('Six-digit code').fill(await h.deps.users.currentTotpCode(user.userId));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByTestId('signed-in-as').textContent()).toBe('Fiona Finance · Finance');
    // Finance sees clearing, not user administration.
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
    await noMissingTexts(page);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('filters the transaction table, refunds a redemption and shows the card\'s new balance', async ({ onTestFailed }) => {
    await h.deps.users.create({ email: 'support-e2e@centre.test', displayName: 'Sam Support', role: 'support', password });
    const card = await issueCard(h, 5_000);
    const last4 = card.code.replace(/-/g, '').slice(-4);
    const hold = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 1_200, currency: 'EUR', posReference: posRef() } });
    await call(h, 'POST', `/v1/redemptions/${hold.body.id}/capture`, { body: {} });

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    onTestFailed(() => page.screenshot({ path: path.join(ARTIFACTS, 'portal-transactions-failed.png'), fullPage: true }).then(() => {}));
    await signIn(page, 'support-e2e@centre.test');
    await page.getByRole('link', { name: 'Transactions' }).click();
    await page.getByRole('heading', { name: 'Transactions' }).waitFor();

    // The amount header sorts the table, largest first, then smallest first.
    const amounts = async () => (await page.getByTestId('transactions').locator('tbody tr td:nth-child(5)').allInnerTexts())
      .map((text) => Number(text.replace(/[^\d]/g, '')));
    await page.getByTestId('sort-amount').click();
    await expect.poll(() => page.getByTestId('sort-amount').locator('..').getAttribute('aria-sort')).toBe('descending');
    await expect.poll(async () => { const a = await amounts(); return a.length > 1 && a.every((v, i) => i === 0 || a[i - 1]! >= v); }).toBe(true);
    await page.getByTestId('sort-amount').click();
    await expect.poll(async () => { const a = await amounts(); return a.length > 1 && a.every((v, i) => i === 0 || a[i - 1]! <= v); }).toBe(true);
    await page.getByTestId('sort-booked_at').click();

    await page.getByLabel('Card (last 4)').fill(last4);
    await page.getByLabel('Type').selectOption('redemption');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(async () => (await page.getByTestId('transactions').locator('tbody tr').count())).toBe(1);
    const row = page.getByTestId('transactions').locator('tbody tr').first();
    expect(await row.innerText()).toContain('12.00 EUR');
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-transactions.png'), fullPage: true });

    // The filtered table exports with progress, as a file download.
    const download = page.waitForEvent('download');
    await page.getByTestId('tx-export').click();
    expect((await download).suggestedFilename()).toBe('transactions.csv');
    await expect.poll(() => page.getByTestId('export-progress').textContent()).toBe('1 of 1 rows exported');

    await row.locator('th button').click();
    await page.getByLabel('Amount (empty: all)').fill('4.00');
    await page.getByRole('button', { name: 'Refund to the card' }).click();
    await expect.poll(() => page.getByTestId('tx-done').textContent()).toBe('Done. The card now has 42.00 EUR.');
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-refund.png'), fullPage: true });

    await page.getByTestId('tx-detail').getByRole('button', { name: `…${last4}` }).click();
    await expect.poll(() => page.getByTestId('card-available').textContent()).toBe('42.00 EUR');
    const history = await page.getByTestId('card-history').innerText();
    for (const type of ['Sale', 'Authorization', 'Redemption', 'Refund']) expect(history).toContain(type);
    await noMissingTexts(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-card.png'), fullPage: true });
    expect((await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } })).body.card.available).toBe(4_200);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
