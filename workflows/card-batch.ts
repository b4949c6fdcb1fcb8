// A scratch-card batch (`card-batch-<id>`): generate its cards (all pending), then wait for the
// system owner's decision (the API records it and signals here; the VoucherStatus search attribute
// shows awaiting_approval in the Temporal UI). Approved, its cards can be printed and activated at
// tills; refused, or left undecided past the deadline, it is cancelled and its cards closed.

import { condition, proxyActivities, upsertSearchAttributes, setHandler } from '@temporalio/workflow';
import type { CardBatchActivities } from '../activities/card-batches.ts';
import { VoucherStatus } from './search-attributes.ts';
import { batchDecidedSignal, cardBatchWorkflowId } from './names/card-batch.ts';

export { batchDecidedSignal, cardBatchWorkflowId };


const { generateBatchCards } = proxyActivities<CardBatchActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
const { expireBatch, batchStatus } = proxyActivities<CardBatchActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export interface CardBatchInput {
  batchId: string;
  /** How long the generated batch waits for approval, in milliseconds. */
  approvalWaitMs: number;
}

export async function cardBatchWorkflow(input: CardBatchInput): Promise<{ status: string; generated: number }> {
  let decided = false;
  setHandler(batchDecidedSignal, () => {
    decided = true;
  });
  upsertSearchAttributes([{ key: VoucherStatus, value: 'generating' }]);
  const { generated } = await generateBatchCards(input.batchId);
  upsertSearchAttributes([{ key: VoucherStatus, value: 'awaiting_approval' }]);
  await condition(() => decided, input.approvalWaitMs);
  const status = decided ? await batchStatus(input.batchId) : await expireBatch(input.batchId);
  upsertSearchAttributes([{ key: VoucherStatus, value: status }]);
  return { status, generated };
}
