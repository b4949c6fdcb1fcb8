// The logs of a full run keep no secret. The API and the worker run as their own processes (as in
// production, JSON lines to files, debug level); a till sells, looks up, loads, authorizes,
// captures, voids and refunds, mistypes a code and tries an unknown one; a shopper buys a voucher,
// pays, follows the order and downloads it through the signed link; an admin signs in with a
// password and enrols and gives a second factor; a finance key reads the clearing periods. Then
// every card code, key, token, cookie, password, TOTP secret, recovery code and signed link used is
// looked for in both log files: none may appear, in any of the forms it was used in.

import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../services/directory.ts';
import { formatCardCode, generateCardCode } from '../../domain/card-code.ts';
import { startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { startEngineProcesses, type EngineProcesses } from '../helpers/engine-processes.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';
import { pdfQrCode } from '../helpers/voucher.ts';

let h: Harness;
let engine: EngineProcesses;
let mailbox: Mailbox;

beforeAll(async () => {
  h = await startHarness({ worker: false });
  mailbox = await startMailbox();
  engine = await startEngineProcesses(h, {
    logDir: mkdtempSync(path.join(tmpdir(), 'voucher-logs-')),
    env: { SMTP_URL: mailbox.url, LOG_LEVEL: 'debug', TEMPORAL_LOG_LEVEL: 'INFO' },
  });
}, 180_000);
afterAll(async () => {
  await engine?.stop();
  await mailbox?.close();
  await h?.close();
});

interface Answer { status: number; body: any; headers: Headers }

async function request(method: string, route: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const res = await fetch(engine.apiUrl + route, {
    method,
    headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  let body: any = text;
  try { body = JSON.parse(text); } catch { /* a PDF */ }
  return { status: res.status, body, headers: res.headers };
}

describe('logs of a full run', () => {
  it('contain no card code, key, token, cookie, password or signed link that the run used', async () => {
    const secrets = new Map<string, string>();
    const keep = (what: string, value: string | null | undefined) => {
      expect(value, what).toBeTruthy();
      secrets.set(value!, what);
    };
    const till = { authorization: `Bearer ${h.terminalA.apiKey}` };
    keep('till API key', h.terminalA.apiKey);

    // The till: sell, look up, load, authorize + capture, authorize + void, refund.
    const sold = await request('POST', '/v1/cards', { body: { amount: 5_000, currency: 'EUR' }, headers: { ...till, 'idempotency-key': randomUUID() } });
    expect(sold.status).toBe(200);
    const code: string = sold.body.code;
    keep('sold card code', code);
    expect((await request('POST', '/v1/cards/lookup', { body: { code }, headers: till })).status).toBe(200);
    // As a scanner may send it: compact and lower case.
    const compact = code.replace(/-/g, '').toLowerCase();
    keep('compact card code', compact);
    expect((await request('POST', '/v1/cards/lookup', { body: { code: compact }, headers: till })).status).toBe(200);
    expect((await request('POST', '/v1/cards/load', { body: { code, amount: 1_000, currency: 'EUR' }, headers: { ...till, 'idempotency-key': randomUUID() } })).status).toBe(200);
    const authorize = (amount: number) => request('POST', '/v1/redemptions', {
      body: { code, amount, currency: 'EUR', posReference: `logs-${randomUUID()}` }, headers: till });
    const first = await authorize(1_500);
    expect(first.status).toBe(200);
    expect((await request('POST', `/v1/redemptions/${first.body.id}/capture`, { body: {}, headers: till })).status).toBe(200);
    const second = await authorize(500);
    expect((await request('POST', `/v1/redemptions/${second.body.id}/void`, { headers: till })).status).toBe(200);
    expect((await request('POST', `/v1/redemptions/${first.body.id}/refunds`, { body: { amount: 300 }, headers: { ...till, 'idempotency-key': randomUUID() } })).status).toBe(200);
    // Refusals log too: a mistyped code, an unknown one, a card without enough value.
    const mistyped = `${code.slice(0, -1)}${code.endsWith('A') ? 'B' : 'A'}`;
    keep('mistyped card code', mistyped);
    expect((await request('POST', '/v1/cards/lookup', { body: { code: mistyped }, headers: till })).status).toBeGreaterThanOrEqual(400);
    // Well-formed, but no card has it (random).
    const other = { code: formatCardCode(generateCardCode()) };
    keep('unknown card code', other.code);
    expect((await request('POST', '/v1/cards/lookup', { body: { code: other.code }, headers: till })).status).toBe(404);
    expect((await authorize(1_000_000)).status).toBe(402);
    // A wrong key is a secret too.
    const wrongKey = `vk_${randomUUID().replace(/-/g, '')}`;
    keep('wrong API key', wrongKey);
    expect((await request('POST', '/v1/cards/lookup', { body: { code }, headers: { authorization: `Bearer ${wrongKey}` } })).status).toBe(401);

    // The shopper: order, pay with the development provider, follow the order, download the voucher.
    const email = `logs-${randomUUID().slice(0, 8)}@example.test`;
    const order = await request('POST', '/v1/orders', { body: { amount: 2_500, currency: 'EUR', email }, headers: { 'idempotency-key': randomUUID() } });
    expect(order.status, JSON.stringify(order.body)).toBe(200);
    const orderToken = { 'x-order-token': order.body.accessToken };
    keep('order access token', order.body.accessToken);
    if (order.body.clientSecret) keep('payment client secret', order.body.clientSecret);
    expect((await request('POST', `/v1/orders/${order.body.orderId}/dev-confirm`, { headers: orderToken })).status).toBe(200);
    const view = await waitFor(async () => {
      const res = await request('GET', `/v1/orders/${order.body.orderId}`, { headers: orderToken });
      return res.body.status === 'fulfilled' && res.body.downloadUrl ? res.body : undefined;
    }, 60_000, 250);
    const link = new URL(view.downloadUrl);
    keep('signed download link', link.href);
    keep('download link signature', link.searchParams.get('sig'));
    const pdf = await fetch(link);
    expect(pdf.status).toBe(200);
    const purchasedCode = pdfQrCode(Buffer.from(await pdf.arrayBuffer()));
    keep('purchased card code', purchasedCode);
    await waitFor(async () => mailbox.messages.find((m) => m.to && JSON.stringify(m.to).includes(email)), 30_000);
    const mail = mailbox.messages.find((m) => JSON.stringify(m.to).includes(email))!;
    for (const url of String(mail.text ?? '').match(/https?:\/\/\S+sig=[^\s"<>]+/g) ?? []) keep('e-mailed link', url);
    expect((await request('POST', '/v1/cards/lookup', { body: { code: purchasedCode }, headers: till })).status).toBe(200);

    // An admin: password, then the second factor enrolled and given, then a signed-in call.
    const adminEmail = `admin-${randomUUID().slice(0, 8)}@example.test`;
    const password = `Pw-${randomUUID()}`;
    keep('admin password', password);
    const admin = await h.deps.users.create({ email: adminEmail, displayName: 'Log Admin', role: 'admin', password });
    const signedIn = await request('POST', '/trpc/auth.signIn', { body: { email: adminEmail, password } });
    expect(signedIn.status).toBe(200);
    const cookie = signedIn.headers.get('set-cookie')!.split(';')[0]!;
    keep('session token', cookie.split('=')[1]);
    const csrf: string = signedIn.body.result.data.csrfToken;
    keep('CSRF token', csrf);
    const session = { cookie, 'x-csrf-token': csrf };
    const enrolled = await request('POST', '/trpc/auth.enrolTotp', { body: {}, headers: session });
    expect(enrolled.status).toBe(200);
    keep('TOTP secret', enrolled.body.result.data.secret);
    for (const recovery of enrolled.body.result.data.recoveryCodes as string[]) keep('recovery code', recovery);
    const totp = await h.deps.users.currentTotpCode(admin.userId);
    expect((await request('POST', '/trpc/auth.verifyTotp', { body: { code: totp }, headers: session })).status).toBe(200);
    expect((await request('GET', '/trpc/auth.me', { headers: session })).body.result.data.user.role).toBe('admin');
    // A wrong password for the same account is logged as a refusal, without the password.
    const wrongPassword = `Wrong-${randomUUID()}`;
    keep('wrong password', wrongPassword);
    expect((await request('POST', '/trpc/auth.signIn', { body: { email: adminEmail, password: wrongPassword } })).status).toBe(401);

    // A back-office key.
    const { apiKey: financeKey } = await createApiClient(h.deps.db.prisma, { name: 'Log finance', role: 'finance' });
    keep('finance API key', financeKey);
    expect((await request('GET', '/v1/clearing/periods', { headers: { authorization: `Bearer ${financeKey}` } })).status).toBe(200);

    // Let the workflows finish what the calls started (the purchase, the redemptions), then stop
    // both processes so every line is flushed.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await engine.stop()).toEqual([0, 0]);
    const logs = { api: engine.api.log(), worker: engine.worker.log() };

    // The logs are real: a line for each request kind, the worker's own lines.
    const apiLines = logs.api.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const routes = new Set(apiLines.filter((l) => l.msg === 'request').map((l) => l.route));
    for (const route of ['/v1/cards', '/v1/cards/lookup', '/v1/cards/load', '/v1/redemptions', '/v1/redemptions/:holdId/capture',
      '/v1/orders', '/v1/orders/:orderId/voucher.pdf', '/v1/clearing/periods']) {
      expect(routes, route).toContain(route);
    }
    expect(apiLines.filter((l) => l.msg === 'request').length).toBeGreaterThanOrEqual(20);
    expect(logs.worker).toContain('polling task queue');

    for (const [secret, what] of secrets) {
      for (const [name, text] of Object.entries(logs)) {
        expect(text.includes(secret), `${what} in the ${name} log`).toBe(false);
        expect(text.toLowerCase().includes(secret.toLowerCase()), `${what} (any case) in the ${name} log`).toBe(false);
      }
    }
    // Card codes in every printed form: with dashes, compact, upper and lower case.
    for (const c of [code, purchasedCode!, other.code, mistyped]) {
      for (const text of Object.values(logs)) expect(text.toUpperCase()).not.toContain(c.replace(/-/g, '').toUpperCase());
    }
    expect(secrets.size).toBeGreaterThanOrEqual(20);
  }, 240_000);
});
