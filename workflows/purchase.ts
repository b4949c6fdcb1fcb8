// A Print@Home purchase: create the payment -> wait for the provider's confirmation -> issue the
// card -> render the PDF and e-mail it. The shop gets the payment details through the
// `paymentReady` update sent with the workflow's start (Update-with-Start), so a crash of the API
// after starting can never leave a payment the workflow does not know about.
//
// Payment events arrive as signals from webhooks: duplicates and late or out-of-order events are
// expected and ignored; a success is final. A webhook alone is never proof: before issuing, the
// payment is re-read from the provider (succeeded, and amount, currency and order match; a paid
// mismatch is refunded). No success in time: the payment is cancelled, and the provider's answer
// decides: cancelled, the order expires; paid meanwhile, the purchase goes on and issues the card.
// A card that cannot be issued for good is refunded and the shopper told.
//
// Support can cancel a purchase that is stuck (the `cancelPurchase` update) at any step before the
// voucher has gone out: the running step is abandoned and compensated. Before payment, the payment
// is cancelled and the order expires (or, if it was paid meanwhile, refunded); after it, the card's sale is cancelled in the ledger (issued
// first if need be: issuing is idempotent per order, so a step still in flight cannot leave a second
// or a live card behind), the payment refunded and the shopper told. A card used in the meantime
// cannot be taken back: the cancellation is refused and the purchase goes on.

import {
  ActivityFailure, ApplicationFailure, CancellationScope, condition, isCancellation, patched, proxyActivities, setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PaymentInfo, PurchaseActivities } from '../activities/purchase.ts';
import type { PaymentEvent } from '../services/payments/provider.ts';
import { VoucherStatus } from './search-attributes.ts';
import { FINAL_PURCHASE_STATUSES } from '../domain/order-status.ts';
import {
  CANCELLED_BY_SUPPORT, cancelPurchaseUpdate, paymentEventSignal, paymentReadyUpdate, purchaseStateQuery,
  type CancelRequest, type PurchaseInput, type PurchaseState, type PurchaseStatus,
} from './names/purchase.ts';

export {
  CANCELLED_BY_SUPPORT, cancelPurchaseUpdate, paymentEventSignal, paymentReadyUpdate, purchaseStateQuery,
  type CancelRequest, type PurchaseInput, type PurchaseState, type PurchaseStatus,
} from './names/purchase.ts';

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

/**
 * Version: payments confirmed with the provider before issuing, and a cancel's real outcome read.
 * Purchases started before it trusted the webhook and took a refused cancel for "nothing to
 * cancel"; they replay as they ran.
 */
export const CONFIRMED_PAYMENTS_PATCH = 'purchase-confirms-payment';

const TERMINAL = FINAL_PURCHASE_STATUSES;
const CANCELLED = Symbol('cancelled');

function nonRetryableCause(err: unknown): ApplicationFailure | undefined {
  const cause = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
  return cause?.nonRetryable ? cause : undefined;
}

