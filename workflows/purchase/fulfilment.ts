// After payment: issue the card, then deliver the voucher. Support's cancellation of either step,
// or a card that cannot be issued for good, runs the saga's compensations: the card's sale is
// cancelled in the ledger (unless the card was used meanwhile: then the purchase goes on), the
// payment refunded and the shopper told. `fulfil` ends with the purchase's final status set.

import { ledger, mail, nonRetryableCause, payments } from './activities.ts';
import { CANCELLED, type PurchaseRun } from './run.ts';
import { Saga } from './saga.ts';

export async function fulfil(run: PurchaseRun): Promise<void> {
  const saga = new Saga();
  saga.add((reason) => refundPayment(run, reason));
  if (!(await issueVoucher(run, saga))) return;
  if (!(await deliverVoucher(run, saga))) return;
  run.setStatus('fulfilled');
}

/** True once the card is issued; false once the purchase is compensated. */
async function issueVoucher(run: PurchaseRun, saga: Saga): Promise<boolean> {
  try {
    for (;;) {
      const card = await run.unlessCancelled(() => ledger.issueCard(run.orderId));
      if (card !== CANCELLED) {
        run.state.cardId = card.cardId;
        break;
      }
      // Abandoned in flight, the card may yet be issued: its sale is cancelled as well (issuing is
      // idempotent per order and cancelling issues first if need be, so no live card is left).
      if (await saga.compensate(run.cancelledBySupport(), () => cancelSale(run))) return false;
    }
  } catch (err) {
    const cause = nonRetryableCause(err);
    if (!cause) throw err;
    // Issuing was refused for good: there is no card; the shopper gets the money back and an explanation.
    await saga.compensate(`voucher could not be issued (${cause.type ?? 'error'}): ${cause.message}`);
    return false;
  }
  saga.add(() => cancelSale(run));
  run.setStatus('issued');
  return true;
}

/** True once the voucher went out; false once the purchase is compensated. */
async function deliverVoucher(run: PurchaseRun, saga: Saga): Promise<boolean> {
  while ((await run.unlessCancelled(() => mail.deliverVoucher(run.orderId))) === CANCELLED) {
    if (await saga.compensate(run.cancelledBySupport())) return false;
  }
  return true;
}

/** The card's compensation. A card used in the meantime cannot be taken back: the cancellation is refused. */
async function cancelSale(run: PurchaseRun): Promise<boolean> {
  try {
    await ledger.cancelSale(run.orderId);
    return true;
  } catch (err) {
    const cause = nonRetryableCause(err);
    if (cause?.type !== 'card_in_use') throw err;
    run.cancelRefused = cause.message;
    run.cancel = undefined;
    return false;
  }
}

/** The payment's compensation: the money goes back and the shopper is told why. */
async function refundPayment(run: PurchaseRun, reason: string): Promise<boolean> {
  run.state.failureReason = reason;
  await payments.refundPayment(run.orderId, reason);
  run.setStatus('refunded');
  run.compensated = true;
  await mail.notifyRefund(run.orderId);
  return true;
}
