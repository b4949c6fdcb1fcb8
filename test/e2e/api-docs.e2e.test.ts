// The API docs page renders the generated OpenAPI document in a real browser, and its
// "try it out" round trip reaches the API.

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, launchBrowser } from '../helpers/browser.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
let browser: Browser;

beforeAll(async () => {
  h = await startHarness({ worker: false });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('API docs page', () => {
  it('shows every POS operation with its schemas', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${h.baseUrl}/docs`);
    await page.getByText('Voucher engine API').first().waitFor();
    for (const summary of ['Authorize a redemption (place a hold)', 'Capture a hold, all or part', 'Void a hold',
      'Check a card balance', 'Sell a new card at the till', 'Refund a captured redemption to the card']) {
      await expect(page.getByText(summary).first().isVisible()).resolves.toBe(true);
    }
    await page.getByText('Authorize a redemption (place a hold)').first().click();
    await page.getByText('posReference').first().waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'api-docs.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
