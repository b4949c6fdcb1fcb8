// Activities of the Print@Home purchase workflow. Each is idempotent per order: Temporal may run
// any of them again after a timeout or a worker crash.

import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { cardCodeLast4, hashCardCode } from '../domain/card-code.ts';
import { refusalsFinal } from './failures.ts';
import { asLocale, formatAmount, formatDay, translate, translator } from '../services/i18n/index.ts';
import type { Config } from '../infra/config.ts';
import type { BalanceCache } from '../services/balance-cache.ts';
import type { Ledger } from '../services/ledger.ts';
import type { Mailer } from '../services/mailer.ts';
import {
  findOrder, markOrderPaid, markVoucherSent, moveOrder, orderCardCode, renderOrderVoucher, setOrderCard, setOrderPayment, setOrderRefund,
  shopperEmail, voucherCard, type OrderRecord,
} from '../services/orders.ts';
import type { PaymentProvider } from '../services/payments/index.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import type { PaymentInfo } from '../workflows/names/purchase.ts';
import { UNPAID_ORDER_STATUSES, type OrderStatus } from '../domain/order-status.ts';

export interface PurchaseActivityDeps {
  config: Config;
  prisma: PrismaClient;
  ledger: Ledger;
  cache: BalanceCache;
  payments: PaymentProvider;
  mailer: Mailer;
  secrets: { hashKey: Buffer; deriveKey: Buffer };
  pii: PiiCipher;
}

export type { PaymentInfo };

/** What the provider says of an order's payment, checked against the order. */
export interface PaymentCheck {
  outcome: 'succeeded' | 'open' | 'canceled' | 'mismatch';
  /** Why a succeeded payment does not match the order. */
  reason: string | null;
}

export interface PurchaseActivities {
  createPayment(orderId: string): Promise<PaymentInfo>;
  recordPaymentFailure(orderId: string, reason: string): Promise<void>;
  /** Purchases started before cancelUnpaidPayment: cancels and expires the order, whatever the payment did. */
  cancelPayment(orderId: string, reason?: string): Promise<void>;
  /** Cancels the unpaid payment; the order expires only if the payment really was cancelled. */
  cancelUnpaidPayment(orderId: string, reason: string): Promise<{ status: 'canceled' | 'succeeded' }>;
  /** Re-reads the payment from the provider: a webhook alone is never proof. */
  confirmPayment(orderId: string): Promise<PaymentCheck>;
  issueCard(orderId: string): Promise<{ cardId: string; last4: string }>;
  cancelSale(orderId: string): Promise<{ cardId: string; amount: number }>;
  deliverVoucher(orderId: string): Promise<{ sent: boolean }>;
  resendVoucher(orderId: string, resendId: string): Promise<{ sent: boolean }>;
  /** Refunds the order's amount, or with `wholePayment` whatever was paid (a payment that does not match the order). */
  refundPayment(orderId: string, reason: string, options?: { wholePayment?: boolean }): Promise<{ refundId: string }>;
  notifyRefund(orderId: string): Promise<void>;
}


// Order status changes are transitions, each allowed only from the states that lead to it, decided
// in SQL: an activity that finishes late (cancelled, or retried after the workflow moved on)
// cannot move an order back, e.g. a refunded order to fulfilled.
const UNPAID = UNPAID_ORDER_STATUSES;
const TRANSITIONS_TO: Record<'payment_failed' | 'expired' | 'paid' | 'issued' | 'fulfilled' | 'refunded', readonly OrderStatus[]> = {
  payment_failed: UNPAID,
  expired: UNPAID,
  paid: UNPAID,
  // Purchases started before payments were confirmed issue straight from an unpaid state.
  issued: [...UNPAID, 'paid', 'issued'],
  fulfilled: ['issued'],
  refunded: [...UNPAID, 'paid', 'issued', 'fulfilled', 'expired'],
};

