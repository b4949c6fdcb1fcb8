// The purchase capability's Temporal names: workflow types and ids, updates, signals, queries and
// what they carry. Workflow-safe (definitions and types only): the workflows import it, and so do
// the client calls in workflows/clients/purchase.ts.

import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { PaymentEvent } from '../../services/payments/provider.ts';
import type { PurchaseStatus } from '../../domain/order-status.ts';

export type { PurchaseStatus };

export const PURCHASE_WORKFLOW = 'purchaseWorkflow';
export const LATE_PAYMENT_WORKFLOW = 'latePaymentWorkflow';
export const VOUCHER_RESEND_WORKFLOW = 'voucherResendWorkflow';

/** The payment a purchase created: what the shop needs to let the shopper pay. */
export interface PaymentInfo {
  orderId: string;
  provider: string;
  paymentId: string;
  clientSecret: string | null;
}

export interface PurchaseInput {
  orderId: string;
  amount: number;
  currency: string;
  confirmationTimeoutSeconds: number;
}

export interface PurchaseState {
  orderId: string;
  status: PurchaseStatus;
  paymentId: string | null;
  cardId: string | null;
  failureReason: string | null;
  eventsSeen: number;
}

export interface CancelRequest {
  reason: string;
  requestedBy: string;
}

/** How a cancelled order's failure reason begins: the API recognises a cancellation asked again by it. */
export const CANCELLED_BY_SUPPORT = 'cancelled by support';

export const paymentReadyUpdate = defineUpdate<PaymentInfo>('paymentReady');
/** Answers once the purchase is compensated (status expired or refunded), or refuses. */
export const cancelPurchaseUpdate = defineUpdate<PurchaseState, [CancelRequest]>('cancelPurchase');
export const paymentEventSignal = defineSignal<[PaymentEvent]>('paymentEvent');
export const purchaseStateQuery = defineQuery<PurchaseState>('state');

export function purchaseWorkflowId(orderId: string): string {
  return `purchase-${orderId}`;
}

/** The order behind a purchase workflow's id; null for any other workflow. */
export function orderIdOfPurchase(workflowId: string): string | null {
  return /^purchase-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(workflowId)?.[1] ?? null;
}

/** A payment that arrived after its order expired is refunded once per order. */
export function latePaymentWorkflowId(orderId: string): string {
  return `late-payment-${orderId}`;
}

export function voucherResendWorkflowId(orderId: string, resendId: string): string {
  return `voucher-resend-${orderId}-${resendId}`;
}
