// Expiry reminders for Print@Home buyers: N days before a card expires (EXPIRY_REMINDER_DAYS, 30
// and 7 by default) its buyer gets one e-mail per threshold, only while value is left, unless they
// unsubscribed. A card first seen inside several thresholds gets the nearest one; the farther ones
// are recorded as passed over. The reminder row is written once the relay accepted the mail, so a
// rerun sends nothing twice (a crash between the two may send one reminder again, never lose one).

import { createHmac } from 'node:crypto';
import type pg from 'pg';
import { signLink, verifyLink } from '../domain/signed-link.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import type { Mailer } from './mailer.ts';
import { asLocale, formatAmount, formatDay, translator } from './i18n/index.ts';

const UNSUBSCRIBE = 'reminder-unsubscribe';
/** An unsubscribe link works for a year: longer than any reminder is relevant. */
const UNSUBSCRIBE_TTL_SECONDS = 365 * 86_400;

export interface DueReminder {
  cardId: string;
  orderId: string;
  daysBefore: number;
}

/** The key unsubscribe links are signed with, derived from the card-code derivation key for this purpose only. */
export function reminderLinkKey(deriveKey: Buffer): Buffer {
  return createHmac('sha256', deriveKey).update('reminder-unsubscribe/v1').digest();
}

export function unsubscribeUrl(publicUrl: string, key: Buffer, orderId: string): string {
  return `${publicUrl}/v1/reminders/unsubscribe/${orderId}?${signLink(key, UNSUBSCRIBE, orderId, UNSUBSCRIBE_TTL_SECONDS)}`;
}

export class ExpiryReminders {
  constructor(private readonly pool: pg.Pool) {}

  /** Cards due a reminder now: the nearest threshold each has reached and not yet had. */
  async due(thresholds: number[], limit: number): Promise<DueReminder[]> {
    if (thresholds.length === 0) return [];
    const { rows } = await this.pool.query<{ card_id: string; order_id: string; days_before: number }>(
      `SELECT DISTINCT ON (c.id) c.id AS card_id, o.id AS order_id, t.d AS days_before
         FROM cards c
         JOIN orders o ON o.card_id = c.id
         CROSS JOIN unnest($1::int[]) AS t(d)
        WHERE c.status = 'active' AND c.available > 0 AND c.expires_at > now()
          AND c.expires_at <= now() + make_interval(days => t.d)
          AND c.expires_at <= now() + make_interval(days => $3)
          AND o.email IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM reminder_unsubscribes u WHERE u.email_hash = o.email_hash)
          AND NOT EXISTS (SELECT 1 FROM card_expiry_reminders r WHERE r.card_id = c.id AND r.days_before <= t.d)
        ORDER BY c.id, t.d
        LIMIT $2`, [thresholds, limit, Math.max(...thresholds)]);
    return rows.map((r) => ({ cardId: r.card_id, orderId: r.order_id, daysBefore: r.days_before }));
  }

  /** Sends one reminder (if still due) and records it with the thresholds it supersedes. */
  async send(r: DueReminder, thresholds: number[], deps: { mailer: Mailer; pii: PiiCipher; linkKey: Buffer; publicUrl: string; timeZone: string }): Promise<boolean> {
    const { rows: [row] } = await this.pool.query<{ email: string | null; last4: string; available: string; currency: string; expires_at: Date; locale: string; unsubscribed: boolean; done: boolean }>(
      `SELECT o.email, o.locale, c.code_last4 AS last4, c.available, c.currency, c.expires_at,
              EXISTS (SELECT 1 FROM reminder_unsubscribes u WHERE u.email_hash = o.email_hash) AS unsubscribed,
              EXISTS (SELECT 1 FROM card_expiry_reminders x WHERE x.card_id = c.id AND x.days_before = $3) AS done
         FROM cards c JOIN orders o ON o.card_id = c.id WHERE c.id = $1 AND o.id = $2`, [r.cardId, r.orderId, r.daysBefore]);
    if (!row || !row.email || row.unsubscribed || row.done || Number(row.available) <= 0) return false;
    const locale = asLocale(row.locale);
    const t = translator(locale);
    const amount = formatAmount(locale, BigInt(row.available), row.currency);
    const day = formatDay(locale, row.expires_at, deps.timeZone);
    await deps.mailer.send({
      to: deps.pii.open(row.email),
      subject: t('reminderMail.subject', { last4: row.last4, day }),
      text: t('reminderMail.text', {
        last4: row.last4, amount, day, days: r.daysBefore, unsubscribeUrl: unsubscribeUrl(deps.publicUrl, deps.linkKey, r.orderId),
      }),
      messageId: `<expiry-${r.cardId}-${r.daysBefore}@vouchers>`,
    });
    // This threshold is sent; the farther ones it supersedes are passed over.
    await this.pool.query(
      `INSERT INTO card_expiry_reminders (card_id, days_before, sent_at)
       SELECT $1, d, CASE WHEN d = $2 THEN now() END FROM unnest($3::int[]) AS t(d) WHERE d >= $2
       ON CONFLICT DO NOTHING`, [r.cardId, r.daysBefore, thresholds]);
    return true;
  }

  /** Honours an unsubscribe link: no more reminders to this order's buyer, for any of their cards. */
  async unsubscribe(orderId: string, expires: string | undefined, sig: string | undefined, linkKey: Buffer): Promise<void> {
    verifyLink(linkKey, UNSUBSCRIBE, orderId, expires, sig, 'the reminders stop at the card\'s expiry anyway');
    await this.pool.query(
      `INSERT INTO reminder_unsubscribes (email_hash) SELECT email_hash FROM orders WHERE id = $1 AND email_hash IS NOT NULL
       ON CONFLICT DO NOTHING`, [orderId]);
    await this.pool.query(`INSERT INTO audit_entries (actor, action, subject, details) VALUES ('shopper', 'expiry_reminders_unsubscribed', $1, '{}')`, [`order:${orderId}`]);
  }
}
