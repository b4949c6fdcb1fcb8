// Daily card expiry, started by the `card-expiry-daily` Temporal Schedule: every card past its
// expiry date gives up its balance to breakage, in batches so a large day never holds long locks.

import { proxyActivities } from '@temporalio/workflow';
import type { CardActivities } from '../activities/cards.ts';

const { expireDueCards } = proxyActivities<CardActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

const BATCH = 500;

export async function cardExpiryWorkflow(): Promise<{ expired: number; breakage: number }> {
  let expired = 0;
  let breakage = 0;
  for (;;) {
    const batch = await expireDueCards(BATCH);
    expired += batch.expired;
    breakage += batch.breakage;
    // A short batch, or one whose cards all wait on open holds, means nothing more to do today.
    if (batch.expired + batch.waiting < BATCH || batch.expired === 0) return { expired, breakage };
  }
}
