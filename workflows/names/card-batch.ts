// The scratch-card batch capability's Temporal names: workflow type and id, the approval signal. Workflow-safe (definitions and types
// only): the workflow imports it, and so do the API and services that start or signal it.

import { defineSignal } from '@temporalio/workflow';

export const CARD_BATCH_WORKFLOW = 'cardBatchWorkflow';

export const batchDecidedSignal = defineSignal('batchDecided');

export function cardBatchWorkflowId(batchId: string): string {
  return `card-batch-${batchId}`;
}