export function createPurchaseActivities(deps: PurchaseActivityDeps): PurchaseActivities {
  const { prisma } = deps;

  /** Moves the order to `to` if it is in a state that leads there; false if it is not. */
  async function transition(orderId: string, to: keyof typeof TRANSITIONS_TO, data: Record<string, unknown> = {}): Promise<boolean> {
    return moveOrder(prisma, orderId, TRANSITIONS_TO[to], to, data);
  }

  async function order(orderId: string): Promise<OrderRecord> {
    const found = await findOrder(prisma, orderId);
    if (!found) throw ApplicationFailure.nonRetryable(`order ${orderId} does not exist`, 'order_not_found');
    return found;
  }

  /** Where the shopper's mail goes; an order whose address was erased gets none. */
  function shopperAddress(o: OrderRecord): string {
    const email = shopperEmail(deps.pii, o);
    if (!email) throw ApplicationFailure.nonRetryable(`the shopper's address of order ${o.id} was erased`, 'shopper_erased');
    return email;
  }

  /** The order's card, keyed by the order: a retry after a crash finds the first card instead of making a second. */
  function issue(o: OrderRecord) {
    const code = orderCardCode(deps.secrets.deriveKey, o.id);
    return deps.ledger.issueCard({ scope: 'order', key: o.id }, {
      codeHash: hashCardCode(code, deps.secrets.hashKey),
      last4: cardCodeLast4(code),
      currency: o.currency,
      amount: o.amount,
      expiresAt: new Date(Date.now() + deps.config.cardValidityDays * 86_400_000),
      channel: 'online',
      storeId: null,
      terminalId: null,
      sourceRef: o.provider,
    });
  }

  /** The voucher e-mail: the PDF with the card's code, as the shopper first got it. */
  async function sendVoucher(o: OrderRecord, messageId: string, context?: Context): Promise<void> {
    if (!o.cardId) throw ApplicationFailure.nonRetryable('order has no card yet', 'order_not_issued');
    const card = await voucherCard(prisma, o.cardId);
    const pdf = await renderOrderVoucher(deps.config, deps.secrets.deriveKey, o, card);
    if (context) {
      context.heartbeat('sending');
      // A cancellation delivered meanwhile: the purchase is being compensated, send nothing.
      if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
    }
    const locale = asLocale(o.locale);
    const t = translator(locale);
    const amount = formatAmount(locale, o.amount, o.currency);
    await deps.mailer.send({
      to: shopperAddress(o),
      subject: t('voucherMail.subject', { scheme: deps.config.shop.schemeName, amount }),
      messageId,
      text: t('voucherMail.text', {
        amount, acceptedAt: deps.config.shop.acceptedAt, last4: card.codeLast4,
        validUntil: formatDay(locale, card.expiresAt, deps.config.clearingTimeZone), orderId: o.id,
      }),
      attachments: [{ filename: `voucher-${card.codeLast4}.pdf`, content: pdf, contentType: 'application/pdf' }],
    });
  }

  return {
    async createPayment(orderId) {
      const o = await order(orderId);
      const payment = await deps.payments.createPayment({
        orderId, amount: Number(o.amount), currency: o.currency, email: shopperAddress(o),
      });
      await setOrderPayment(prisma, orderId, payment.paymentId);
      return { orderId, provider: deps.payments.name, ...payment };
    },

    async recordPaymentFailure(orderId, reason) {
      await transition(orderId, 'payment_failed', { failureReason: reason.slice(0, 500) });
    },

    async cancelPayment(orderId, reason = 'payment not confirmed in time') {
      const o = await order(orderId);
      if (o.paymentId) await deps.payments.cancelPayment({ orderId, paymentId: o.paymentId });
      await transition(orderId, 'expired', { failureReason: reason.slice(0, 500) });
    },

    async cancelUnpaidPayment(orderId, reason) {
      const o = await order(orderId);
      const status = o.paymentId ? await deps.payments.cancelPayment({ orderId, paymentId: o.paymentId }) : 'canceled';
      if (status === 'canceled') await transition(orderId, 'expired', { failureReason: reason.slice(0, 500) });
      return { status };
    },

    async confirmPayment(orderId) {
      const o = await order(orderId);
      if (!o.paymentId) return { outcome: 'open', reason: null };
      const payment = await deps.payments.retrievePayment({ paymentId: o.paymentId });
      if (payment.status !== 'succeeded') return { outcome: payment.status, reason: null };
      const mismatch = payment.orderId !== o.id ? `it belongs to order ${payment.orderId ?? '(none)'}`
        : payment.currency.toUpperCase() !== o.currency || BigInt(payment.amount) !== o.amount
          ? `${payment.amount} ${payment.currency.toUpperCase()} was paid for ${o.amount} ${o.currency}` : null;
      if (mismatch) return { outcome: 'mismatch', reason: `the payment does not match the order: ${mismatch}` };
      await transition(orderId, 'paid', { paidAt: new Date(), failureReason: null });
      return { outcome: 'succeeded', reason: null };
    },

    issueCard: (orderId) => refusalsFinal(async () => {
      const o = await order(orderId);
      const card = await issue(o);
      // The workflow calls this only once the payment succeeded. An attempt that finishes after
      // support cancelled the purchase, or after the voucher went out, leaves the order as it is.
      await transition(orderId, 'issued', { cardId: card.cardId, paidAt: o.paidAt ?? new Date(), failureReason: null });
      return { cardId: card.cardId, last4: card.last4 };
    }),

    cancelSale: (orderId) => refusalsFinal(async () => {
      const o = await order(orderId);
      // Issued first if it was not: the same card an issuing attempt still in flight would get,
      // so nothing it does later can leave a live card behind.
      const { cardId } = o.cardId ? { cardId: o.cardId } : await issue(o);
      const card = await deps.ledger.cancelSale({ scope: 'order-cancel', key: orderId }, cardId);
      await setOrderCard(prisma, orderId, cardId);
      return { cardId, amount: Number(card.amount) };
    }),

    async deliverVoucher(orderId) {
      const o = await order(orderId);
      // Sent already (a retry after the mail went out): do not send it twice.
      if (o.emailSentAt) return { sent: false };
      // Rendering and a slow relay take a while: heartbeats let a cancellation (support cancelled
      // the purchase) reach this attempt, which then stops before the mail goes out.
      const context = Context.current();
      context.heartbeat('rendering');
      // Compensated meanwhile (refunded): the voucher must not go out.
      if (o.status !== 'issued') return { sent: false };
      await sendVoucher(o, `<voucher-${orderId}@voucher-engine>`, context);
      const now = new Date();
      await markVoucherSent(prisma, orderId, now);
      await transition(orderId, 'fulfilled', { fulfilledAt: now });
      return { sent: true };
    },

    async resendVoucher(orderId, resendId) {
      const o = await order(orderId);
      // Each resend has its own Message-ID: a retry of this one is recognisable as the same mail.
      await sendVoucher(o, `<voucher-${orderId}-resend-${resendId}@voucher-engine>`);
      return { sent: true };
    },

    async refundPayment(orderId, reason, options = {}) {
      const o = await order(orderId);
      await markOrderPaid(prisma, orderId);
      if (o.refundId) return { refundId: o.refundId };
      const refund = await deps.payments.refundPayment({ orderId, paymentId: o.paymentId!, amount: options.wholePayment ? null : Number(o.amount) });
      await setOrderRefund(prisma, orderId, refund.refundId);
      await transition(orderId, 'refunded', { failureReason: reason.slice(0, 500) });
      return refund;
    },

    async notifyRefund(orderId) {
      const o = await order(orderId);
      const locale = asLocale(o.locale);
      const amount = formatAmount(locale, o.amount, o.currency);
      await deps.mailer.send({
        to: shopperAddress(o),
        subject: translate(locale, 'refundMail.subject', { amount }),
        messageId: `<refund-${orderId}@voucher-engine>`,
        text: translate(locale, 'refundMail.text', { amount, orderId }),
      });
    },
  };
}
