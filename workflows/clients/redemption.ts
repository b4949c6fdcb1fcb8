// Client calls of the redemption capability: the outbox relay starts a hold's workflow, or
// signals it with its start once the till settled it. Never bundled into workflow code.

import type { Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { redemptionWorkflow } from '../redemption.ts';
import {
  holdSettledSignal, REDEMPTION_WORKFLOW, redemptionSearchAttributes, type HoldSettled, type RedemptionInput,
} from '../names/redemption.ts';

/** Bounded, so a Temporal outage fails the relay's batch (rows stay queued) instead of hanging it. */
export const RELAY_DEADLINE_MS = 10_000;

/** Starts a hold's workflow, or signals it with start when the hold is settled already. */
export function startRedemption(
  client: Client, taskQueue: string, workflowId: string, input: RedemptionInput, settled?: HoldSettled,
): Promise<unknown> {
  const options = {
    workflowId,
    taskQueue,
    args: [input] as [RedemptionInput],
    // A finished redemption is final: never start a second run under its id.
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    typedSearchAttributes: new TypedSearchAttributes(redemptionSearchAttributes(input)),
  };
  return client.withDeadline(Date.now() + RELAY_DEADLINE_MS, async (): Promise<unknown> => settled
    ? client.workflow.signalWithStart<typeof redemptionWorkflow, [HoldSettled]>(REDEMPTION_WORKFLOW, {
      ...options, signal: holdSettledSignal, signalArgs: [settled] })
    : client.workflow.start<typeof redemptionWorkflow>(REDEMPTION_WORKFLOW, options));
}
