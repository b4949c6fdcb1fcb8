// Activities of the Print@Home purchase workflow. Each is idempotent per order: Temporal may run
// any of them again after a timeout or a worker crash.

import { ApplicationFailure } from '@temporalio/common';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { cardCodeLast4, hashCardCode } from '../domain/card-code.ts';
import { DomainError } from '../domain/errors.ts';
import { formatMoney, type Currency } from '../domain/money.ts';
import type { Config } from '../infra/config.ts';
import type { BalanceCache } from '../services/balance-cache.ts';
import { cacheCard } from '../services/card-view.ts';
import type { Ledger } from '../services/ledger.ts';
import type { Mailer } from '../services/mailer.ts';
import { findOrder, orderCardCode, renderOrderVoucher, shopperEmail, type OrderRecord } from '../services/orders.ts';
import type { PaymentProvider } from '../services/payments/index.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';

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

export interface PaymentInfo {
  orderId: string;
  provider: string;
  paymentId: string;
  clientSecret: string | null;
}

export interface PurchaseActivities {
  createPayment(orderId: string): Promise<PaymentInfo>;
  recordPaymentFailure(orderId: string, reason: string): Promise<void>;
  cancelPayment(orderId: string, reason?: string): Promise<void>;
  issueCard(orderId: string): Promise<{ cardId: string; last4: string }>;
  cancelSale(orderId: string): Promise<{ cardId: string; amount: number }>;
  deliverVoucher(orderId: string): Promise<{ sent: boolean }>;
  resendVoucher(orderId: string, resendId: string): Promise<{ sent: boolean }>;
  refundPayment(orderId: string, reason: string): Promise<{ refundId: string }>;
  notifyRefund(orderId: string): Promise<void>;
}

/** A business refusal never gets better by retrying: fail the activity for good. */
function nonRetryable(err: unknown): never {
  if (err instanceof DomainError) throw ApplicationFailure.nonRetryable(err.message, err.code);
  throw err;
}

