// The POS terminal in German, in a real browser: a German browser gets the German till, which looks
// up a card and redeems part of it with German texts and amounts; the switcher turns it English.

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, ensureWebBuild, launchBrowser, watchErrors } from '../helpers/browser.ts';
import { call, issueCard, startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
let browser: Browser;

beforeAll(async () => {
  ensureWebBuild();
  h = await startHarness();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const plain = (text: string | null | undefined) => (text ?? '').replace(/[\s\u00a0]+/g, ' ').trim();

describe('web app: the POS terminal in German', () => {
  it('looks up a card and redeems part of it in German', async ({ onTestFailed }) => {
    const card = await issueCard(h, 2_500);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 }, locale: 'de-DE' });
    const errors = watchErrors(page);
    onTestFailed(() => page.screenshot({ path: path.join(ARTIFACTS, 'pos-german-failed.png'), fullPage: true }).then(() => {}));
    await page.goto(`${h.baseUrl}/pos`);

    await page.getByRole('heading', { name: 'Kassenterminal' }).waitFor();
    await expect.poll(() => page.evaluate(() => [document.documentElement.lang, document.title])).toEqual(['de', 'Kassenterminal · Centre Gift Voucher']);
    await page.getByTestId('api-key').fill(h.terminalA.apiKey);
    await page.getByRole('button', { name: 'Schlüssel speichern' }).click();
    expect(plain(await page.getByTestId('api-key-set').textContent())).toContain(`Terminalschlüssel auf diesem Gerät gespeichert (endet auf ${h.terminalA.apiKey.slice(-4)})`);

    // The page's own checks speak German too.
    await page.getByRole('button', { name: 'Guthaben prüfen' }).click();
    expect(plain(await page.getByTestId('error').textContent())).toContain('Scannen oder tippen Sie zuerst einen Gutscheincode ein.');

    // An API error keeps its stable code; the page's own label around it is German.
    await page.getByTestId('code').fill((card.code[0] === 'A' ? 'B' : 'A') + card.code.slice(1));
    await page.getByTestId('code').press('Enter');
    await expect.poll(() => page.getByTestId('error').getAttribute('data-app-code')).toBe('invalid_card_code');
    expect(plain(await page.getByTestId('error').textContent())).toMatch(/Anfrage-ID: \S+/);

    await page.getByTestId('code').fill(card.code);
    await page.getByTestId('code').press('Enter');
    await expect.poll(async () => plain(await page.getByTestId('balance').textContent())).toBe('25,00 €');
    const info = plain(await page.getByTestId('card-info').textContent());
    expect(info).toContain(`Guthaben · Gutschein …${card.code.slice(-4)}`);
    expect(info).toContain('Statusaktiv');
    expect(info).toMatch(/Gültig bis\d\d\.\d\d\.\d{4}/);

    await page.getByTestId('redeem-amount').fill('10,5x');
    await page.getByRole('button', { name: 'Autorisieren' }).click();
    expect(plain(await page.getByTestId('error').textContent())).toContain('Geben Sie einen Betrag wie 25 oder 25,50 ein');

    await page.getByTestId('redeem-amount').fill('10,00');
    await page.getByRole('button', { name: 'Autorisieren' }).click();
    await page.getByRole('heading', { name: 'Autorisiert — noch nicht belastet' }).waitFor();
    expect(plain(await page.getByTestId('hold-amount').textContent())).toBe('10,00 €');
    expect(await page.getByTestId('capture-amount').getAttribute('placeholder')).toMatch(/^alles: 10,00\s€$/);
    await expect.poll(async () => plain(await page.getByTestId('balance').textContent())).toBe('15,00 €');
    expect(plain(await page.getByTestId('held').textContent())).toBe('10,00 €');

    // Part of the hold is charged; the rest goes back to the card.
    await page.getByTestId('capture-amount').fill('7,50');
    await page.getByRole('button', { name: 'Buchen' }).click();
    await expect.poll(() => page.getByTestId('result').getAttribute('data-kind')).toBe('captured');
    expect(plain(await page.getByTestId('result').textContent()))
      .toBe('7,50 € bezahlt mit dem Gutschein. 2,50 € gingen zurück auf den Gutschein.Neues Guthaben: 17,50 €');
    expect(plain(await page.getByTestId('balance').textContent())).toBe('17,50 €');
    expect(plain(await page.getByTestId('held').textContent())).toBe('0,00 €');
    expect(await page.content()).not.toContain('⟦');
    await page.screenshot({ path: path.join(ARTIFACTS, 'pos-german.png'), fullPage: true });

    // The ledger agrees with the screen.
    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } });
    expect(lookup.body.card).toMatchObject({ available: 1_750, held: 0, currency: 'EUR' });

    // The switcher changes the language on the spot, amounts included, and is remembered.
    await page.getByTestId('pos-language').selectOption('en');
    await page.getByRole('heading', { name: 'POS terminal' }).waitFor();
    expect(await page.getByTestId('balance').textContent()).toBe('€17.50');
    expect(await page.getByTestId('result').textContent()).toContain('Paid €7.50 with the voucher.');
    await page.reload();
    await page.getByRole('heading', { name: 'POS terminal' }).waitFor();

    expect(errors).toEqual([]);
    await page.close();
  });
});
