// Client calls of the purchase capability, each with its deadline: start a purchase and get its
// payment (Update-with-Start), forward a payment event, refund a late payment, cancel a purchase,
// resend a voucher. Used by api/; never bundled into workflow code.

import {
  WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowUpdateStage, type Client, type WorkflowUpdateHandle,
} from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { PaymentEvent } from '../../services/payments/provider.ts';
import type { latePaymentWorkflow } from '../late-payment.ts';
import type { purchaseWorkflow } from '../purchase.ts';
import type { voucherResendWorkflow } from '../voucher-resend.ts';
import {
  cancelPurchaseUpdate, LATE_PAYMENT_WORKFLOW, latePaymentWorkflowId, paymentEventSignal, paymentReadyUpdate, PURCHASE_WORKFLOW,
  purchaseWorkflowId, VOUCHER_RESEND_WORKFLOW, voucherResendWorkflowId, type CancelRequest, type PaymentInfo, type PurchaseInput, type PurchaseState,
} from '../names/purchase.ts';
import { VoucherAmount, VoucherCurrency, VoucherStatus } from '../search-attributes.ts';
import { TEMPORAL_DEADLINE_MS } from './deadline.ts';

export { TEMPORAL_DEADLINE_MS };

/**
 * Starts the order's purchase and asks for its payment in one call: the shop gets the client
 * secret as soon as the payment exists, and a retry joins the running workflow.
 */
export function startPurchase(client: Client, taskQueue: string, input: PurchaseInput): Promise<PaymentInfo> {
  const start = new WithStartWorkflowOperation<typeof purchaseWorkflow>(PURCHASE_WORKFLOW, {
    workflowId: purchaseWorkflowId(input.orderId),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    // One run per order, ever: a finished purchase must not create a second payment.
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: new TypedSearchAttributes([
      { key: VoucherStatus, value: 'awaiting_payment' },
      { key: VoucherAmount, value: input.amount },
      { key: VoucherCurrency, value: input.currency },
    ]),
  });
  return client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
    client.workflow.executeUpdateWithStart(paymentReadyUpdate, { startWorkflowOperation: start }));
}

/** Forwards a payment event to the order's purchase (WorkflowNotFoundError once it is over). */
export function signalPaymentEvent(client: Client, orderId: string, event: PaymentEvent): Promise<void> {
  return client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
    client.workflow.getHandle(purchaseWorkflowId(orderId)).signal(paymentEventSignal, event));
}

/** Refunds a payment that succeeded after its order expired; once per order. */
export async function startLatePaymentRefund(client: Client, taskQueue: string, orderId: string): Promise<void> {
  try {
    await client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () =>
      client.workflow.start<typeof latePaymentWorkflow>(LATE_PAYMENT_WORKFLOW, {
        workflowId: latePaymentWorkflowId(orderId), taskQueue, args: [{ orderId }],
        workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'REJECT_DUPLICATE',
      }));
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** Asks a purchase to cancel (one update id per workflow: asking twice is one cancellation). */
export function requestPurchaseCancel(
  client: Client, workflowId: string, request: CancelRequest,
): Promise<WorkflowUpdateHandle<PurchaseState>> {
  return client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => client.workflow.getHandle(workflowId).startUpdate(
    cancelPurchaseUpdate, { args: [request], updateId: `support-cancel-${workflowId}`, waitForStage: WorkflowUpdateStage.ACCEPTED }));
}

/** How long a resend waits for the mail relay before answering. */
export const VOUCHER_RESEND_DEADLINE_MS = 30_000;

/** Resends an order's voucher e-mail through a workflow; the same resend id is the same resend. */
export function resendVoucher(client: Client, taskQueue: string, orderId: string, resendId: string): Promise<{ sent: boolean }> {
  const workflowId = voucherResendWorkflowId(orderId, resendId);
  return client.withDeadline(Date.now() + VOUCHER_RESEND_DEADLINE_MS, () => client.workflow.execute<typeof voucherResendWorkflow>(VOUCHER_RESEND_WORKFLOW, {
    workflowId, taskQueue, args: [{ orderId, resendId }], workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'REJECT_DUPLICATE',
  })).catch(async (err) => {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return client.workflow.getHandle(workflowId).result() as Promise<{ sent: boolean }>;
  });
}
