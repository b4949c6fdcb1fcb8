// Daily expiry reminders (`card-expiry-reminders-daily` Schedule): each Print@Home buyer whose card
// reaches a reminder threshold with value left gets one e-mail per threshold. One activity per
// mail, retried on its own, so a relay outage delays reminders without repeating the sent ones.

import { proxyActivities } from '@temporalio/workflow';
import type { ReminderActivities } from '../activities/expiry-reminders.ts';

const { dueExpiryReminders } = proxyActivities<ReminderActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});
const { sendExpiryReminder } = proxyActivities<ReminderActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 20 },
});

const BATCH = 200;

export async function cardExpiryRemindersWorkflow(): Promise<{ sent: number }> {
  let sent = 0;
  for (;;) {
    const due = await dueExpiryReminders(BATCH);
    for (const r of due) if (await sendExpiryReminder(r)) sent++;
    if (due.length < BATCH) return { sent };
  }
}
