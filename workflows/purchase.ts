// A Print@Home purchase: create the payment -> wait for the provider's confirmation -> issue the
// card -> render the PDF and e-mail it. The shop gets the payment details through the
// `paymentReady` update sent with the workflow's start (Update-with-Start), so a crash of the API
// after starting can never leave a payment the workflow does not know about.
//
// Payment events arrive as signals from webhooks: duplicates and late or out-of-order events are
// expected and ignored; a success is final. No success in time: the payment is cancelled and the
// order expires. A card that cannot be issued for good is refunded and the shopper told.

import {
  ActivityFailure, ApplicationFailure, condition, defineQuery, defineSignal, defineUpdate, proxyActivities,
  setHandler, upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PaymentInfo, PurchaseActivities } from '../activities/purchase.ts';
import type { PaymentEvent } from '../services/payments/provider.ts';
import { VoucherStatus } from './search-attributes.ts';

export interface PurchaseInput {
  orderId: string;
  amount: number;
  currency: string;
  confirmationTimeoutSeconds: number;
}

export type PurchaseStatus = 'awaiting_payment' | 'payment_failed' | 'paid' | 'issued' | 'fulfilled' | 'expired' | 'refunded';

export interface PurchaseState {
  orderId: string;
  status: PurchaseStatus;
  paymentId: string | null;
  cardId: string | null;
  failureReason: string | null;
  eventsSeen: number;
}

export const paymentReadyUpdate = defineUpdate<PaymentInfo>('paymentReady');
export const paymentEventSignal = defineSignal<[PaymentEvent]>('paymentEvent');
export const purchaseStateQuery = defineQuery<PurchaseState>('state');

// Outages of Stripe or the database only delay a purchase: these retry until they succeed or
// fail with a business refusal (non-retryable), which is the only thing that leads to a refund.
const payments = proxyActivities<PurchaseActivities>({
  startToCloseTimeout: '45 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});
const ledger = proxyActivities<PurchaseActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
// Mail keeps trying for a long time: an SMTP outage delays a voucher, it must not lose it.
const mail = proxyActivities<PurchaseActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

const TERMINAL: PurchaseStatus[] = ['fulfilled', 'expired', 'refunded'];

export async function purchaseWorkflow(input: PurchaseInput): Promise<PurchaseState> {
  const state: PurchaseState = {
    orderId: input.orderId, status: 'awaiting_payment', paymentId: null, cardId: null, failureReason: null, eventsSeen: 0,
  };
  let payment: PaymentInfo | undefined;
  let succeeded: PaymentEvent | undefined;
  const failures: PaymentEvent[] = [];
  const seen = new Set<string>();

  setHandler(purchaseStateQuery, () => state);
  setHandler(paymentReadyUpdate, async () => {
    await condition(() => payment !== undefined || TERMINAL.includes(state.status));
    if (!payment) throw ApplicationFailure.nonRetryable(`order is ${state.status}`, 'order_not_payable');
    return payment;
  });
  setHandler(paymentEventSignal, (event) => {
    if (seen.has(event.eventId)) return;
    seen.add(event.eventId);
    state.eventsSeen++;
    if (payment && event.paymentId !== payment.paymentId) return;
    if (event.type === 'succeeded') succeeded ??= event;
    else if (!succeeded) failures.push(event);
  });

  const setStatus = (status: PurchaseStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: VoucherStatus, value: status }]);
  };

  payment = await payments.createPayment(input.orderId);
  state.paymentId = payment.paymentId;

  // One deadline for the whole wait: failed attempts do not extend it.
  const deadline = Date.now() + input.confirmationTimeoutSeconds * 1000;
  while (!succeeded) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    await condition(() => succeeded !== undefined || failures.length > 0, remaining);
    const failure = failures.shift();
    if (failure && !succeeded) {
      state.failureReason = failure.reason ?? 'the card payment failed';
      setStatus('payment_failed');
      await payments.recordPaymentFailure(input.orderId, state.failureReason);
    }
  }
  if (!succeeded) {
    await payments.cancelPayment(input.orderId);
    state.failureReason = 'payment not confirmed in time';
    setStatus('expired');
    return state;
  }

  state.failureReason = null;
  state.status = 'paid';

  try {
    const card = await ledger.issueCard(input.orderId);
    state.cardId = card.cardId;
    setStatus('issued');
  } catch (err) {
    const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
    if (!cause?.nonRetryable) throw err;
    // Issuing was refused for good: the shopper gets the money back and an explanation.
    state.failureReason = `voucher could not be issued (${cause.type ?? 'error'}): ${cause.message}`;
    await payments.refundPayment(input.orderId, state.failureReason);
    setStatus('refunded');
    await mail.notifyRefund(input.orderId);
    return state;
  }

  await mail.deliverVoucher(input.orderId);
  setStatus('fulfilled');
  return state;
}
