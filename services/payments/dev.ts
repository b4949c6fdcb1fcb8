// DEVELOPMENT ONLY: a payment provider that needs no Stripe account. Payments are confirmed by
// the shop page's "Pay with test card" button, which sends the same payment event a Stripe
// webhook would. Refused in production (infra/config.ts).
//
// Like Stripe, it keeps each payment's state (dev_payments): the button records the success
// before it signals, and a cancel decides against it in one guarded update, so the purchase can
// re-read a payment and a cancel racing the button ends either paid or cancelled, never both.

import { DomainError } from '../../domain/errors.ts';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { PaymentProvider, ProviderPayment } from './provider.ts';

export class DevPaymentProvider implements PaymentProvider {
  readonly name = 'dev' as const;
  constructor(private readonly prisma: PrismaClient) {}

  async createPayment(p: { orderId: string; amount: number; currency: string }) {
    const paymentId = `devpay_${p.orderId}`;
    await this.prisma.devPayment.upsert({
      where: { paymentId },
      create: { paymentId, orderId: p.orderId, amount: BigInt(p.amount), currency: p.currency, status: 'open' },
      update: {},
    });
    return { paymentId, clientSecret: null };
  }

  async retrievePayment(p: { paymentId: string }): Promise<ProviderPayment> {
    const row = await this.prisma.devPayment.findUnique({ where: { paymentId: p.paymentId } });
    if (!row) throw new DomainError('not_found', `no development payment ${p.paymentId}`);
    return {
      paymentId: row.paymentId, status: row.status as ProviderPayment['status'], amount: Number(row.amount),
      currency: row.currency, orderId: row.orderId,
    };
  }

  /** Confirmed by the page's test-card button, not in the browser. */
  async clientSecretOf(): Promise<null> {
    return null;
  }

  async cancelPayment(p: { paymentId: string }): Promise<'canceled' | 'succeeded'> {
    await this.prisma.devPayment.updateMany({ where: { paymentId: p.paymentId, status: 'open' }, data: { status: 'canceled', updatedAt: new Date() } });
    const row = await this.prisma.devPayment.findUnique({ where: { paymentId: p.paymentId } });
    return row?.status === 'succeeded' ? 'succeeded' : 'canceled';
  }

  /** "Pay with test card": the payment succeeds, unless it was cancelled first. Idempotent. */
  async confirm(p: { orderId: string; paymentId: string; amount: number; currency: string }): Promise<void> {
    await this.prisma.devPayment.upsert({
      where: { paymentId: p.paymentId },
      create: { paymentId: p.paymentId, orderId: p.orderId, amount: BigInt(p.amount), currency: p.currency, status: 'succeeded' },
      update: {},
    });
    await this.prisma.devPayment.updateMany({ where: { paymentId: p.paymentId, status: 'open' }, data: { status: 'succeeded', updatedAt: new Date() } });
    const row = await this.prisma.devPayment.findUniqueOrThrow({ where: { paymentId: p.paymentId } });
    if (row.status !== 'succeeded') throw new DomainError('order_not_payable', 'the payment was cancelled');
  }

  async refundPayment(p: { orderId: string }) {
    return { refundId: `devrefund_${p.orderId}` };
  }
}
