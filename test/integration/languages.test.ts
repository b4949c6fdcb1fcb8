// The shopper's language: an order placed in German (the shop's choice, or the browser's
// Accept-Language when the order names none) gets its voucher mail, PDF, refund mail and expiry
// reminder in German, through the real workflow and a real SMTP server; English stays the default.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPurchaseActivities } from '../../activities/purchase.ts';
import { createMailer } from '../../services/mailer.ts';
import { cardExpiryRemindersWorkflow } from '../../workflows/card-expiry-reminders.ts';
import { call, devShopConfig, startHarness, type Harness } from '../helpers/harness.ts';
import { signIn, trpc } from '../helpers/portal.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';
import { pdfText } from '../helpers/voucher.ts';

let h: Harness;
let mailbox: Mailbox;

beforeAll(async () => {
  mailbox = await startMailbox();
  h = await startHarness({ config: devShopConfig(mailbox.url) });
});
afterAll(async () => {
  await h?.close();
  await mailbox?.close();
});

const mailsTo = (email: string) => mailbox.messages.filter((m) => m.to && JSON.stringify(m.to).includes(email));
const plain = (text: string) => text.replace(/[\s\u00a0]+/g, ' ');

async function placeOrder(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const email = `lang-${randomUUID().slice(0, 8)}@example.test`;
  const res = await call(h, 'POST', '/v1/orders', { key: null, body: { amount: 2_500, currency: 'EUR', email, ...body }, headers, idempotencyKey: randomUUID() });
  return { res, email };
}

async function localeOf(orderId: string): Promise<string> {
  return (await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: orderId } })).locale;
}

