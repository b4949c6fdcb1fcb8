// The engine's Temporal Schedules, created at worker start and kept in line with the code: a
// schedule that exists with another spec is updated, so deploying a change takes effect.

import { ScheduleAlreadyRunning, type Client, type ScheduleOptions } from '@temporalio/client';
import { housekeepingWorkflow } from '../workflows/housekeeping.ts';
import { cardExpiryWorkflow } from '../workflows/card-expiry.ts';
import { holdExpirySweepWorkflow } from '../workflows/hold-expiry-sweep.ts';
import { cardExpiryRemindersWorkflow } from '../workflows/card-expiry-reminders.ts';
import { scheduledClearingWorkflow } from '../workflows/clearing.ts';

export const HOUSEKEEPING_SCHEDULE_ID = 'housekeeping-daily';
export const CARD_EXPIRY_SCHEDULE_ID = 'card-expiry-daily';
export const CLEARING_SCHEDULE_ID = 'clearing-monthly';
export const HOLD_EXPIRY_SWEEP_SCHEDULE_ID = 'hold-expiry-sweep';
export const EXPIRY_REMINDERS_SCHEDULE_ID = 'card-expiry-reminders-daily';

export function engineSchedules(taskQueue: string, idempotencyRetentionHours: number, timeZone = 'Europe/Berlin'): ScheduleOptions[] {
  return [{
    scheduleId: HOUSEKEEPING_SCHEDULE_ID,
    spec: { calendars: [{ hour: 3, minute: 30, comment: 'daily, after the night' }], timezone: timeZone },
    policies: { overlap: 'SKIP', catchupWindow: '1 day' },
    action: {
      type: 'startWorkflow',
      workflowType: housekeepingWorkflow,
      workflowId: 'housekeeping',
      taskQueue,
      args: [{ idempotencyRetentionHours }],
    },
  }, {
    scheduleId: CARD_EXPIRY_SCHEDULE_ID,
    // Cards are unusable from their expiry instant (authorize checks it); this run books what they
    // still held as breakage, once a day after midnight in the centre's time zone.
    spec: { calendars: [{ hour: 0, minute: 15, comment: 'daily, after midnight' }], timezone: timeZone },
    policies: { overlap: 'SKIP', catchupWindow: '1 day' },
    action: { type: 'startWorkflow', workflowType: cardExpiryWorkflow, workflowId: 'card-expiry', taskQueue, args: [] },
  }, {
    scheduleId: HOLD_EXPIRY_SWEEP_SCHEDULE_ID,
    // Holds stop counting at their expiry without it (the ledger releases them on the next touch of
    // their card); the sweep books the release for cards nobody touches, so reports and the
    // voucher_holds_past_expiry gauge are exact within a minute. A run that cannot finish (no
    // worker) is timed out, so it does not hold back later ones.
    spec: { intervals: [{ every: '1 minute' }] },
    policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
    action: {
      type: 'startWorkflow', workflowType: holdExpirySweepWorkflow, workflowId: 'hold-expiry-sweep', taskQueue,
      args: [], workflowExecutionTimeout: '10 minutes',
    },
  }, {
    scheduleId: EXPIRY_REMINDERS_SCHEDULE_ID,
    // Buyers are reminded N days before their card expires (EXPIRY_REMINDER_DAYS), in the morning.
    spec: { calendars: [{ hour: 9, minute: 0, comment: 'daily, in the morning' }], timezone: timeZone },
    policies: { overlap: 'SKIP', catchupWindow: '1 day' },
    action: { type: 'startWorkflow', workflowType: cardExpiryRemindersWorkflow, workflowId: 'card-expiry-reminders', taskQueue, args: [] },
  }, {
    scheduleId: CLEARING_SCHEDULE_ID,
    // The previous month, two hours after it ended in the centre's time zone. The run starts
    // `clearing-<yyyy-mm>`, which then waits for finance to approve.
    spec: { calendars: [{ dayOfMonth: 1, hour: 2, minute: 0, comment: 'monthly, the previous month' }], timezone: timeZone },
    policies: { overlap: 'SKIP', catchupWindow: '1 day' },
    action: {
      type: 'startWorkflow', workflowType: scheduledClearingWorkflow, workflowId: 'clearing-monthly', taskQueue, args: [{ timeZone }],
    },
  }];
}

export async function ensureSchedules(client: Client, schedules: ScheduleOptions[]): Promise<void> {
  for (const options of schedules) {
    try {
      await client.schedule.create(options);
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(options.scheduleId).update((previous) => ({
        ...previous, spec: options.spec, action: options.action as typeof previous.action,
        policies: { ...previous.policies, ...options.policies },
      }));
    }
  }
}
