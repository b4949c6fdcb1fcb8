// Expiry reminder activities: find the cards due a reminder, and send one.

import type pg from 'pg';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import type { Config } from '../infra/config.ts';
import { ExpiryReminders, reminderLinkKey, type DueReminder } from '../services/expiry-reminders.ts';
import type { Mailer } from '../services/mailer.ts';

export interface ReminderActivities {
  dueExpiryReminders(limit: number): Promise<DueReminder[]>;
  sendExpiryReminder(reminder: DueReminder): Promise<boolean>;
}

export function createReminderActivities(deps: {
  pool: pg.Pool; mailer: Mailer; pii: PiiCipher; secrets: { deriveKey: Buffer }; config: Pick<Config, 'cardLifecycle' | 'publicUrl' | 'clearingTimeZone'>;
}): ReminderActivities {
  const reminders = new ExpiryReminders(deps.pool);
  const thresholds = () => deps.config.cardLifecycle.expiryReminderDays;
  return {
    dueExpiryReminders: (limit) => reminders.due(thresholds(), limit),
    sendExpiryReminder: (r) => reminders.send(r, thresholds(), {
      mailer: deps.mailer, pii: deps.pii, linkKey: reminderLinkKey(deps.secrets.deriveKey), publicUrl: deps.config.publicUrl,
      timeZone: deps.config.clearingTimeZone,
    }),
  };
}