export function createPurchaseActivities(deps: PurchaseActivityDeps): PurchaseActivities {
  const { prisma } = deps;

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
  async function sendVoucher(o: OrderRecord, messageId: string): Promise<void> {
    if (!o.cardId) throw ApplicationFailure.nonRetryable('order has no card yet', 'order_not_issued');
    const card = await prisma.card.findUniqueOrThrow({ where: { id: o.cardId } });
    const pdf = await renderOrderVoucher(deps.config, deps.secrets.deriveKey, o, card);
    const amount = formatMoney({ amount: o.amount, currency: o.currency as Currency });
    await deps.mailer.send({
      to: shopperAddress(o),
      subject: `Your ${deps.config.shop.schemeName} (${amount})`,
      messageId,
      text: `Thank you for your purchase.\n\nYour voucher for ${amount} is attached as a PDF. Print it or show it on `
        + `your phone at the till of any store in ${deps.config.shop.acceptedAt}.\nIt ends in ${card.codeLast4} and is valid `
        + `until ${card.expiresAt.toISOString().slice(0, 10)}.\n\nOrder ${o.id}\n`,
      attachments: [{ filename: `voucher-${card.codeLast4}.pdf`, content: pdf, contentType: 'application/pdf' }],
    });
  }

  return {
    async createPayment(orderId) {
      const o = await order(orderId);
      const payment = await deps.payments.createPayment({
        orderId, amount: Number(o.amount), currency: o.currency, email: shopperAddress(o),
      });
      await prisma.order.update({ where: { id: orderId }, data: { paymentId: payment.paymentId, updatedAt: new Date() } });
      return { orderId, provider: deps.payments.name, ...payment };
    },

    async recordPaymentFailure(orderId, reason) {
      await prisma.order.updateMany({
        where: { id: orderId, status: { in: ['awaiting_payment', 'payment_failed'] } },
        data: { status: 'payment_failed', failureReason: reason.slice(0, 500), updatedAt: new Date() },
      });
    },

    async cancelPayment(orderId, reason = 'payment not confirmed in time') {
      const o = await order(orderId);
      if (o.paymentId) await deps.payments.cancelPayment({ orderId, paymentId: o.paymentId });
      await prisma.order.updateMany({
        where: { id: orderId, status: { in: ['awaiting_payment', 'payment_failed'] } },
        data: { status: 'expired', failureReason: reason.slice(0, 500), updatedAt: new Date() },
      });
    },

    async issueCard(orderId) {
      try {
        const o = await order(orderId);
        const card = await issue(o);
        // Paid and issued in one step: the workflow calls this only once the payment succeeded. An
        // attempt that finishes after support cancelled the purchase leaves the order as it is.
        await prisma.order.updateMany({
          where: { id: orderId, status: { notIn: ['refunded', 'expired'] } },
          data: {
            cardId: card.cardId, status: o.status === 'fulfilled' ? 'fulfilled' : 'issued', paidAt: o.paidAt ?? new Date(),
            failureReason: null, updatedAt: new Date(),
          },
        });
        await cacheCard(deps.cache, card);
        return { cardId: card.cardId, last4: card.last4 };
      } catch (err) {
        nonRetryable(err);
      }
    },

    async cancelSale(orderId) {
      try {
        const o = await order(orderId);
        // Issued first if it was not: the same card an issuing attempt still in flight would get,
        // so nothing it does later can leave a live card behind.
        const { cardId } = o.cardId ? { cardId: o.cardId } : await issue(o);
        const card = await deps.ledger.cancelSale({ scope: 'order-cancel', key: orderId }, cardId);
        await prisma.order.update({ where: { id: orderId }, data: { cardId, updatedAt: new Date() } });
        await cacheCard(deps.cache, card);
        return { cardId, amount: Number(card.amount) };
      } catch (err) {
        nonRetryable(err);
      }
    },

    async deliverVoucher(orderId) {
      const o = await order(orderId);
      // Sent already (a retry after the mail went out): do not send it twice.
      if (o.emailSentAt) return { sent: false };
      await sendVoucher(o, `<voucher-${orderId}@voucher-engine>`);
      await prisma.order.update({
        where: { id: orderId },
        data: { emailSentAt: new Date(), fulfilledAt: new Date(), status: 'fulfilled', updatedAt: new Date() },
      });
      return { sent: true };
    },

    async resendVoucher(orderId, resendId) {
      const o = await order(orderId);
      // Each resend has its own Message-ID: a retry of this one is recognisable as the same mail.
      await sendVoucher(o, `<voucher-${orderId}-resend-${resendId}@voucher-engine>`);
      return { sent: true };
    },

    async refundPayment(orderId, reason) {
      const o = await order(orderId);
      await prisma.order.updateMany({ where: { id: orderId, paidAt: null }, data: { paidAt: new Date() } });
      if (o.refundId) return { refundId: o.refundId };
      const refund = await deps.payments.refundPayment({ orderId, paymentId: o.paymentId!, amount: Number(o.amount) });
      await prisma.order.update({
        where: { id: orderId },
        data: { status: 'refunded', refundId: refund.refundId, failureReason: reason.slice(0, 500), updatedAt: new Date() },
      });
      return refund;
    },

    async notifyRefund(orderId) {
      const o = await order(orderId);
      const amount = formatMoney({ amount: o.amount, currency: o.currency as Currency });
      await deps.mailer.send({
        to: shopperAddress(o),
        subject: `Your voucher order could not be completed - ${amount} refunded`,
        messageId: `<refund-${orderId}@voucher-engine>`,
        text: `We are sorry: we could not issue your voucher. Your payment of ${amount} has been refunded to your card; `
          + `depending on your bank it shows within a few days.\n\nOrder ${orderId}\n`,
      });
    },
  };
}
