// The redemption capability's Temporal names: the workflow id (also built in SQL by the ledger
// functions that queue the start in workflow_outbox; test/integration/outbox-payload.test.ts keeps
// the two equal), its input, signal, query and search attributes. Workflow-safe.

import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { SearchAttributePair } from '@temporalio/common';
import {
  VoucherAmount, VoucherBillingPartyId, VoucherCurrency, VoucherStatus, VoucherStoreId, VoucherTerminalId,
} from '../search-attributes.ts';

export const REDEMPTION_WORKFLOW = 'redemptionWorkflow';

/** What the ledger queues in workflow_outbox for a hold (built by SQL: see ledger_authorize). */
export interface RedemptionInput {
  holdId: string;
  terminalId: string;
  storeId: string;
  billingPartyId?: string;
  posReference: string;
  amount: number;
  currency: string;
  expiresAt: string;
}

export interface HoldSettled {
  status: 'captured' | 'voided';
  capturedAmount: number;
}

export type RedemptionStatus = 'authorized' | 'captured' | 'voided' | 'expired';

export interface RedemptionState {
  holdId: string;
  status: RedemptionStatus;
  capturedAmount: number;
  expiresAt: string;
}

/** The workflow's signature, for typed client calls without importing workflow code. */
export type RedemptionWorkflow = (input: RedemptionInput) => Promise<RedemptionState>;

export const holdSettledSignal = defineSignal<[HoldSettled]>('holdSettled');
export const redemptionStateQuery = defineQuery<RedemptionState>('state');

/** One workflow per till transaction: the terminal and its POS reference. */
export function redemptionWorkflowId(terminalId: string, posReference: string): string {
  return `redemption-${terminalId}-${posReference}`;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** The terminal and POS reference behind a redemption workflow's id; null for any other id. */
export function parseRedemptionWorkflowId(workflowId: string): { terminalId: string; posReference: string } | null {
  const match = new RegExp(`^redemption-(${UUID})-(.+)$`, 's').exec(workflowId);
  return match ? { terminalId: match[1]!, posReference: match[2]! } : null;
}

/** What support filters redemptions on in the Temporal UI. */
export function redemptionSearchAttributes(input: RedemptionInput): SearchAttributePair[] {
  return [
    { key: VoucherStatus, value: 'authorized' },
    { key: VoucherStoreId, value: input.storeId },
    { key: VoucherTerminalId, value: input.terminalId },
    { key: VoucherAmount, value: input.amount },
    { key: VoucherCurrency, value: input.currency },
    ...(input.billingPartyId ? [{ key: VoucherBillingPartyId, value: input.billingPartyId }] : []),
  ];
}
