// One purchase's workflow state and its messages: the query, the `paymentReady` and
// `cancelPurchase` updates and the payment-event signal. The steps (payment.ts, fulfilment.ts)
// read and change it; the handlers only record what arrived and answer from the state.

import {
  ApplicationFailure, CancellationScope, condition, isCancellation, patched, setHandler, upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PaymentInfo } from '../../activities/purchase.ts';
import type { PaymentEvent } from '../../services/payments/provider.ts';
import { FINAL_PURCHASE_STATUSES } from '../../domain/order-status.ts';
import { VoucherStatus } from '../search-attributes.ts';
import {
  CANCELLED_BY_SUPPORT, cancelPurchaseUpdate, paymentEventSignal, paymentReadyUpdate, purchaseStateQuery,
  type CancelRequest, type PurchaseInput, type PurchaseState, type PurchaseStatus,
} from '../names/purchase.ts';

/**
 * Version: payments confirmed with the provider before issuing, and a cancel's real outcome read.
 * Purchases started before it trusted the webhook and took a refused cancel for "nothing to
 * cancel"; they replay as they ran.
 */
export const CONFIRMED_PAYMENTS_PATCH = 'purchase-confirms-payment';

const TERMINAL = FINAL_PURCHASE_STATUSES;

/** What a step support cancelled returns instead of its result. */
export const CANCELLED = Symbol('cancelled');

export class PurchaseRun {
  readonly state: PurchaseState;
  /** Decided once, at the start: a purchase runs wholly on one version. */
  readonly confirmsPayments: boolean;
  payment: PaymentInfo | undefined;
  /** The first success the webhooks reported (not yet proof: the payment is confirmed before issuing). */
  succeeded: PaymentEvent | undefined;
  /** Failed attempts not yet recorded, oldest first. */
  readonly failures: PaymentEvent[] = [];
  /** Support's cancellation, while it stands. */
  cancel: CancelRequest | undefined;
  /** Why a cancellation was refused (the card was used meanwhile): later ones are refused at once. */
  cancelRefused: string | undefined;
  /** The cancellation has been carried out: its update answers with the state. */
  compensated = false;
  private readonly seen = new Set<string>();

  constructor(readonly input: PurchaseInput) {
    this.state = {
      orderId: input.orderId, status: 'awaiting_payment', paymentId: null, cardId: null, failureReason: null, eventsSeen: 0,
    };
    this.confirmsPayments = patched(CONFIRMED_PAYMENTS_PATCH);
    setHandler(purchaseStateQuery, () => this.state);
    setHandler(paymentReadyUpdate, () => this.paymentReady());
    setHandler(cancelPurchaseUpdate, (request) => this.cancelRequested(request), {
      validator: (request: CancelRequest) => this.validateCancel(request),
    });
    setHandler(paymentEventSignal, (event) => this.paymentEvent(event));
  }

  get orderId(): string {
    return this.input.orderId;
  }

  setStatus(status: PurchaseStatus): void {
    this.state.status = status;
    upsertSearchAttributes([{ key: VoucherStatus, value: status }]);
  }

  cancelledBySupport(): string {
    return `${CANCELLED_BY_SUPPORT} (${this.cancel!.requestedBy}): ${this.cancel!.reason}`;
  }

  /** Runs a step that support may cancel: a cancellation abandons it (its activity is cancelled). */
  async unlessCancelled<T>(step: () => Promise<T>): Promise<T | typeof CANCELLED> {
    if (this.cancel) return CANCELLED;
    const scope = new CancellationScope();
    let finished = false;
    void condition(() => finished || this.cancel !== undefined).then(() => {
      if (!finished) scope.cancel();
    });
    try {
      return await scope.run(step);
    } catch (err) {
      if (this.cancel && isCancellation(err)) return CANCELLED;
      throw err;
    } finally {
      finished = true;
    }
  }

  private isFinal(): boolean {
    return TERMINAL.includes(this.state.status);
  }

  private async paymentReady(): Promise<PaymentInfo> {
    await condition(() => this.payment !== undefined || this.isFinal());
    if (!this.payment) throw ApplicationFailure.nonRetryable(`order is ${this.state.status}`, 'order_not_payable');
    return this.payment;
  }

  private async cancelRequested(request: CancelRequest): Promise<PurchaseState> {
    this.cancel ??= request;
    await condition(() => this.compensated || this.cancelRefused !== undefined || this.isFinal());
    if (this.compensated || this.state.status === 'expired' || this.state.status === 'refunded') return this.state;
    if (this.cancelRefused) throw ApplicationFailure.nonRetryable(this.cancelRefused, 'card_in_use');
    throw ApplicationFailure.nonRetryable('the voucher went out before the purchase could be cancelled', 'not_cancellable');
  }

  private validateCancel(request: CancelRequest): void {
    if (!request.reason.trim()) throw ApplicationFailure.nonRetryable('a cancellation needs a reason', 'validation_error');
    if (this.isFinal()) throw ApplicationFailure.nonRetryable(`the purchase is already ${this.state.status}`, 'not_cancellable');
    if (this.cancelRefused) throw ApplicationFailure.nonRetryable(this.cancelRefused, 'card_in_use');
  }

  /** Duplicates and events of another payment are ignored; a success is final. */
  private paymentEvent(event: PaymentEvent): void {
    if (this.seen.has(event.eventId)) return;
    this.seen.add(event.eventId);
    this.state.eventsSeen++;
    if (this.payment && event.paymentId !== this.payment.paymentId) return;
    if (event.type === 'succeeded') this.succeeded ??= event;
    else if (!this.succeeded) this.failures.push(event);
  }
}
