// The purchase's activities, by how they retry. Outages of Stripe or the database only delay a
// purchase: these retry until they succeed or fail with a business refusal (non-retryable), which
// is the only thing that leads to a refund.

import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { PurchaseActivities } from '../../activities/purchase.ts';

export const payments = proxyActivities<PurchaseActivities>({
  startToCloseTimeout: '45 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});
export const ledger = proxyActivities<PurchaseActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
// Mail keeps trying for a long time: an SMTP outage delays a voucher, it must not lose it.
export const mail = proxyActivities<PurchaseActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** The business refusal behind an activity's failure; undefined for a failure that may pass. */
export function nonRetryableCause(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
  return cause?.nonRetryable ? cause : undefined;
}
