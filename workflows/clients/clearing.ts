// Client calls of the clearing capability: start a period's workflow, read its live progress, send
// it an update. Never bundled into workflow code.

import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { clearingWorkflow } from '../clearing.ts';
import { CLEARING_WORKFLOW, clearingProgressQuery, clearingWorkflowId, type ClearingProgress } from '../names/clearing.ts';
import { VoucherPeriod } from '../search-attributes.ts';
import { TEMPORAL_DEADLINE_MS } from './deadline.ts';

export function startClearingWorkflow(client: Client, taskQueue: string, period: string): Promise<unknown> {
  return client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
    client.workflow.start<typeof clearingWorkflow>(CLEARING_WORKFLOW, {
      workflowId: clearingWorkflowId(period), taskQueue, args: [{ period }],
      // Starting a running period again joins it. Whether a finished one may run again is the
      // database's call (a closed period is refused before this), not Temporal's history's.
      workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [{ key: VoucherPeriod, value: period }],
    }));
}

/** The running clearing's progress; null when no clearing of the period exists in Temporal. */
export async function clearingProgress(client: Client, period: string): Promise<ClearingProgress | null> {
  try {
    return await client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
      client.workflow.getHandle(clearingWorkflowId(period)).query(clearingProgressQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** Sends `send` to the period's workflow within `deadlineMs`. */
export function withClearingHandle<T>(
  client: Client, period: string, deadlineMs: number, send: (handle: WorkflowHandle) => Promise<T>,
): Promise<T> {
  return client.withDeadline(Date.now() + deadlineMs, () => send(client.workflow.getHandle(clearingWorkflowId(period))));
}
