// The admin page's fraud limits in a real browser: an admin sets a store's velocity limits (and the
// till feels them at once), is told about a bad value, and lifts a code-guessing lock.

import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, ensureWebBuild, launchBrowser, signInToPortal, watchErrors } from '../helpers/browser.ts';
import { call, issueCard, posRef, startHarness, type Harness } from '../helpers/harness.ts';
import { createStore, createTerminal } from '../../services/directory.ts';
import { createCodeGuard, velocityLimits } from '../../services/fraud-limits.ts';

let h: Harness;
let browser: Browser;
const password = 'fraud limits e2e password';
const email = `limits-admin-${randomUUID().slice(0, 6)}@centre.test`;

beforeAll(async () => {
  ensureWebBuild();
  h = await startHarness({ worker: false });
  await h.deps.users.create({ email, displayName: 'Lim Admin', role: 'admin', password });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('fraud limits on the admin page', () => {
  it('sets a store\'s limits, refuses a bad one, and lifts a code-guessing lock', async ({ onTestFailed }) => {
    const storeName = `Limits store ${randomUUID().slice(0, 6)}`;
    const store = await createStore(h.deps.db.prisma, { billingPartyId: h.billingPartyId, name: storeName });
    const till = await createTerminal(h.deps.db.prisma, { storeId: store.id, name: 'Limits till' });
    const subject = `address:192.0.2.${Math.floor(Math.random() * 200) + 1}`;
    // A guard with a low limit locks the address, as the API's would after enough bad codes.
    const strict = createCodeGuard(h.deps.db.pool, h.config.redisUrl, { windowSeconds: 60, slowAfter: 100, slowStepMs: 1, lockAfter: 1, lockSeconds: 600 });
    await strict.ready();
    await strict.failed([subject], null);
    await expect(strict.failed([subject], null)).rejects.toMatchObject({ code: 'too_many_attempts' });
    await strict.close();

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = watchErrors(page);
    onTestFailed(() => page.screenshot({ path: path.join(ARTIFACTS, 'fraud-limits-failed.png'), fullPage: true }).then(() => {}));
    await signInToPortal(page, `${h.baseUrl}/portal`, email, password);
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Fraud limits at the till' }).waitFor();

    const row = page.getByTestId('store-limits').getByRole('row', { name: storeName });
    await row.getByRole('button', { name: 'Edit' }).click();
    await page.getByTestId('limit-cardRedemptionsPerHour').fill('1');
    await page.getByTestId('limit-cardAmountPerDay').fill('12.50');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await expect.poll(() => row.innerText()).toContain('12.50');
    const saved = (await velocityLimits(h.deps.db.pool)).stores.find((s) => s.storeId === store.id)!;
    expect(saved.overrides).toMatchObject({ cardRedemptionsPerHour: 1, cardAmountPerDay: 1_250, terminalSoldPerDay: null });

    // The till feels it at once: one redemption an hour per card.
    const card = await issueCard(h, 1_000);
    const first = await call(h, 'POST', '/v1/redemptions', { key: till.apiKey, body: { code: card.code, amount: 100, currency: 'EUR', posReference: posRef() } });
    const second = await call(h, 'POST', '/v1/redemptions', { key: till.apiKey, body: { code: card.code, amount: 100, currency: 'EUR', posReference: posRef() } });
    expect([first.status, second.status, second.body.error.code]).toEqual([200, 422, 'velocity_limit_exceeded']);

    // A bad value is refused on the page and changes nothing.
    await page.getByTestId('limit-cardRedemptionsPerHour').fill('lots');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await expect.poll(() => page.getByTestId('error').getAttribute('data-app-code')).toBe('validation_error');
    expect((await velocityLimits(h.deps.db.pool)).stores.find((s) => s.storeId === store.id)!.overrides.cardRedemptionsPerHour).toBe(1);

    // The locked address is listed; lifting it removes it and is audited.
    await page.reload();
    await page.getByRole('heading', { name: 'Fraud limits at the till' }).waitFor();
    const lock = page.getByTestId('code-guess-locks').getByRole('row', { name: subject });
    await lock.getByRole('button', { name: 'Lift' }).click();
    await expect.poll(() => page.getByTestId('fraud-limits').innerText()).not.toContain(subject);
    const { rows } = await h.deps.db.pool.query(
      `SELECT actor FROM audit_entries WHERE action = 'code_guessing_lock_lifted' AND subject = $1`, [subject]);
    expect(rows.map((r) => r.actor)).toEqual(['Lim Admin']);

    await page.getByTestId('language').selectOption('de');
    await page.getByRole('heading', { name: 'Betrugsgrenzen an der Kasse' }).waitFor();
    expect(await page.locator('body').innerText()).not.toContain('⟦');
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-fraud-limits-de.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
