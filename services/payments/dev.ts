// DEVELOPMENT ONLY: a payment provider that needs no Stripe account. Payments are confirmed by
// the shop page's "Pay with test card" button, which sends the same payment event a Stripe
// webhook would. Refused in production (infra/config.ts).

import type { PaymentProvider } from './provider.ts';

export class DevPaymentProvider implements PaymentProvider {
  readonly name = 'dev' as const;

  async createPayment(p: { orderId: string }) {
    return { paymentId: `devpay_${p.orderId}`, clientSecret: null };
  }

  async cancelPayment() {}

  async refundPayment(p: { orderId: string }) {
    return { refundId: `devrefund_${p.orderId}` };
  }
}
