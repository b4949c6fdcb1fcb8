// The purchase's voucher activities: issue the order's card or cancel its sale in the ledger, and
// send the voucher (or the refund notice) to the shopper.

import { Context } from '@temporalio/activity';
import { asLocale, translate } from '../../services/i18n/index.ts';
import { markVoucherSent, setOrderCard } from '../../services/orders.ts';
import { refusalsFinal } from '../failures.ts';
import type { PurchaseActivities, PurchaseActivityDeps } from '../purchase.ts';
import { issueOrderCard, orderAmount, requireOrder, sendVoucher, shopperAddress, transition } from './orders.ts';

export type VoucherActivities = Pick<PurchaseActivities,
  'issueCard' | 'cancelSale' | 'deliverVoucher' | 'resendVoucher' | 'notifyRefund'>;

export function createVoucherActivities(deps: PurchaseActivityDeps): VoucherActivities {
  const { prisma } = deps;
  return {
    issueCard: (orderId) => refusalsFinal(async () => {
      const o = await requireOrder(prisma, orderId);
      const card = await issueOrderCard(deps, o);
      // The workflow calls this only once the payment succeeded. An attempt that finishes after
      // support cancelled the purchase, or after the voucher went out, leaves the order as it is.
      await transition(prisma, orderId, 'issued', { cardId: card.cardId, paidAt: o.paidAt ?? new Date(), failureReason: null });
      return { cardId: card.cardId, last4: card.last4 };
    }),

    cancelSale: (orderId) => refusalsFinal(async () => {
      const o = await requireOrder(prisma, orderId);
      // Issued first if it was not: the same card an issuing attempt still in flight would get,
      // so nothing it does later can leave a live card behind.
      const { cardId } = o.cardId ? { cardId: o.cardId } : await issueOrderCard(deps, o);
      const card = await deps.ledger.cancelSale({ scope: 'order-cancel', key: orderId }, cardId);
      await setOrderCard(prisma, orderId, cardId);
      return { cardId, amount: Number(card.amount) };
    }),

    async deliverVoucher(orderId) {
      const o = await requireOrder(prisma, orderId);
      // Sent already (a retry after the mail went out): do not send it twice.
      if (o.emailSentAt) return { sent: false };
      // Rendering and a slow relay take a while: heartbeats let a cancellation (support cancelled
      // the purchase) reach this attempt, which then stops before the mail goes out.
      const context = Context.current();
      context.heartbeat('rendering');
      // Compensated meanwhile (refunded): the voucher must not go out.
      if (o.status !== 'issued') return { sent: false };
      await sendVoucher(deps, o, `<voucher-${orderId}@voucher-engine>`, context);
      const now = new Date();
      await markVoucherSent(prisma, orderId, now);
      await transition(prisma, orderId, 'fulfilled', { fulfilledAt: now });
      return { sent: true };
    },

    async resendVoucher(orderId, resendId) {
      const o = await requireOrder(prisma, orderId);
      // Each resend has its own Message-ID: a retry of this one is recognisable as the same mail.
      await sendVoucher(deps, o, `<voucher-${orderId}-resend-${resendId}@voucher-engine>`);
      return { sent: true };
    },

    async notifyRefund(orderId) {
      const o = await requireOrder(prisma, orderId);
      const locale = asLocale(o.locale);
      const amount = orderAmount(o);
      await deps.mailer.send({
        to: shopperAddress(deps.pii, o),
        subject: translate(locale, 'refundMail.subject', { amount }),
        messageId: `<refund-${orderId}@voucher-engine>`,
        text: translate(locale, 'refundMail.text', { amount, orderId }),
      });
    },
  };
}
