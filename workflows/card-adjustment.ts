// Four eyes on a large card adjustment (`card-adjustment-<id>`): the adjustment waits for a second
// back-office user's decision (the API records it on the request row and signals here) and is
// booked once approved; refused, or left undecided past its deadline, it is never booked.
// The row is the source of truth: a decision whose signal was lost is found when the wait ends.

import { condition, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { CardAdjustmentActivities } from '../activities/card-adjustments.ts';
import { VoucherStatus } from './search-attributes.ts';
import { adjustmentDecidedSignal, cardAdjustmentWorkflowId } from './names/card-adjustment.ts';

export { adjustmentDecidedSignal, cardAdjustmentWorkflowId };


const { settleAdjustment } = proxyActivities<CardAdjustmentActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes' },
});

export interface CardAdjustmentInput {
  adjustmentId: string;
  /** How long the request waits for its decision, in milliseconds. */
  waitMs: number;
}

export async function cardAdjustmentWorkflow(input: CardAdjustmentInput): Promise<{ status: string; entryId: string | null }> {
  let decided = false;
  setHandler(adjustmentDecidedSignal, () => {
    decided = true;
  });
  upsertSearchAttributes([{ key: VoucherStatus, value: 'awaiting_approval' }]);
  await condition(() => decided, input.waitMs);
  // Books an approved request, closes a refused one, or expires one still pending.
  const result = await settleAdjustment(input.adjustmentId, !decided);
  upsertSearchAttributes([{ key: VoucherStatus, value: result.status }]);
  return result;
}
