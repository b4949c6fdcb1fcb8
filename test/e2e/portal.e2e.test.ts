// The back-office portal in a real browser: sign in (admins enrol a second factor first), clear a
// month and close it, in English and in German; manage API keys; a user whose admin requires a
// second factor enrols and signs in with a TOTP code or a recovery code; money buttons send one
// Idempotency-Key per intended action.

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
let adminId: string;
const password = 'portal e2e password';
const period = '2025-06';

beforeAll(async () => {
  ensureWebBuild();
  mailbox = await startMailbox();
  h = await startHarness({ config: { mail: { smtpUrl: mailbox.url, from: 'Clearing <clearing@centre.test>' } } });
  adminId = (await h.deps.users.create({ email: 'admin-e2e@centre.test', displayName: 'Ada Admin', role: 'admin', password })).userId;
  dataset = await buildDataset(h, 'e2e');
  await moveIntoPeriod(inject('databaseUrl'), dataset.cardIds, period);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await mailbox?.close();
});

/** Signs in with the password; the second factor, where owed, is the test's to give. */
function signIn(page: Page, email: string): Promise<void> {
  return signInToPortal(page, `${h.baseUrl}/portal`, email, password, { secondFactor: 'manual' });
}

/** The second-factor step after the password: set one up where needed, then give a fresh code. */
async function giveSecondFactor(page: Page, userId: string): Promise<void> {
  await page.getByRole('heading', { name: 'Second factor' }).waitFor();
  const enrol = page.getByRole('button', { name: 'Set up the second factor' });
  if (await enrol.count()) {
    await enrol.click();
    await expect.poll(() => page.getByTestId('recovery-codes').locator('li').count()).toBe(10);
  }
  await page.getByLabel('Six-digit code').fill(await h.deps.users.currentTotpCode(userId));
  await page.getByRole('button', { name: 'Confirm' }).click();
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
    await giveSecondFactor(page, adminId); // admins cannot work without one
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

    // Closing starts the settlement run: once it has planned the payments, the panel (which looks
    // again until the run is there) shows one row per party with its method and state, and each
    // row's DATEV export downloads for this admin.
    await expect.poll(async () => (await h.deps.db.pool.query('SELECT count(*)::int AS n FROM settlement_payments WHERE period = $1', [period])).rows[0].n,
      { timeout: 60_000 }).toBeGreaterThan(0);
    const { rows: planned } = await h.deps.db.pool.query<{ status: string }>('SELECT status FROM settlement_payments WHERE period = $1', [period]);
    const settlementRows = page.getByTestId('settlement-payments').locator('tbody tr');
    await expect.poll(() => settlementRows.count(), { timeout: 30_000 }).toBe(planned.length);
    const stateTexts = await settlementRows.locator('td:nth-child(4)').allInnerTexts();
    expect(stateTexts.every((text) => text.trim().length > 0)).toBe(true);
    const datevHref = await settlementRows.first().locator('a').getAttribute('href');
    expect(datevHref).toMatch(new RegExp(`^/v1/settlement/periods/${period}/datev/[0-9a-f-]{36}\\.csv$`));
    const datev = await page.request.get(`${h.baseUrl}${datevHref}`);
    expect(datev.status()).toBe(200);
    expect(datev.headers()['content-type']).toMatch(/text\/csv/);
    expect((await datev.body()).toString('latin1')).toMatch(/^"?EXTF/);
    await noMissingTexts(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-settlement.png'), fullPage: true });

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

    // A back-office API key: shown once, working until rotated; the rotated one until revoked.
    await page.locator('#c-name').fill('ERP export');
    await page.locator('#c-days').fill('30');
    await page.getByRole('button', { name: 'Create API key' }).click();
    const issuedKey = page.getByTestId('new-client-key').locator('code');
    await expect.poll(() => issuedKey.textContent()).toMatch(/^vb_[\w-]{32}$/);
    const firstKey = (await issuedKey.textContent())!;
    const periods = (key: string) => call(h, 'GET', '/v1/clearing/periods', { key });
    expect((await periods(firstKey)).status).toBe(200);
    const clientRow = page.getByTestId('api-clients').locator('tr', { hasText: 'ERP export' });
    await expect.poll(() => clientRow.innerText()).toContain('active');
    await clientRow.getByRole('button', { name: 'Rotate' }).click();
    await expect.poll(() => issuedKey.textContent()).not.toBe(firstKey);
    const rotatedKey = (await issuedKey.textContent())!;
    expect((await periods(firstKey)).status).toBe(401);
    expect((await periods(rotatedKey)).status).toBe(200);
    await clientRow.getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => clientRow.innerText()).toContain('revoked');
    expect((await periods(rotatedKey)).status).toBe(401);
    expect(await page.getByTestId('api-clients').innerText()).not.toContain(rotatedKey.slice(3, -4));
    await page.getByTestId('audit-search').fill('clearing');
    await expect.poll(() => page.getByTestId('audit').innerText()).toContain('clearing_approved');
    await noMissingTexts(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-admin.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('walks a finance user through enrolment, a TOTP code, and later a recovery code', async ({ onTestFailed }) => {
    const user = await h.deps.users.create({ email: 'finance-e2e@centre.test', displayName: 'Fiona Finance', role: 'finance', password });
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const errors = watchErrors(page);
    onTestFailed(() => page.screenshot({ path: path.join(ARTIFACTS, 'portal-totp-failed.png'), fullPage: true }).then(() => {}));
    await signIn(page, user.email);
    await page.getByRole('heading', { name: 'Second factor' }).waitFor();
    await page.getByRole('button', { name: 'Set up the second factor' }).click();
    await expect.poll(() => page.getByTestId('totp-secret').textContent()).toMatch(/^[A-Z2-7]{32}$/);
    const recoveryCodes = await page.getByTestId('recovery-codes').locator('li').allInnerTexts();
    expect(recoveryCodes).toHaveLength(10);
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-totp.png'), fullPage: true });
    await page.getByLabel('Six-digit code').fill(await h.deps.users.currentTotpCode(user.userId));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByTestId('signed-in-as').textContent()).toBe('Fiona Finance · Finance');
    // Finance sees clearing, not user administration.
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
    await noMissingTexts(page);

    // Authenticator lost: a recovery code signs in once.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, user.email);
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByTestId('signed-in-as').textContent()).toBe('Fiona Finance · Finance');
    expect(await h.deps.users.recoveryCodesLeft(user.userId)).toBe(9);
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

  it('sends one Idempotency-Key per intended refund: a double click refunds once, a retry after a lost answer replays', async ({ onTestFailed }) => {
    // An admin: the shared sign-in helper sets up and gives the second factor by itself.
    await h.deps.users.create({ email: 'admin-twice@centre.test', displayName: 'Adam Admin', role: 'admin', password });
    const card = await issueCard(h, 5_000);
    const last4 = card.code.replace(/-/g, '').slice(-4);
    const hold = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 3_000, currency: 'EUR', posReference: posRef() } });
    await call(h, 'POST', `/v1/redemptions/${hold.body.id}/capture`, { body: {} });

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    onTestFailed(() => page.screenshot({ path: path.join(ARTIFACTS, 'portal-refund-once-failed.png'), fullPage: true }).then(() => {}));
    // Every refund the browser sends is recorded and answered slowly, so a second click lands while
    // the first is in flight; the first of the second pair reaches the server but its answer is lost.
    const keys: string[] = [];
    let loseNextAnswer = false;
    await page.route('**/trpc/transactions.refund**', async (route) => {
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      await new Promise((r) => setTimeout(r, 400));
      const response = await route.fetch();
      if (loseNextAnswer) {
        loseNextAnswer = false;
        await route.abort('connectionreset');
      } else {
        await route.fulfill({ response });
      }
    });
    await signInToPortal(page, `${h.baseUrl}/portal`, 'admin-twice@centre.test', password);
    await page.getByRole('link', { name: 'Transactions' }).click();
    await page.getByLabel('Card (last 4)').fill(last4);
    await page.getByLabel('Type').selectOption('redemption');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(async () => (await page.getByTestId('transactions').locator('tbody tr').count())).toBe(1);
    await page.getByTestId('transactions').locator('tbody tr').first().locator('th button').click();

    await page.getByLabel('Amount (empty: all)').fill('5.00');
    await page.getByRole('button', { name: 'Refund to the card' }).dblclick();
    await expect.poll(() => page.getByTestId('tx-done').textContent()).toBe('Done. The card now has 25.00 EUR.');
    expect(keys).toHaveLength(1);

    // Another refund; its answer is lost on the way back. Clicking again retries the same intent.
    await page.getByLabel('Amount (empty: all)').fill('3.00');
    loseNextAnswer = true;
    await page.getByRole('button', { name: 'Refund to the card' }).click();
    await page.getByTestId('error').waitFor();
    await page.getByRole('button', { name: 'Refund to the card' }).click();
    await expect.poll(() => page.getByTestId('tx-done').textContent()).toBe('Done. The card now has 28.00 EUR.');
    expect(keys).toHaveLength(3);
    expect(keys[2]).toBe(keys[1]);
    expect(new Set(keys).size).toBe(2);

    const { rows } = await h.deps.db.pool.query(
      `SELECT count(*)::int AS n FROM audit_entries WHERE action = 'redemption_refunded' AND subject = $1 AND details->>'replayed' = 'false'`, [`hold:${hold.body.id}`]);
    expect(rows[0].n).toBe(2);
    expect((await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } })).body.card.available).toBe(2_800);
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-refund-once.png'), fullPage: true });
    expect(errors.filter((e) => !e.includes('ERR_CONNECTION_RESET') && !e.includes('Failed to fetch'))).toEqual([]);
    await page.close();
  }, 60_000);
});
