// Card payments through Stripe PaymentIntents (official SDK). Idempotency keys derived from the
// order make every call safe to retry. In development and tests the SDK talks to stripe-mock.

import Stripe from 'stripe';
import type { PaymentsConfig } from '../../infra/config.ts';
import type { PaymentEvent, PaymentProvider, ProviderPayment } from './provider.ts';

export function createStripeClient(config: PaymentsConfig): Stripe {
  const base = config.stripeApiBase ? new URL(config.stripeApiBase) : null;
  return new Stripe(config.stripeSecretKey, {
    maxNetworkRetries: 2,
    timeout: 10_000,
    ...(base ? { host: base.hostname, port: Number(base.port), protocol: base.protocol.replace(':', '') as 'http' | 'https' } : {}),
  });
}

export class StripePaymentProvider implements PaymentProvider {
  readonly name = 'stripe' as const;
  constructor(private readonly stripe: Stripe) {}

  async createPayment(p: { orderId: string; amount: number; currency: string; email: string }) {
    const intent = await this.stripe.paymentIntents.create({
      amount: p.amount,
      currency: p.currency.toLowerCase(),
      receipt_email: p.email,
      metadata: { orderId: p.orderId },
      automatic_payment_methods: { enabled: true },
    }, { idempotencyKey: `order-${p.orderId}-create` });
    return { paymentId: intent.id, clientSecret: intent.client_secret };
  }

  async retrievePayment(p: { paymentId: string }): Promise<ProviderPayment> {
    return paymentOf(await this.stripe.paymentIntents.retrieve(p.paymentId));
  }

  async clientSecretOf(p: { paymentId: string }): Promise<string | null> {
    const intent = await this.stripe.paymentIntents.retrieve(p.paymentId);
    return paymentOf(intent).status === 'open' ? intent.client_secret : null;
  }

  async cancelPayment(p: { orderId: string; paymentId: string }): Promise<'canceled' | 'succeeded'> {
    try {
      await this.stripe.paymentIntents.cancel(p.paymentId, {}, { idempotencyKey: `order-${p.orderId}-cancel` });
      return 'canceled';
    } catch (err) {
      if ((err as { code?: string }).code !== 'payment_intent_unexpected_state') throw err;
      // Not cancellable: cancelled already, or it succeeded in the meantime. Only the intent says
      // which; a success here is money taken, never "nothing to cancel".
      const { status } = await this.retrievePayment(p);
      if (status === 'open') throw new Error(`PaymentIntent ${p.paymentId} is still in progress; cancel again later`);
      return status;
    }
  }

  async refundPayment(p: { orderId: string; paymentId: string; amount: number | null }) {
    const refund = await this.stripe.refunds.create(
      { payment_intent: p.paymentId, ...(p.amount === null ? {} : { amount: p.amount }), metadata: { orderId: p.orderId } },
      { idempotencyKey: `order-${p.orderId}-refund` });
    return { refundId: refund.id };
  }
}

/** Stripe's many intent states, as the purchase needs them: paid, cancelled, or neither yet. */
function paymentOf(intent: Stripe.PaymentIntent): ProviderPayment {
  const status = intent.status === 'succeeded' ? 'succeeded' : intent.status === 'canceled' ? 'canceled' : 'open';
  return {
    paymentId: intent.id, status, amount: intent.amount, currency: intent.currency.toUpperCase(),
    orderId: intent.metadata?.orderId ?? null,
  };
}

/**
 * Verifies a webhook's signature and turns the events the engine cares about into
 * (orderId, PaymentEvent); null for events it ignores. Throws on a bad signature.
 */
export function parseStripeWebhook(
  stripe: Stripe, payload: string, signature: string, secret: string,
): { orderId: string; event: PaymentEvent } | null {
  const event = stripe.webhooks.constructEvent(payload, signature, secret);
  if (event.type !== 'payment_intent.succeeded' && event.type !== 'payment_intent.payment_failed') return null;
  const intent = event.data.object as Stripe.PaymentIntent;
  const orderId = intent.metadata?.orderId;
  if (!orderId) return null;
  return {
    orderId,
    event: {
      type: event.type === 'payment_intent.succeeded' ? 'succeeded' : 'failed',
      eventId: event.id,
      paymentId: intent.id,
      reason: intent.last_payment_error?.message,
    },
  };
}
