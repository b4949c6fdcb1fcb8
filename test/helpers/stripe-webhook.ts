// A Stripe webhook as Stripe sends it: a signed event built with the SDK's test-header helper.

import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';

const stripe = new Stripe('sk_test_123');
export const TEST_WEBHOOK_SECRET = 'whsec_test_secret';

export type PaymentIntentEvent = 'payment_intent.succeeded' | 'payment_intent.payment_failed';

export async function sendStripeWebhook(
  baseUrl: string,
  p: { orderId: string; paymentId: string; type: PaymentIntentEvent; eventId?: string; secret?: string; amount?: number },
): Promise<{ status: number; body: any }> {
  const payload = JSON.stringify({
    id: p.eventId ?? `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type: p.type, api_version: '2024-06-20',
    created: Math.floor(Date.now() / 1000), livemode: false, pending_webhooks: 1, request: null,
    data: { object: { id: p.paymentId, object: 'payment_intent', amount: p.amount ?? 2_500, currency: 'eur', metadata: { orderId: p.orderId },
      last_payment_error: p.type === 'payment_intent.payment_failed' ? { message: 'Your card was declined.' } : null } },
  });
  const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: p.secret ?? TEST_WEBHOOK_SECRET });
  const res = await fetch(`${baseUrl}/v1/webhooks/stripe`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload,
  });
  return { status: res.status, body: await res.json() as any };
}