describe('languages', () => {
  it('sends the voucher mail and PDF of an order placed in German in German, with German amounts and days', async () => {
    const { res, email } = await placeOrder({ locale: 'de' }, { 'accept-language': 'en-GB,en;q=0.9' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await localeOf(res.body.orderId)).toBe('de'); // the shop's choice wins over the browser's
    await call(h, 'POST', `/v1/orders/${res.body.orderId}/dev-confirm`, { key: null, headers: { 'x-order-token': res.body.accessToken } });
    expect((await h.client.workflow.getHandle(`purchase-${res.body.orderId}`).result()).status).toBe('fulfilled');

    const [mail] = mailsTo(email);
    expect(plain(mail!.subject!)).toBe(`Ihr ${h.config.shop.schemeName} (25,00 €)`);
    const text = plain(mail!.text!);
    expect(text).toContain('Vielen Dank für Ihren Einkauf. Ihr Gutschein über 25,00 € ist als PDF angehängt.');
    expect(text).toMatch(/gilt bis \d{1,2}\. [A-ZÄÖÜ][a-zäöü]+ \d{4}\./);
    expect(text).toContain(`Bestellung ${res.body.orderId}`);

    const pdf = plain(pdfText(mail!.attachments[0]!.content));
    for (const expected of ['25,00 €', 'So lösen Sie ihn ein', 'Sicher aufbewahren', 'Echtheit prüfen', `Gültig in ${h.config.shop.acceptedAt}`]) {
      expect(pdf).toContain(expected);
    }
    expect(pdf).toMatch(/Gültig bis \d{1,2}\. [A-ZÄÖÜ][a-zäöü]+ \d{4}/);
    expect(pdf).not.toContain('How to use it');

    // The expiry reminder for this card speaks German too.
    const { rows: [{ card_id }] } = await h.deps.db.pool.query('SELECT card_id FROM orders WHERE id = $1', [res.body.orderId]);
    await h.deps.db.pool.query(`UPDATE cards SET expires_at = now() + interval '5 days' WHERE id = $1`, [card_id]);
    await h.client.workflow.execute(cardExpiryRemindersWorkflow, { workflowId: `reminders-${randomUUID()}`, taskQueue: h.config.taskQueue, args: [] });
    const reminder = mailsTo(email).find((m) => m.subject?.includes('läuft am'));
    expect(reminder, JSON.stringify(mailsTo(email).map((m) => m.subject))).toBeDefined();
    expect(plain(reminder!.text!)).toContain('hat noch ein Guthaben von 25,00 €');
    expect(plain(reminder!.text!)).toContain('Keine Erinnerungen mehr: http');

    // And so does the refund notice, should the order be refunded.
    const mailer = createMailer(h.config.mail);
    try {
      const activities = createPurchaseActivities({
        config: h.config, prisma: h.deps.db.prisma, ledger: h.deps.ledger, cache: h.deps.cache, payments: h.deps.payments,
        mailer, secrets: h.deps.secrets, pii: h.deps.pii,
      });
      await activities.notifyRefund(res.body.orderId);
    } finally {
      mailer.close();
    }
    const refund = mailsTo(email).find((m) => m.subject?.includes('erstattet'));
    expect(plain(refund!.subject!)).toBe('Ihre Gutscheinbestellung konnte nicht abgeschlossen werden - 25,00 € erstattet');
    expect(plain(refund!.text!)).toContain('Ihre Zahlung von 25,00 € wurde auf Ihre Karte erstattet');
  }, 90_000);

  it('takes the language from Accept-Language when the order names none, English when that matches nothing', async () => {
    const german = await placeOrder({}, { 'accept-language': 'de-AT,de;q=0.9,en;q=0.5' });
    expect(german.res.status).toBe(200);
    expect(await localeOf(german.res.body.orderId)).toBe('de');
    const french = await placeOrder({}, { 'accept-language': 'fr-FR,fr;q=0.9' });
    expect(await localeOf(french.res.body.orderId)).toBe('en');
    const none = await placeOrder({});
    expect(await localeOf(none.res.body.orderId)).toBe('en');
  });

  it('refuses an unknown language with 400 validation_error and creates no order', async () => {
    for (const locale of ['fr', 'DE', '', 7]) {
      const { res, email } = await placeOrder({ locale });
      expect([res.status, res.body.error?.code], JSON.stringify(res.body)).toEqual([400, 'validation_error']);
      const { rows } = await h.deps.db.pool.query('SELECT 1 FROM orders WHERE email_hash = $1', [h.deps.pii.lookupHash(email)]);
      expect(rows).toHaveLength(0);
    }
  });

  it('lets an admin choose a billing party\'s statement language, refusing unknown ones and parties', async () => {
    const user = await h.deps.users.create({ email: `admin-${randomUUID().slice(0, 6)}@centre.test`, displayName: 'Root', role: 'admin', password: 'admin test password' });
    const admin = await signIn(h, user.email, 'admin test password');
    const party = await trpc(h, 'mutation', 'admin.createParty', { name: `Sprachpartei ${randomUUID().slice(0, 4)}`, contactEmail: 'f@p.test', locale: 'de' }, admin);
    const listed = async () => (await trpc(h, 'query', 'admin.directory', undefined, admin)).data.parties.find((p: any) => p.id === party.data.id);
    expect((await listed()).locale).toBe('de');
    const set = await trpc(h, 'mutation', 'admin.setPartyLocale', { billingPartyId: party.data.id, locale: 'en' }, admin);
    expect(set.data).toEqual({ id: party.data.id, locale: 'en' });
    expect((await trpc(h, 'mutation', 'admin.setPartyLocale', { billingPartyId: party.data.id, locale: 'en' }, admin)).data).toEqual(set.data);
    expect((await listed()).locale).toBe('en');
    expect((await trpc(h, 'mutation', 'admin.setPartyLocale', { billingPartyId: party.data.id, locale: 'fr' }, admin)).code).toBe('validation_error');
    expect((await trpc(h, 'mutation', 'admin.setPartyLocale', { billingPartyId: randomUUID(), locale: 'de' }, admin)).code).toBe('not_found');
    expect((await listed()).locale).toBe('en');
  });
});
