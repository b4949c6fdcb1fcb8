// The clearing capability's Temporal names: workflow ids, the progress query, the approve and
// rerun updates and the refusal they answer with. Workflow-safe.

import { defineQuery, defineUpdate } from '@temporalio/workflow';
export { clearingWorkflowId, statementWorkflowId } from '../../domain/period.ts';

export const CLEARING_WORKFLOW = 'clearingWorkflow';

export type ClearingStep = 'freezing' | 'computing' | 'statements' | 'awaiting_approval' | 'closing' | 'closed';

export interface ClearingProgress {
  period: string;
  step: ClearingStep;
  /** Completed computations of this period; a rerun adds one. */
  runs: number;
  parties: number;
  statementsDone: number;
  approvedBy: string | null;
}

export const clearingProgressQuery = defineQuery<ClearingProgress>('progress');
/** Finance approves: the period closes and the update returns once it has. */
export const approveClearingUpdate = defineUpdate<ClearingProgress, [{ approvedBy: string }]>('approve');
/** Finance asks for the positions and statements to be computed again before approving. */
export const rerunClearingUpdate = defineUpdate<ClearingProgress, [{ requestedBy: string }]>('rerun');

export const NOT_AWAITING_APPROVAL = 'clearing_not_awaiting_approval';
