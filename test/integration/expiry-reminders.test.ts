// Expiry reminders from the daily schedule's workflow, against the in-process SMTP server: one
// e-mail per card and threshold (30 and 7 days by default), only with value left, never twice on a
// rerun, and an unsubscribe link that stops them for every card of that buyer.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardExpiryRemindersWorkflow } from '../../workflows/card-expiry-reminders.ts';
import { call, devShopConfig, startHarness, type Harness } from '../helpers/harness.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';

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

/** Buys a voucher through Print@Home and returns its card, expiring in `days`. */
async function bought(email: string, days: number, amount = 2_000): Promise<string> {
  const res = await call(h, 'POST', '/v1/orders', { key: null, body: { amount, currency: 'EUR', email }, idempotencyKey: randomUUID() });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  await call(h, 'POST', `/v1/orders/${res.body.orderId}/dev-confirm`, { key: null, headers: { 'x-order-token': res.body.accessToken } });
  expect((await h.client.workflow.getHandle(`purchase-${res.body.orderId}`).result()).status).toBe('fulfilled');
  const { rows: [{ card_id }] } = await h.deps.db.pool.query('SELECT card_id FROM orders WHERE id = $1', [res.body.orderId]);
  await h.deps.db.pool.query(`UPDATE cards SET expires_at = now() + make_interval(days => $2) WHERE id = $1`, [card_id, days]);
  return card_id;
}

async function runReminders(): Promise<{ sent: number }> {
  return h.client.workflow.execute(cardExpiryRemindersWorkflow, { workflowId: `reminders-${randomUUID()}`, taskQueue: h.config.taskQueue, args: [] });
}

const remindersTo = (email: string) => mailbox.messages.filter((m) => m.subject?.includes('expires on') && m.to && JSON.stringify(m.to).includes(email));

describe('expiry reminders', () => {
  it('remind once per threshold, only with value left, and never twice on a rerun', async () => {
    const email = `remind-${randomUUID().slice(0, 8)}@example.test`;
    const card = await bought(email, 20);
    const later = await bought(email, 90);
    const spent = await bought(`spent-${randomUUID().slice(0, 8)}@example.test`, 5);
    await h.deps.ledger.clearBalance({ scope: 'test', key: randomUUID(), actor: 'test' }, { cardId: spent, reason: 'support_issue' });

    expect((await runReminders()).sent).toBeGreaterThanOrEqual(1);
    expect(remindersTo(email)).toHaveLength(1);
    expect(remindersTo(email)[0]!.text).toContain('€20.00');
    expect(await runReminders()).toEqual({ sent: 0 });
    expect(remindersTo(email)).toHaveLength(1);

    // A week before: the second threshold, once.
    await h.deps.db.pool.query(`UPDATE cards SET expires_at = now() + interval '6 days' WHERE id = $1`, [card]);
    await runReminders();
    await runReminders();
    expect(remindersTo(email)).toHaveLength(2);
    const { rows } = await h.deps.db.pool.query('SELECT card_id, days_before, sent_at IS NOT NULL AS sent FROM card_expiry_reminders WHERE card_id = ANY($1) ORDER BY days_before', [[card, later, spent]]);
    expect(rows).toEqual([{ card_id: card, days_before: 7, sent: true }, { card_id: card, days_before: 30, sent: true }]);
  });

  it('gives a card first seen a few days before expiry only the nearest reminder', async () => {
    const email = `late-${randomUUID().slice(0, 8)}@example.test`;
    const card = await bought(email, 3);
    await runReminders();
    await runReminders();
    expect(remindersTo(email)).toHaveLength(1);
    const { rows } = await h.deps.db.pool.query('SELECT days_before, sent_at IS NOT NULL AS sent FROM card_expiry_reminders WHERE card_id = $1 ORDER BY days_before', [card]);
    expect(rows).toEqual([{ days_before: 7, sent: true }, { days_before: 30, sent: false }]);
  });

  it('honours the unsubscribe link for every card of the buyer', async () => {
    const email = `unsub-${randomUUID().slice(0, 8)}@example.test`;
    await bought(email, 25);
    await runReminders();
    const [mail] = remindersTo(email);
    const link = /(http\S+\/v1\/reminders\/unsubscribe\/\S+)/.exec(mail!.text ?? '')![1]!;
    const forged = await fetch(link.replace(/sig=[^&\s]+/, 'sig=AAAA'));
    expect(forged.status).toBe(400);
    const res = await fetch(link);
    expect(res.status).toBe(200);
    expect((await fetch(link)).status).toBe(200); // a second click changes nothing
    await bought(email, 5);
    await runReminders();
    expect(remindersTo(email)).toHaveLength(1);
  });
});
