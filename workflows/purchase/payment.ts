// The payment wait: create the payment, wait for the provider's confirmation until the deadline,
// and end the purchase where no payment stands (support cancelled it, it expired, or the money
// taken does not match the order). `awaitPayment` answers true once the purchase is paid and goes
// on, false once it has ended (the state then holds its final status).

import { ApplicationFailure, condition } from '@temporalio/workflow';
import { mail, payments } from './activities.ts';
import { CANCELLED, type PurchaseRun } from './run.ts';

const NOT_CONFIRMED_IN_TIME = 'payment not confirmed in time';

export async function awaitPayment(run: PurchaseRun): Promise<boolean> {
  const created = await run.unlessCancelled(() => payments.createPayment(run.orderId));
  if (created === CANCELLED) {
    await cancelUnpaid(run);
    return false;
  }
  run.payment = created;
  run.state.paymentId = created.paymentId;

  const outcome = await waitForConfirmation(run);
  if (outcome === 'timed_out' && !(await expireUnpaid(run))) return false;
  if (outcome === 'ended') return false;
  run.state.failureReason = null;
  run.state.status = 'paid';
  return true;
}

/**
 * Waits for a success the provider confirms (purchases before the patch: for a webhook's success).
 * One deadline for the whole wait: failed attempts do not extend it.
 */
async function waitForConfirmation(run: PurchaseRun): Promise<'paid' | 'ended' | 'timed_out'> {
  const deadline = Date.now() + run.input.confirmationTimeoutSeconds * 1000;
  let confirmed = false;
  const paid = () => (run.confirmsPayments ? confirmed : run.succeeded !== undefined);
  while (!paid()) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return 'timed_out';
    await condition(() => run.succeeded !== undefined || run.failures.length > 0 || run.cancel !== undefined, remaining);
    if (run.cancel && !run.succeeded) return cancelUnpaid(run);
    const failure = run.failures.shift();
    if (failure && !run.succeeded) await recordFailure(run, failure.reason ?? 'the card payment failed');
    if (run.confirmsPayments && run.succeeded) {
      const check = await payments.confirmPayment(run.orderId);
      if (check.outcome === 'mismatch') return refundUnmatched(run, check.reason!);
      // Not paid at the provider: a forged or mistaken event. Wait for a real one.
      if (check.outcome === 'succeeded') confirmed = true;
      else run.succeeded = undefined;
    }
  }
  return 'paid';
}

async function recordFailure(run: PurchaseRun, reason: string): Promise<void> {
  run.state.failureReason = reason;
  run.setStatus('payment_failed');
  await payments.recordPaymentFailure(run.orderId, reason);
}

/** No success in time: the payment is cancelled, and the provider's answer decides. */
async function expireUnpaid(run: PurchaseRun): Promise<boolean> {
  if (!run.confirmsPayments) {
    await payments.cancelPayment(run.orderId);
    return expire(run, NOT_CONFIRMED_IN_TIME);
  }
  const { status } = await payments.cancelUnpaidPayment(run.orderId, NOT_CONFIRMED_IN_TIME);
  if (status === 'canceled') return expire(run, NOT_CONFIRMED_IN_TIME);
  // The shopper paid while the payment was being cancelled: the payment stands, so does the
  // purchase. Its webhook may be in flight or lost; the provider's word is enough.
  const check = await payments.confirmPayment(run.orderId);
  if (check.outcome === 'mismatch') {
    await refundUnmatched(run, check.reason!);
    return false;
  }
  if (check.outcome !== 'succeeded') {
    // The provider contradicts itself: stop for support to look rather than issue or expire.
    throw ApplicationFailure.nonRetryable(`the payment could not be cancelled, yet reads ${check.outcome}`, 'payment_state_unclear');
  }
  return true;
}

function expire(run: PurchaseRun, reason: string): false {
  run.state.failureReason = reason;
  run.setStatus('expired');
  return false;
}

/** Support cancelled before payment: the payment is cancelled and the order expires (refunded if paid meanwhile). */
async function cancelUnpaid(run: PurchaseRun): Promise<'ended'> {
  const reason = run.cancelledBySupport();
  run.state.failureReason = reason;
  if (!run.confirmsPayments) {
    await payments.cancelPayment(run.orderId, reason);
  } else if ((await payments.cancelUnpaidPayment(run.orderId, reason)).status === 'succeeded') {
    // Paid while support cancelled: the cancellation stands, so the money goes back.
    await payments.refundPayment(run.orderId, reason);
    run.setStatus('refunded');
    run.compensated = true;
    await mail.notifyRefund(run.orderId);
    return 'ended';
  }
  run.setStatus('expired');
  run.compensated = true;
  return 'ended';
}

/** Money taken that does not match the order: no card, the payment goes back. */
async function refundUnmatched(run: PurchaseRun, reason: string): Promise<'ended'> {
  run.state.failureReason = reason;
  await payments.refundPayment(run.orderId, reason, { wholePayment: true });
  run.setStatus('refunded');
  await mail.notifyRefund(run.orderId);
  return 'ended';
}
