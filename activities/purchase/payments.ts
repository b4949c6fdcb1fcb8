// The purchase's payment activities: create, confirm, cancel and refund the payment at the provider,
// and record what happened on the order.

import type { PurchaseActivities, PurchaseActivityDeps } from '../purchase.ts';
import { markOrderPaid, setOrderPayment, setOrderRefund } from '../../services/orders.ts';
import { requireOrder, shopperAddress, transition } from './orders.ts';

export type PaymentActivities = Pick<PurchaseActivities,
  'createPayment' | 'recordPaymentFailure' | 'cancelPayment' | 'cancelUnpaidPayment' | 'confirmPayment' | 'refundPayment'>;

export function createPaymentActivities(deps: PurchaseActivityDeps): PaymentActivities {
  const { prisma } = deps;
  return {
    async createPayment(orderId) {
      const o = await requireOrder(prisma, orderId);
      const payment = await deps.payments.createPayment({
        orderId, amount: Number(o.amount), currency: o.currency, email: shopperAddress(deps.pii, o),
      });
      await setOrderPayment(prisma, orderId, payment.paymentId);
      return { orderId, provider: deps.payments.name, ...payment };
    },

    async recordPaymentFailure(orderId, reason) {
      await transition(prisma, orderId, 'payment_failed', { failureReason: reason.slice(0, 500) });
    },

    async cancelPayment(orderId, reason = 'payment not confirmed in time') {
      const o = await requireOrder(prisma, orderId);
      if (o.paymentId) await deps.payments.cancelPayment({ orderId, paymentId: o.paymentId });
      await transition(prisma, orderId, 'expired', { failureReason: reason.slice(0, 500) });
    },

    async cancelUnpaidPayment(orderId, reason) {
      const o = await requireOrder(prisma, orderId);
      const status = o.paymentId ? await deps.payments.cancelPayment({ orderId, paymentId: o.paymentId }) : 'canceled';
      if (status === 'canceled') await transition(prisma, orderId, 'expired', { failureReason: reason.slice(0, 500) });
      return { status };
    },

    async confirmPayment(orderId) {
      const o = await requireOrder(prisma, orderId);
      if (!o.paymentId) return { outcome: 'open', reason: null };
      const payment = await deps.payments.retrievePayment({ paymentId: o.paymentId });
      if (payment.status !== 'succeeded') return { outcome: payment.status, reason: null };
      const mismatch = payment.orderId !== o.id ? `it belongs to order ${payment.orderId ?? '(none)'}`
        : payment.currency.toUpperCase() !== o.currency || BigInt(payment.amount) !== o.amount
          ? `${payment.amount} ${payment.currency.toUpperCase()} was paid for ${o.amount} ${o.currency}` : null;
      if (mismatch) return { outcome: 'mismatch', reason: `the payment does not match the order: ${mismatch}` };
      await transition(prisma, orderId, 'paid', { paidAt: new Date(), failureReason: null });
      return { outcome: 'succeeded', reason: null };
    },

    async refundPayment(orderId, reason, options = {}) {
      const o = await requireOrder(prisma, orderId);
      await markOrderPaid(prisma, orderId);
      if (o.refundId) return { refundId: o.refundId };
      const refund = await deps.payments.refundPayment({ orderId, paymentId: o.paymentId!, amount: options.wholePayment ? null : Number(o.amount) });
      await setOrderRefund(prisma, orderId, refund.refundId);
      await transition(prisma, orderId, 'refunded', { failureReason: reason.slice(0, 500) });
      return refund;
    },
  };
}
