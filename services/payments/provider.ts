// What the purchase workflow needs from a card-payment provider. Stripe is the real one; the
// development provider lets a person complete a purchase on a machine without Stripe keys.
// Every call is idempotent per order, so activity retries never charge or refund twice.

export interface CreatedPayment {
  paymentId: string;
  /** Handed to the browser to confirm the payment (Stripe.js); null when not needed. */
  clientSecret: string | null;
}

/** A payment as the provider holds it: what a webhook claims is checked against this. */
export interface ProviderPayment {
  paymentId: string;
  /** `open`: not paid (yet); it may still succeed or be cancelled. */
  status: 'open' | 'succeeded' | 'canceled';
  amount: number;
  currency: string;
  /** The order the payment was created for (Stripe: metadata.orderId). */
  orderId: string | null;
}

export interface PaymentProvider {
  readonly name: 'stripe' | 'dev';
  createPayment(p: { orderId: string; amount: number; currency: string; email: string }): Promise<CreatedPayment>;
  /** Re-reads the payment from the provider. */
  retrievePayment(p: { paymentId: string }): Promise<ProviderPayment>;
  /**
   * What the browser confirms the payment with (Stripe: the PaymentIntent's client_secret), while
   * it can still be paid; null when there is nothing to confirm in the browser.
   */
  clientSecretOf(p: { paymentId: string }): Promise<string | null>;
  /**
   * Cancels an unpaid payment and answers its final state: `canceled`, or `succeeded` when the
   * shopper paid first (a cancel then changes nothing, and the money is there).
   */
  cancelPayment(p: { orderId: string; paymentId: string }): Promise<'canceled' | 'succeeded'>;
  /** `amount` null: everything that was paid. */
  refundPayment(p: { orderId: string; paymentId: string; amount: number | null }): Promise<{ refundId: string }>;
}

/** A payment outcome, from Stripe's webhook or the development provider, as the workflow sees it. */
export interface PaymentEvent {
  type: 'succeeded' | 'failed';
  /** The provider's event id, for de-duplication. */
  eventId: string;
  paymentId: string;
  reason?: string;
}
