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

import { awaitPayment } from './purchase/payment.ts';
import { fulfil } from './purchase/fulfilment.ts';
import { PurchaseRun } from './purchase/run.ts';
import type { PurchaseInput, PurchaseState } from './names/purchase.ts';

export {
  CANCELLED_BY_SUPPORT, cancelPurchaseUpdate, paymentEventSignal, paymentReadyUpdate, purchaseStateQuery,
  type CancelRequest, type PurchaseInput, type PurchaseState, type PurchaseStatus,
} from './names/purchase.ts';
export { CONFIRMED_PAYMENTS_PATCH } from './purchase/run.ts';

/** The steps: payment wait (purchase/payment.ts), then issuing and delivery as a saga (purchase/fulfilment.ts). */
export async function purchaseWorkflow(input: PurchaseInput): Promise<PurchaseState> {
  const run = new PurchaseRun(input);
  if (await awaitPayment(run)) await fulfil(run);
  return run.state;
}
