// The web app in a real browser, against a running API and worker: a shopper buys a 25.00 EUR
// Print@Home voucher with the development payment provider and downloads its PDF; a till then
// reads the code from that PDF, checks the balance, authorizes 10.00 and captures it.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, ensureWebBuild, launchBrowser, watchErrors } from '../helpers/browser.ts';
import { call, devShopConfig, startHarness, type Harness } from '../helpers/harness.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';
import { pdfText } from '../helpers/voucher.ts';

/** The card code printed on a voucher PDF (XXXX-XXXX-XXXX-XXXX, Crockford base32). */
function codeFromPdf(pdf: Buffer): string {
  writeFileSync(path.join(ARTIFACTS, 'voucher.pdf'), pdf);
  const text = pdfText(pdf);
  const group = '[0-9A-HJKMNP-TV-Z]{4}';
  const pattern = new RegExp(`${group}-${group}-${group}-${group}`);
  // Letter spacing may come out as spaces between the characters: compare each line without them.
  for (const line of text.split('\n')) {
    const match = pattern.exec(line.replace(/\s+/g, ''));
    if (match) return match[0];
  }
  throw new Error(`no card code in the voucher PDF's text:\n${text}`);
}


let h: Harness;
let mailbox: Mailbox;
let browser: Browser;
/** The voucher the shop sold, for the till. */
let voucherCode: string | null = null;

beforeAll(async () => {
  ensureWebBuild();
  mailbox = await startMailbox();
  // The shop with the development payment provider: "Pay with test card" confirms the payment.
  h = await startHarness({ config: devShopConfig(mailbox.url) });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await mailbox?.close();
});

describe('web app: Print@Home shop and POS terminal', () => {
  it('sells a 25.00 EUR voucher online and hands out its PDF', async ({ onTestFailed }) => {
    const index = await fetch(`${h.baseUrl}/`);
    expect(index.status, 'the API serves the web app at /').toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);

    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const errors = watchErrors(page);
    onTestFailed(() => page.screenshot({ path: path.join(ARTIFACTS, 'shop-failed.png'), fullPage: true }).then(() => {}));
    await page.goto(`${h.baseUrl}/`);

    await page.getByTestId('preset-2500').click();
    await page.getByTestId('email').fill('shopper@example.test');
    await page.getByTestId('buy').click();

    // The order id goes into the URL, so a reload resumes the order.
    await page.waitForURL(/[?&]order=[0-9a-f-]{36}/);
    const orderId = new URL(page.url()).searchParams.get('order')!;
    await expect.poll(() => page.getByTestId('order-amount').textContent()).toBe('€25.00');

    await page.getByText('Development payment provider — no real money').waitFor();
    await page.getByTestId('pay-test-card').click();
    await page.getByRole('heading', { name: 'Your voucher is ready' }).waitFor({ timeout: 60_000 });

    await expect(page.getByTestId('step').evaluateAll((els) => els.map((el) => el.getAttribute('data-done'))))
      .resolves.toEqual(['true', 'true', 'true']);
    await expect(page.getByTestId('email-sent').textContent()).resolves.toMatch(/We also sent it to s\*+@example\.test/);

    // The signed link downloads the PDF (over HTTP, as the browser would).
    const href = await page.getByTestId('download-voucher').getAttribute('href');
    expect(href).toBeTruthy();
    const pdfResponse = await fetch(new URL(href!, page.url()));
    expect(pdfResponse.status).toBe(200);
    expect(pdfResponse.headers.get('content-type')).toMatch(/^application\/pdf/);
    const pdf = Buffer.from(await pdfResponse.arrayBuffer());
    expect(pdf.subarray(0, 4).toString('latin1')).toBe('%PDF');

    voucherCode = codeFromPdf(pdf);
    await expect(page.getByTestId('card-last4').textContent()).resolves.toContain(voucherCode.slice(-4));

    // The same voucher went out by e-mail.
    const mail = mailbox.messages.find((m) => m.to && JSON.stringify(m.to).includes('shopper@example.test'));
    expect(mail, 'the voucher e-mail').toBeTruthy();
    expect(mail!.attachments.map((a) => a.contentType)).toContain('application/pdf');

    // A reload resumes the finished order from the URL.
    await page.reload();
    await page.getByRole('heading', { name: 'Your voucher is ready' }).waitFor();
    expect(new URL(page.url()).searchParams.get('order')).toBe(orderId);

    await page.screenshot({ path: path.join(ARTIFACTS, 'shop.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('redeems part of it at the till: balance, authorize, capture', async ({ onTestFailed }) => {
    expect(voucherCode, 'the shop test sold a voucher').toBeTruthy();
    const code = voucherCode!;
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors = watchErrors(page);
    onTestFailed(() => page.screenshot({ path: path.join(ARTIFACTS, 'pos-failed.png'), fullPage: true }).then(() => {}));
    await page.goto(`${h.baseUrl}/pos`);

    await page.getByTestId('api-key').fill(h.terminalA.apiKey);
    await page.getByTestId('save-api-key').click();
    // The key is kept on the device.
    await page.reload();
    await page.getByTestId('api-key-set').waitFor();

    // A typo is caught by the code's check character before any lookup.
    const typo = (code[0] === 'A' ? 'B' : 'A') + code.slice(1);
    await page.getByTestId('code').fill(typo);
    await page.getByTestId('code').press('Enter');
    await expect.poll(() => page.getByTestId('error').getAttribute('data-app-code')).toBe('invalid_card_code');

    // A scanner types the code and presses Enter.
    await page.getByTestId('code').fill(code);
    await page.getByTestId('code').press('Enter');
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('€25.00');
    await expect(page.getByTestId('error').count()).resolves.toBe(0);

    await page.getByTestId('redeem-amount').fill('10.00');
    await page.getByTestId('authorize').click();
    await expect.poll(() => page.getByTestId('hold-amount').textContent()).toBe('€10.00');
    await expect.poll(() => page.getByTestId('balance').textContent()).toBe('€15.00');
    await expect(page.getByTestId('held').textContent()).resolves.toBe('€10.00');

    await page.getByTestId('capture').click();
    await expect.poll(() => page.getByTestId('result').getAttribute('data-kind')).toBe('captured');
    await expect(page.getByTestId('result').textContent()).resolves.toContain('Paid €10.00');
    await expect(page.getByTestId('result-balance').textContent()).resolves.toBe('€15.00');
    await expect(page.getByTestId('balance').textContent()).resolves.toBe('€15.00');
    await expect(page.getByTestId('held').textContent()).resolves.toBe('€0.00');

    // The ledger agrees with the screen.
    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code } });
    expect(lookup.status).toBe(200);
    expect(lookup.body.card).toMatchObject({ available: 1500, held: 0, currency: 'EUR' });

    await page.screenshot({ path: path.join(ARTIFACTS, 'pos.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