export async function purchaseWorkflow(input: PurchaseInput): Promise<PurchaseState> {
  const state: PurchaseState = {
    orderId: input.orderId, status: 'awaiting_payment', paymentId: null, cardId: null, failureReason: null, eventsSeen: 0,
  };
  let payment: PaymentInfo | undefined;
  let succeeded: PaymentEvent | undefined;
  const failures: PaymentEvent[] = [];
  const seen = new Set<string>();
  // Decided once, at the start: a purchase runs wholly on one version.
  const confirmsPayments = patched(CONFIRMED_PAYMENTS_PATCH);

  setHandler(purchaseStateQuery, () => state);
  setHandler(paymentReadyUpdate, async () => {
    await condition(() => payment !== undefined || TERMINAL.includes(state.status));
    if (!payment) throw ApplicationFailure.nonRetryable(`order is ${state.status}`, 'order_not_payable');
    return payment;
  });
  let cancel: CancelRequest | undefined;
  let cancelRefused: string | undefined;
  let compensated = false;
  setHandler(cancelPurchaseUpdate, async (request) => {
    cancel ??= request;
    await condition(() => compensated || cancelRefused !== undefined || TERMINAL.includes(state.status));
    if (compensated || state.status === 'expired' || state.status === 'refunded') return state;
    if (cancelRefused) throw ApplicationFailure.nonRetryable(cancelRefused, 'card_in_use');
    throw ApplicationFailure.nonRetryable('the voucher went out before the purchase could be cancelled', 'not_cancellable');
  }, {
    validator: (request: CancelRequest) => {
      if (!request.reason.trim()) throw ApplicationFailure.nonRetryable('a cancellation needs a reason', 'validation_error');
      if (TERMINAL.includes(state.status)) throw ApplicationFailure.nonRetryable(`the purchase is already ${state.status}`, 'not_cancellable');
      if (cancelRefused) throw ApplicationFailure.nonRetryable(cancelRefused, 'card_in_use');
    },
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

  /** Runs a step that support may cancel: a cancellation abandons it (its activity is cancelled). */
  async function unlessCancelled<T>(step: () => Promise<T>): Promise<T | typeof CANCELLED> {
    if (cancel) return CANCELLED;
    const scope = new CancellationScope();
    let finished = false;
    void condition(() => finished || cancel !== undefined).then(() => {
      if (!finished) scope.cancel();
    });
    try {
      return await scope.run(step);
    } catch (err) {
      if (cancel && isCancellation(err)) return CANCELLED;
      throw err;
    } finally {
      finished = true;
    }
  }

  const cancelledBySupport = () => `${CANCELLED_BY_SUPPORT} (${cancel!.requestedBy}): ${cancel!.reason}`;

  async function cancelUnpaid(): Promise<PurchaseState> {
    state.failureReason = cancelledBySupport();
    if (!confirmsPayments) {
      await payments.cancelPayment(input.orderId, state.failureReason);
    } else if ((await payments.cancelUnpaidPayment(input.orderId, state.failureReason)).status === 'succeeded') {
      // Paid while support cancelled: the cancellation stands, so the money goes back.
      await payments.refundPayment(input.orderId, state.failureReason);
      setStatus('refunded');
      compensated = true;
      await mail.notifyRefund(input.orderId);
      return state;
    }
    setStatus('expired');
    compensated = true;
    return state;
  }

  /** Money taken that does not match the order: no card, the payment goes back. */
  async function refundUnmatched(reason: string): Promise<PurchaseState> {
    state.failureReason = reason;
    await payments.refundPayment(input.orderId, reason, { wholePayment: true });
    setStatus('refunded');
    await mail.notifyRefund(input.orderId);
    return state;
  }

  /** After payment: undo the sale and refund. False if the card was used meanwhile: go on. */
  async function compensatePaid(): Promise<boolean> {
    try {
      await ledger.cancelSale(input.orderId);
    } catch (err) {
      const cause = nonRetryableCause(err);
      if (cause?.type !== 'card_in_use') throw err;
      cancelRefused = cause.message;
      cancel = undefined;
      return false;
    }
    state.failureReason = cancelledBySupport();
    await payments.refundPayment(input.orderId, state.failureReason);
    setStatus('refunded');
    compensated = true;
    await mail.notifyRefund(input.orderId);
    return true;
  }

  const created = await unlessCancelled(() => payments.createPayment(input.orderId));
  if (created === CANCELLED) return cancelUnpaid();
  payment = created;
  state.paymentId = payment.paymentId;

  // One deadline for the whole wait: failed attempts do not extend it.
  const deadline = Date.now() + input.confirmationTimeoutSeconds * 1000;
  let confirmed = false;
  const paid = () => (confirmsPayments ? confirmed : succeeded !== undefined);
  while (!paid()) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    await condition(() => succeeded !== undefined || failures.length > 0 || cancel !== undefined, remaining);
    if (cancel && !succeeded) return cancelUnpaid();
    const failure = failures.shift();
    if (failure && !succeeded) {
      state.failureReason = failure.reason ?? 'the card payment failed';
      setStatus('payment_failed');
      await payments.recordPaymentFailure(input.orderId, state.failureReason);
    }
    if (confirmsPayments && succeeded) {
      const check = await payments.confirmPayment(input.orderId);
      if (check.outcome === 'mismatch') return refundUnmatched(check.reason!);
      // Not paid at the provider: a forged or mistaken event. Wait for a real one.
      if (check.outcome === 'succeeded') confirmed = true;
      else succeeded = undefined;
    }
  }
  if (!paid()) {
    if (!confirmsPayments) {
      await payments.cancelPayment(input.orderId);
      state.failureReason = 'payment not confirmed in time';
      setStatus('expired');
      return state;
    }
    const { status } = await payments.cancelUnpaidPayment(input.orderId, 'payment not confirmed in time');
    if (status === 'canceled') {
      state.failureReason = 'payment not confirmed in time';
      setStatus('expired');
      return state;
    }
    // The shopper paid while the payment was being cancelled: the payment stands, so does the
    // purchase. Its webhook may be in flight or lost; the provider's word is enough.
    const check = await payments.confirmPayment(input.orderId);
    if (check.outcome === 'mismatch') return refundUnmatched(check.reason!);
    if (check.outcome !== 'succeeded') {
      // The provider contradicts itself: stop for support to look rather than issue or expire.
      throw ApplicationFailure.nonRetryable(`the payment could not be cancelled, yet reads ${check.outcome}`, 'payment_state_unclear');
    }
  }

  state.failureReason = null;
  state.status = 'paid';

  try {
    for (;;) {
      const card = await unlessCancelled(() => ledger.issueCard(input.orderId));
      if (card !== CANCELLED) {
        state.cardId = card.cardId;
        break;
      }
      if (await compensatePaid()) return state;
    }
    setStatus('issued');
  } catch (err) {
    const cause = nonRetryableCause(err);
    if (!cause) throw err;
    // Issuing was refused for good: the shopper gets the money back and an explanation.
    state.failureReason = `voucher could not be issued (${cause.type ?? 'error'}): ${cause.message}`;
    await payments.refundPayment(input.orderId, state.failureReason);
    setStatus('refunded');
    await mail.notifyRefund(input.orderId);
    return state;
  }

  while ((await unlessCancelled(() => mail.deliverVoucher(input.orderId))) === CANCELLED) {
    if (await compensatePaid()) return state;
  }
  setStatus('fulfilled');
  return state;
}
