// Daily housekeeping, started by the `housekeeping-daily` Temporal Schedule: forgets idempotency
// records older than the retention window (clients retry within minutes; Stripe keeps keys a
// day). A repeat after that window is a new request.

import { proxyActivities } from '@temporalio/workflow';
import type { HousekeepingActivities } from '../activities/housekeeping.ts';

const { purgeIdempotencyRecords } = proxyActivities<HousekeepingActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 10 },
});

export async function housekeepingWorkflow(input: { idempotencyRetentionHours: number }): Promise<{ purged: number }> {
  let purged = 0;
  // In batches, so one run never holds long locks on a busy table.
  for (;;) {
    const batch = await purgeIdempotencyRecords(input.idempotencyRetentionHours, 10_000);
    purged += batch;
    if (batch < 10_000) return { purged };
  }
}
