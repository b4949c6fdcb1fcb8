// The hold-expiry sweep, started every minute by the `hold-expiry-sweep` Temporal Schedule: books
// the release of holds past their expiry on cards nobody has touched since. Tills never wait for
// it (the ledger releases a card's expired holds whenever it touches the card, and lookups count
// them as released); it makes reports, check:ledger's open holds and the voucher_holds_past_expiry
// gauge exact. Batches of cards, each its own short transaction.

import { proxyActivities } from '@temporalio/workflow';
import type { HousekeepingActivities } from '../activities/housekeeping.ts';

const { releaseExpiredHolds } = proxyActivities<HousekeepingActivities>({
  startToCloseTimeout: '1 minute',
  // The next run a minute later starts afresh; no point retrying for longer than that.
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '20 seconds', maximumAttempts: 4 },
});

const BATCH = 200;
// Bounds one run's history; a backlog larger than this is taken by the next runs.
const MAX_BATCHES = 50;

export interface HoldExpirySweepResult {
  cards: number;
  holds: number;
}

export async function holdExpirySweepWorkflow(): Promise<HoldExpirySweepResult> {
  const total: HoldExpirySweepResult = { cards: 0, holds: 0 };
  for (let i = 0; i < MAX_BATCHES; i++) {
    const batch = await releaseExpiredHolds(BATCH);
    total.cards += batch.cards;
    total.holds += batch.holds;
    // A short batch: nothing more is due, or the rest is on cards a till is using right now.
    if (batch.cards < BATCH) break;
  }
  return total;
}
