// What the purchase workflow needs from a card-payment provider. Stripe is the real one; the
// development provider lets a person complete a purchase on a machine without Stripe keys.
// Every call is idempotent per order, so activity retries never charge or refund twice.

export interface CreatedPayment {
  paymentId: string;
  /** Handed to the browser to confirm the payment (Stripe.js); null when not needed. */
  clientSecret: string | null;
}

export interface PaymentProvider {
  readonly name: 'stripe' | 'dev';
  createPayment(p: { orderId: string; amount: number; currency: string; email: string }): Promise<CreatedPayment>;
  cancelPayment(p: { orderId: string; paymentId: string }): Promise<void>;
  refundPayment(p: { orderId: string; paymentId: string; amount: number }): Promise<{ refundId: string }>;
}

/** A payment outcome, from Stripe's webhook or the development provider, as the workflow sees it. */
export interface PaymentEvent {
  type: 'succeeded' | 'failed';
  /** The provider's event id, for de-duplication. */
  eventId: string;
  paymentId: string;
  reason?: string;
}
