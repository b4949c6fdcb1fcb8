// Four-eyes adjustment activities: settle a request once decided or past its deadline.

import type pg from 'pg';
import { CardAdjustments, type AdjustmentStatus } from '../services/card-adjustments.ts';
import type { Ledger } from '../services/ledger.ts';

export interface CardAdjustmentActivities {
  settleAdjustment(adjustmentId: string, deadlinePassed: boolean): Promise<{ status: AdjustmentStatus; entryId: string | null }>;
}

/** The ledger's booking writes the card to the balance cache. */
export function createCardAdjustmentActivities(deps: { pool: pg.Pool; ledger: Ledger; maxCardBalance: bigint }): CardAdjustmentActivities {
  const adjustments = new CardAdjustments(deps.pool);
  return {
    settleAdjustment: (adjustmentId, deadlinePassed) => adjustments.settle(adjustmentId, deadlinePassed, deps.ledger, deps.maxCardBalance),
  };
}
