// The shop in German, in a real browser: a German browser gets the German shop, the switcher
// changes the language on the spot, and a voucher bought there arrives as a German mail with a
// German PDF (the order remembers the language the shopper chose).

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, ensureWebBuild, launchBrowser, watchErrors } from '../helpers/browser.ts';
import { devShopConfig, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';
import { pdfText } from '../helpers/voucher.ts';

let h: Harness;
let mailbox: Mailbox;
let browser: Browser;

beforeAll(async () => {
  ensureWebBuild();
  mailbox = await startMailbox();
  h = await startHarness({ config: devShopConfig(mailbox.url) });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await mailbox?.close();
});

const plain = (text: string | null | undefined) => (text ?? '').replace(/[\s\u00a0]+/g, ' ').trim();

describe('web app: the shop in German', () => {
  it('buys a voucher in German end to end: German page, German mail, German PDF', async ({ onTestFailed }) => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 }, locale: 'de-DE' });
    const errors = watchErrors(page);
    onTestFailed(() => page.screenshot({ path: path.join(ARTIFACTS, 'shop-german-failed.png'), fullPage: true }).then(() => {}));
    await page.goto(`${h.baseUrl}/`);

    // The browser's language by default; the switcher changes it at once, and back.
    await page.getByRole('heading', { name: 'Geschenkgutscheine zum Selbstausdrucken' }).waitFor();
    await page.getByTestId('shop-language').selectOption('en');
    await page.getByRole('heading', { name: 'Gift vouchers to print at home' }).waitFor();
    await page.getByTestId('shop-language').selectOption('de');
    await page.getByRole('heading', { name: 'Wählen Sie Ihren Gutschein' }).waitFor();
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('de');

    // German validation messages and amounts.
    await page.getByTestId('preset-custom').click();
    await page.getByTestId('custom-amount').fill('1');
    await page.getByTestId('email').fill('kaeufer@example.test');
    await page.getByTestId('buy').click();
    expect(plain(await page.getByTestId('amount-error').textContent())).toMatch(/^Wählen Sie einen Betrag von \d+,\d\d € bis [\d.]+,\d\d €$/);

    await page.getByTestId('preset-2500').click();
    await page.getByTestId('buy').click();
    await page.waitForURL(/[?&]order=[0-9a-f-]{36}/);
    const orderId = new URL(page.url()).searchParams.get('order')!;
    await expect.poll(async () => plain(await page.getByTestId('order-amount').textContent())).toBe('25,00 €');
    await page.getByText('Entwicklungs-Zahlungsanbieter — kein echtes Geld').waitFor();
    await page.getByTestId('pay-test-card').click();
    await page.getByRole('heading', { name: 'Ihr Gutschein ist fertig' }).waitFor({ timeout: 60_000 });
    expect(await page.getByText('Gutschein herunterladen (PDF)').count()).toBe(1);
    expect(plain(await page.getByTestId('email-sent').textContent())).toMatch(/^Wir haben ihn auch an k\*+@example\.test gesendet\.$/);
    expect(await page.getByTestId('step').allTextContents()).toEqual([
      expect.stringContaining('Zahlung bestätigt'), expect.stringContaining('Gutschein ausgestellt'), expect.stringContaining('PDF und E-Mail gesendet'),
    ]);
    // No key is missing from the German catalogue on any page the shopper saw.
    expect(await page.content()).not.toContain('⟦');

    const mail = await waitFor(async () => mailbox.messages.find((m) => m.to && JSON.stringify(m.to).includes('kaeufer@example.test')), 30_000);
    expect(plain(mail.subject)).toBe(`Ihr ${h.config.shop.schemeName} (25,00 €)`);
    expect(plain(mail.text)).toContain('Vielen Dank für Ihren Einkauf.');
    expect(plain(mail.text)).toContain(`Bestellung ${orderId}`);
    const pdf = plain(pdfText(mail.attachments[0]!.content));
    expect(pdf).toContain('25,00 €');
    expect(pdf).toContain('So lösen Sie ihn ein');

    await page.screenshot({ path: path.join(ARTIFACTS, 'shop-german.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
