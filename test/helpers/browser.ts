// Debian's Chromium driven by playwright-core (no browser download), with the flags this
// closed network needs: without them Chromium keeps dialling out at every start.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import * as OTPAuth from 'otpauth';
import { chromium, type Browser, type Page } from 'playwright-core';

export const ARTIFACTS = path.resolve('test-artifacts');

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

const WEB = path.resolve('web');
const DIST_INDEX = path.join(WEB, 'dist', 'index.html');

/** Newest modification time of the web app's sources (web/ without dist/). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds web/dist when it is missing or older than its sources. */
export function ensureWebBuild(): void {
  if (existsSync(DIST_INDEX) && statSync(DIST_INDEX).mtimeMs >= newestSource(WEB)) return;
  const r = spawnSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vite build failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
}

/** Second factors the browser tests set up, by e-mail: the secret shown at enrolment and the last step used. */
const secondFactors = new Map<string, { secret: string; lastStep: number }>();

/** A code of this test's authenticator for the user, for a time step not used yet (codes are single-use). */
async function authenticatorCode(email: string): Promise<string> {
  const factor = secondFactors.get(email);
  if (!factor) throw new Error(`no second factor was set up for ${email} in this test run`);
  for (;;) {
    const now = Math.floor(Date.now() / 30_000);
    const step = Math.max(now, factor.lastStep + 1);
    if (step <= now + 1) {
      factor.lastStep = step;
      return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(factor.secret) }).generate({ timestamp: step * 30_000 });
    }
    await new Promise((r) => setTimeout(r, (now + 1) * 30_000 - Date.now() + 50));
  }
}

/**
 * Opens a portal page (the sign-in form shows first) and signs in. Admin and finance (and anyone an
 * admin requires it of) owe a second factor: by default it is set up from the key the page shows and
 * given, as a person with an authenticator app would; `secondFactor: 'manual'` leaves that step to the test.
 */
export async function signInToPortal(page: Page, url: string, email: string, password: string,
  opts: { secondFactor?: 'auto' | 'manual' } = {}): Promise<void> {
  await page.goto(url);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (opts.secondFactor === 'manual') return;
  const next = page.locator('[data-testid="signed-in-as"], [data-testid="second-factor"], [data-testid="error"]').first();
  await next.waitFor();
  if (await next.getAttribute('data-testid') !== 'second-factor') return;
  const enrol = page.getByTestId('second-factor').locator('button[type="submit"]');
  if (!(await page.getByTestId('second-factor').locator('#code').count())) {
    await enrol.click();
    const secret = (await page.getByTestId('totp-secret').textContent())!;
    secondFactors.set(email, { secret, lastStep: -1 });
  }
  await page.getByTestId('second-factor').locator('#code').fill(await authenticatorCode(email));
  await page.getByTestId('second-factor').locator('button[type="submit"]').click();
  await page.getByTestId('signed-in-as').waitFor();
}

/** Collects page errors and console errors (except the 4xx answers tests provoke on purpose). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // Chromium logs every 4xx answer; the refusals this test provokes on purpose are expected.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(`console: ${msg.text()}`);
  });
  return errors;
}
