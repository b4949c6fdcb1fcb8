// Daily housekeeping, started by the `housekeeping-daily` Temporal Schedule: forgets idempotency
// records older than the retention window (clients retry within minutes; Stripe keeps keys a
// day; a repeat after that window is a new request), erases shoppers' addresses from orders past
// their retention, deletes orders that expired unpaid and sessions that expired, and webhook
// events (with their deliveries) past WEBHOOK_EVENT_RETENTION_DAYS.

import { patched, proxyActivities } from '@temporalio/workflow';
import type { HousekeepingActivities } from '../activities/housekeeping.ts';

const activities = proxyActivities<HousekeepingActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 10 },
});

const BATCH = 10_000;

/** Runs a batch step until a batch comes back short; one run never holds long locks on a busy table. */
async function inBatches(step: (batchSize: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const batch = await step(BATCH);
    total += batch;
    if (batch < BATCH) return total;
  }
}

export interface HousekeepingResult {
  purged: number;
  ordersAnonymised?: number;
  expiredOrdersDeleted?: number;
  sessionsDeleted?: number;
  webhookEventsDeleted?: number;
}

export async function housekeepingWorkflow(input: { idempotencyRetentionHours: number }): Promise<HousekeepingResult> {
  const purged = await inBatches((n) => activities.purgeIdempotencyRecords(input.idempotencyRetentionHours, n));
  // Runs started before retention existed end as they did.
  if (!patched('personal-data-retention')) return { purged };
  const ordersAnonymised = await inBatches(activities.anonymiseOldOrders);
  const expiredOrdersDeleted = await inBatches(activities.purgeExpiredOrders);
  const sessionsDeleted = await inBatches(activities.purgeExpiredSessions);
  if (!patched('webhook-event-retention')) return { purged, ordersAnonymised, expiredOrdersDeleted, sessionsDeleted };
  const webhookEventsDeleted = await inBatches(activities.purgeOldWebhookEvents);
  return { purged, ordersAnonymised, expiredOrdersDeleted, sessionsDeleted, webhookEventsDeleted };
}
