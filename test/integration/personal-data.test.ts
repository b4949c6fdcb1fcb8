// Personal data at rest: shoppers', users' and billing parties' addresses are sealed under a
// versioned key, found by keyed hash, re-encrypted under a new key, erased on request or after the
// retention period; a database dump holds none of them in clear.

import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { PiiCipher } from '../../domain/pii-crypto.ts';
import { createApiClient, createBillingParty } from '../../services/directory.ts';
import { eraseShopper } from '../../services/orders.ts';
import { reencryptPersonalData } from '../../services/personal-data.ts';
import { UserDirectory } from '../../services/users.ts';
import { housekeepingWorkflow } from '../../workflows/housekeeping.ts';
import { call, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { startStripeProxy, type StripeProxy } from '../helpers/stripe-proxy.ts';
import { loadConfig } from '../../infra/config.ts';
import { signIn } from '../helpers/portal.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';

const run = promisify(execFile);
const stripe = new Stripe('sk_test_123');
const key = () => randomBytes(32).toString('base64');
const V1 = `v1:${key()}`;
const V2 = `v2:${key()}`;

let h: Harness;
let mailbox: Mailbox;
// stripe-mock keeps no state: the proxy says a paid intent is paid when the purchase re-reads it.
let stripeState: StripeProxy;

beforeAll(async () => {
  mailbox = await startMailbox();
  stripeState = await startStripeProxy(inject('stripeMockUrl'));
  h = await startHarness({ config: {
    mail: { smtpUrl: mailbox.url, from: 'Vouchers <vouchers@centre.test>' },
    payments: { ...loadConfig().payments, provider: 'stripe', stripeApiBase: stripeState.url, stripeWebhookSecret: 'whsec_test_secret' },
  } });
});
afterAll(async () => {
  await h?.close();
  await mailbox?.close();
  await stripeState?.close();
});

function shopper(): string {
  return `Shopper.${randomUUID().slice(0, 8)}@Example.test`;
}

/** A Print@Home purchase through stripe-mock and a signed webhook, until the voucher is mailed. */
async function purchase(email: string): Promise<string> {
  const res = await call(h, 'POST', '/v1/orders', { key: null, body: { amount: 2_000, currency: 'EUR', email }, idempotencyKey: randomUUID() });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const orderId = res.body.orderId as string;
  const paymentId = await waitFor(async () => (await h.deps.db.prisma.order.findUnique({ where: { id: orderId } }))?.paymentId);
  stripeState.succeed(paymentId);
  const payload = JSON.stringify({
    id: `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type: 'payment_intent.succeeded', api_version: '2024-06-20',
    created: Math.floor(Date.now() / 1000), livemode: false, pending_webhooks: 1, request: null,
    data: { object: { id: paymentId, object: 'payment_intent', amount: 2_000, currency: 'eur', metadata: { orderId } } },
  });
  const hook = await fetch(`${h.baseUrl}/v1/webhooks/stripe`, {
    method: 'POST', body: payload,
    headers: { 'content-type': 'application/json', 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_test_secret' }) },
  });
  expect(hook.status).toBe(200);
  await waitFor(async () => (await h.deps.db.prisma.order.findUnique({ where: { id: orderId } }))?.status === 'fulfilled', 30_000);
  return orderId;
}

async function pgDump(): Promise<string> {
  const { stdout } = await run('pg_dump', ['--no-owner', inject('databaseUrl')], { maxBuffer: 512 * 1024 * 1024 });
  return stdout;
}

describe('personal data at rest', () => {
  it('a dump of the database holds no shopper, user or party address in clear, and mail still reaches them', async () => {
    const address = shopper();
    const orderId = await purchase(address);
    const userAddress = `staff-${randomUUID().slice(0, 8)}@centre.test`;
    await h.deps.users.create({ email: userAddress, displayName: 'Staff', role: 'support', password: 'a long enough password' });
    const partyAddress = `billing-${randomUUID().slice(0, 8)}@party.test`;
    await createBillingParty(h.deps.db.prisma, h.deps.pii, { name: 'Sealed party', contactEmail: partyAddress });

    // The voucher went to the shopper's real address.
    const mail = mailbox.messages.find((m) => JSON.stringify(m.to).toLowerCase().includes(address.toLowerCase()));
    expect(mail?.subject).toMatch(/Centre Gift Voucher/);

    const dump = await pgDump();
    expect(dump).toContain(orderId);
    for (const clear of [address, address.toLowerCase(), userAddress, partyAddress]) expect(dump).not.toContain(clear);

    const { rows: [row] } = await h.deps.db.pool.query('SELECT email, email_hash FROM orders WHERE id = $1', [orderId]);
    expect(row.email).toMatch(/^pii:dev:/);
    expect(h.deps.pii.open(row.email)).toBe(address);
    expect(h.deps.pii.lookupHashes(address.toUpperCase())).toContain(row.email_hash);
    // The order's life is in the audit log (creation, the webhook, each state), without the address.
    const { rows: log } = await h.deps.db.pool.query('SELECT actor, action, details FROM audit_entries WHERE subject = $1 ORDER BY id', [`order:${orderId}`]);
    expect(log.map((r) => r.action)).toEqual(['order_created', 'webhook_payment_succeeded', 'order_paid', 'order_issued', 'order_fulfilled']);
    expect(log.slice(0, 2).map((r) => r.actor)).toEqual(['shop', 'stripe']);
    expect(JSON.stringify(log).toLowerCase()).not.toContain(address.toLowerCase());
  });

  it('re-encrypts every sealed value, and values stored in clear before, under a newly added key', async () => {
    const v1 = new PiiCipher(V1);
    const v1v2 = new PiiCipher(`${V1},${V2}`);
    const password = 'a long enough password';
    const usersV1 = new UserDirectory(h.deps.db.pool, h.deps.secrets.totpKey, 'test', v1);
    const usersV2 = new UserDirectory(h.deps.db.pool, h.deps.secrets.totpKey, 'test', v1v2);
    const sealedUser = await usersV1.create({ email: `rot-${randomUUID().slice(0, 8)}@centre.test`, displayName: 'R', role: 'finance', password });
    // A row from before encryption: the address in clear, no lookup hash.
    const legacyAddress = `legacy-${randomUUID().slice(0, 8)}@centre.test`;
    const { rows: [legacy] } = await h.deps.db.pool.query(
      `INSERT INTO users (id, email, display_name, role, password_hash) SELECT gen_random_uuid(), $1, 'L', 'finance', password_hash
         FROM users WHERE id = $2 RETURNING id`, [legacyAddress, sealedUser.userId]);
    const party = await createBillingParty(h.deps.db.prisma, v1, { name: 'Rotating party', contactEmail: 'rotate@party.test' });

    // Before: found under the old key's hash by a directory that knows both keys.
    expect((await usersV2.findByEmail(sealedUser.email))?.userId).toBe(sealedUser.userId);
    expect(await usersV2.findByEmail(legacyAddress)).toBeNull();

    // The development key's rows (the other tests') are re-encrypted too: give it to the cipher.
    const all = new PiiCipher(`${h.config.privacy.piiKeys},${V1},${V2}`);
    const counts = await reencryptPersonalData(h.deps.db.pool, all, 'test');
    expect(counts.users).toBeGreaterThanOrEqual(2);
    expect(counts.billing_parties).toBeGreaterThanOrEqual(1);

    const { rows } = await h.deps.db.pool.query('SELECT id, email, email_hash FROM users WHERE id = ANY($1)', [[sealedUser.userId, legacy.id]]);
    for (const r of rows) {
      expect(r.email).toMatch(/^pii:v2:/);
      expect(r.email_hash).toMatch(/^v2:/);
    }
    const { rows: [partyRow] } = await h.deps.db.pool.query('SELECT contact_email FROM billing_parties WHERE id = $1', [party.id]);
    expect(partyRow.contact_email).toMatch(/^pii:v2:/);
    expect(() => v1.open(partyRow.contact_email)).toThrow(/v2/);
    expect(new PiiCipher(V2).open(partyRow.contact_email)).toBe('rotate@party.test');
    // After: the new key alone finds and opens them; a second run has nothing left to do.
    const usersOnlyV2 = new UserDirectory(h.deps.db.pool, h.deps.secrets.totpKey, 'test', new PiiCipher(V2));
    expect((await usersOnlyV2.findByEmail(legacyAddress.toUpperCase()))?.email).toBe(legacyAddress);
    expect((await usersOnlyV2.findByEmail(sealedUser.email))?.userId).toBe(sealedUser.userId);
    expect(Object.values(await reencryptPersonalData(h.deps.db.pool, all, 'test')).every((n) => n === 0)).toBe(true);

    // Put the harness's own data back under its key, so the rest of this file reads it.
    await reencryptPersonalData(h.deps.db.pool, new PiiCipher(`${V1},${V2},${h.config.privacy.piiKeys}`), 'test');
  });

  it('the `pii:reencrypt` command runs against the configured database', async () => {
    const { stdout } = await run('npx', ['tsx', 'scripts/reencrypt-pii.ts'], { env: { ...process.env, DATABASE_URL: inject('databaseUrl'), PII_KEYS: h.config.privacy.piiKeys } });
    expect(stdout).toMatch(/sealed under key dev; rewritten: orders 0, users 0, billing_parties 0/);
  });

  it('signs a user in by the keyed hash of the address, whatever its case', async () => {
    const address = `case-${randomUUID().slice(0, 8)}@centre.test`;
    await h.deps.users.create({ email: address.toUpperCase(), displayName: 'C', role: 'finance', password: 'a long enough password' });
    const { rows: [row] } = await h.deps.db.pool.query('SELECT email FROM users WHERE email_hash = $1', [h.deps.pii.lookupHash(address)]);
    expect(row.email).toMatch(/^pii:/);
    const session = await signIn(h, ` ${address} `, 'a long enough password');
    expect(session.response.status).toBe(200);
    expect(session.response.data.user.email).toBe(address);
    expect((await h.deps.users.create({ email: address, displayName: 'D', role: 'finance', password: 'a long enough password' }).catch((e) => e)).code).toBe('user_exists');
  });
});

describe('erasure and retention', () => {
  it('erases one shopper on request and keeps the ledger intact (`pii:erase`)', async () => {
    const address = shopper();
    const [first, second] = [await purchase(address), await purchase(address)];
    const other = await purchase(shopper());
    const before = await h.deps.db.pool.query('SELECT count(*)::int AS n FROM journal_entries');

    const { stdout } = await run('npx', ['tsx', 'scripts/erase-shopper.ts', address.toUpperCase()], {
      env: { ...process.env, DATABASE_URL: inject('databaseUrl'), PII_KEYS: h.config.privacy.piiKeys },
    });
    expect(stdout).toMatch(/address erased from 2 order\(s\)/);

    const { rows } = await h.deps.db.pool.query('SELECT id, email, email_hash, pii_erased_at, card_id, status FROM orders WHERE id = ANY($1) ORDER BY id', [[first, second, other]]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const id of [first, second]) {
      expect(byId.get(id)).toMatchObject({ email: null, email_hash: null, status: 'fulfilled' });
      expect(byId.get(id)!.pii_erased_at).toBeInstanceOf(Date);
      expect(byId.get(id)!.card_id).not.toBeNull();
    }
    expect(byId.get(other)!.email).toMatch(/^pii:/);
    // The ledger is untouched and still sound; the cards still work.
    expect((await h.deps.db.pool.query('SELECT count(*)::int AS n FROM journal_entries')).rows[0].n).toBe(before.rows[0].n);
    expect(await h.deps.ledger.violations()).toEqual([]);
    const { rows: [log] } = await h.deps.db.pool.query(`SELECT actor, details FROM audit_entries WHERE action = 'shopper_erased' ORDER BY id DESC LIMIT 1`);
    expect(log.actor).toMatch(/^operator:/);
    expect(log.details.orders.sort()).toEqual([first, second].sort());
    expect(JSON.stringify(log)).not.toContain(address.toLowerCase().split('@')[0]);
    expect(await eraseShopper(h.deps.db.pool, h.deps.pii, address, 'test')).toEqual([]);

    // Its voucher mail can no longer be resent: a clear refusal, not an error.
    const support = await createApiClient(h.deps.db.prisma, { name: 'Support desk', role: 'admin' });
    const resend = await fetch(`${h.baseUrl}/trpc/transactions.resendVoucher`, {
      method: 'POST', body: JSON.stringify({ cardId: byId.get(first)!.card_id }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${support.apiKey}`, 'idempotency-key': randomUUID() },
    });
    expect(resend.status).toBe(409);
    expect((await resend.json() as any).error.data.appCode).toBe('shopper_erased');
  });

  it('housekeeping erases addresses past retention, deletes long-expired orders and expired sessions, and keeps the rest', async () => {
    const pool = h.deps.db.pool;
    const old = await purchase(shopper());
    const recent = await purchase(shopper());
    const days = h.config.privacy.orderPiiRetentionDays;
    // Orders are updated only by the engine: move the old one back in time as a superuser would.
    await pool.query(`UPDATE orders SET created_at = now() - make_interval(days => $2 + 1) WHERE id = $1`, [old, days]);
    const mkOrder = async (status: string, ageDays: number) => (await pool.query(
      `INSERT INTO orders (id, email, amount, currency, provider, status, updated_at)
       VALUES (gen_random_uuid(), $1, 500, 'EUR', 'stripe', $2, now() - make_interval(days => $3)) RETURNING id`,
      [h.deps.pii.seal(shopper()), status, ageDays])).rows[0].id as string;
    const longExpired = await mkOrder('expired', h.config.privacy.expiredOrderRetentionDays + 1);
    const freshlyExpired = await mkOrder('expired', 1);
    const user = await h.deps.users.create({ email: `sess-${randomUUID().slice(0, 8)}@centre.test`, displayName: 'S', role: 'finance', password: 'a long enough password' });
    await pool.query(
      `INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ($1, $3, 'x', now() - interval '1 minute'), ($2, $3, 'y', now() + interval '1 hour')`,
      [`expired-${randomUUID()}`, `live-${randomUUID()}`, user.userId]);

    const result = await h.client.workflow.execute(housekeepingWorkflow, {
      workflowId: `housekeeping-test-${randomUUID()}`, taskQueue: h.config.taskQueue, args: [{ idempotencyRetentionHours: 72 }],
    });
    expect(result.ordersAnonymised).toBeGreaterThanOrEqual(1);
    expect(result.expiredOrdersDeleted).toBeGreaterThanOrEqual(1);
    expect(result.sessionsDeleted).toBeGreaterThanOrEqual(1);

    const { rows } = await pool.query('SELECT id, email FROM orders WHERE id = ANY($1)', [[old, recent, longExpired, freshlyExpired]]);
    const emails = new Map(rows.map((r) => [r.id, r.email]));
    expect(emails.get(old)).toBeNull();
    expect(emails.get(recent)).toMatch(/^pii:/);
    expect(emails.has(longExpired)).toBe(false);
    expect(emails.get(freshlyExpired)).toMatch(/^pii:/);
    const sessions = await pool.query('SELECT token_hash FROM sessions WHERE user_id = $1', [user.userId]);
    expect(sessions.rows.map((r) => r.token_hash)).toEqual([expect.stringMatching(/^live-/)]);
    expect(await h.deps.ledger.violations()).toEqual([]);
    const { rows: logged } = await pool.query(
      `SELECT action FROM audit_entries WHERE actor = 'housekeeping' AND action IN ('order_pii_erased', 'expired_orders_purged', 'sessions_purged')`);
    expect(new Set(logged.map((r) => r.action))).toEqual(new Set(['order_pii_erased', 'expired_orders_purged', 'sessions_purged']));
    const { rows: [deleted] } = await pool.query(`SELECT count(*)::int AS n FROM audit_entries WHERE action = 'order_deleted' AND subject = $1`, [`order:${longExpired}`]);
    expect(deleted.n).toBe(1);
  });
});
