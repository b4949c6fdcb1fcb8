// A two-phase redemption's life: authorized -> captured | voided | expired.
//
// The hold itself is written by the API in one ledger transaction (the till gets its answer in
// milliseconds); that same transaction queues this workflow's start in the outbox. The workflow
// owns what has to survive crashes and time: it waits for the till's capture or void, and when
// the hold's time runs out it voids it. The ledger's guarded state change decides any race
// between a late capture and expiry, so the money moves exactly once either way.

import { condition, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { RedemptionActivities } from '../activities/redemption.ts';
import { VoucherStatus } from './search-attributes.ts';
import {
  holdSettledSignal, redemptionStateQuery, type HoldSettled, type RedemptionInput, type RedemptionState,
} from './names/redemption.ts';

export {
  holdSettledSignal, redemptionStateQuery, type HoldSettled, type RedemptionInput, type RedemptionState, type RedemptionStatus,
} from './names/redemption.ts';

const { expireHold } = proxyActivities<RedemptionActivities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    // Expiry must happen eventually: keep trying through database outages, back off to a minute.
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: ['hold_not_found'],
  },
});

export async function redemptionWorkflow(input: RedemptionInput): Promise<RedemptionState> {
  const state: RedemptionState = {
    holdId: input.holdId, status: 'authorized', capturedAmount: 0, expiresAt: input.expiresAt,
  };
  let settled: HoldSettled | undefined;
  setHandler(holdSettledSignal, (signal) => {
    settled ??= signal;
  });
  setHandler(redemptionStateQuery, () => state);

  // Never 0: a zero timeout would mean "wait forever".
  const untilExpiry = Math.max(Date.parse(input.expiresAt) - Date.now(), 1);
  const settledInTime = await condition(() => settled !== undefined, untilExpiry);

  if (settledInTime && settled) {
    state.status = settled.status;
    state.capturedAmount = settled.capturedAmount;
  } else {
    const outcome = await expireHold(input.holdId);
    state.status = outcome.status;
    state.capturedAmount = outcome.capturedAmount;
  }
  upsertSearchAttributes([{ key: VoucherStatus, value: state.status }]);
  return state;
}
