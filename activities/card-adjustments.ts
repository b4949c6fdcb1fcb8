// Four-eyes adjustment activities: settle a request once decided or past its deadline.

import type pg from 'pg';
import type { BalanceCache } from '../services/balance-cache.ts';
import { CardAdjustments, type AdjustmentStatus } from '../services/card-adjustments.ts';
import { cacheCard } from '../services/card-view.ts';
import type { Ledger } from '../services/ledger.ts';

export interface CardAdjustmentActivities {
  settleAdjustment(adjustmentId: string, deadlinePassed: boolean): Promise<{ status: AdjustmentStatus; entryId: string | null }>;
}

export function createCardAdjustmentActivities(deps: { pool: pg.Pool; ledger: Ledger; cache: BalanceCache; maxCardBalance: bigint }): CardAdjustmentActivities {
  const adjustments = new CardAdjustments(deps.pool);
  return {
    async settleAdjustment(adjustmentId, deadlinePassed) {
      const result = await adjustments.settle(adjustmentId, deadlinePassed, deps.ledger, deps.maxCardBalance);
      if (result.status === 'booked') {
        const { rows: [card] } = await deps.pool.query('SELECT card_json(c) AS r FROM cards c JOIN card_adjustment_requests a ON a.card_id = c.id WHERE a.id = $1', [adjustmentId]);
        if (card) await cacheCard(deps.cache, card.r);
      }
      return result;
    },
  };
}
