// The card adjustment capability's Temporal names: workflow type and id, the approval signal. Workflow-safe (definitions and types
// only): the workflow imports it, and so do the API and services that start or signal it.

import { defineSignal } from '@temporalio/workflow';

export const CARD_ADJUSTMENT_WORKFLOW = 'cardAdjustmentWorkflow';

export const adjustmentDecidedSignal = defineSignal('adjustmentDecided');

export function cardAdjustmentWorkflowId(adjustmentId: string): string {
  return `card-adjustment-${adjustmentId}`;
}
