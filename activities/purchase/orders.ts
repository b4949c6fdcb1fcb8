// What the purchase activities share: reading an order, moving its status, the shopper's address,
// the order's card and the voucher e-mail.

import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import { cardCodeLast4, hashCardCode } from '../../domain/card-code.ts';
import type { PiiCipher } from '../../domain/pii-crypto.ts';
import { asLocale, formatAmount, formatDay, translator } from '../../services/i18n/index.ts';
import { findOrder, moveOrder, orderCardCode, renderOrderVoucher, shopperEmail, voucherCard, type OrderRecord } from '../../services/orders.ts';
import { UNPAID_ORDER_STATUSES, type OrderStatus } from '../../domain/order-status.ts';
import type { PurchaseActivityDeps } from '../purchase.ts';

export type { OrderRecord };

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

/** Moves the order to `to` if it is in a state that leads there; false if it is not. */
export async function transition(
  prisma: PrismaClient, orderId: string, to: keyof typeof TRANSITIONS_TO, data: Record<string, unknown> = {},
): Promise<boolean> {
  return moveOrder(prisma, orderId, TRANSITIONS_TO[to], to, data);
}

export async function requireOrder(prisma: PrismaClient, orderId: string): Promise<OrderRecord> {
  const found = await findOrder(prisma, orderId);
  if (!found) throw ApplicationFailure.nonRetryable(`order ${orderId} does not exist`, 'order_not_found');
  return found;
}

/** Where the shopper's mail goes; an order whose address was erased gets none. */
export function shopperAddress(pii: PiiCipher, o: OrderRecord): string {
  const email = shopperEmail(pii, o);
  if (!email) throw ApplicationFailure.nonRetryable(`the shopper's address of order ${o.id} was erased`, 'shopper_erased');
  return email;
}

/** The order's card, keyed by the order: a retry after a crash finds the first card instead of making a second. */
export function issueOrderCard(deps: PurchaseActivityDeps, o: OrderRecord) {
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

/** The order's amount in the shopper's language (the order's locale). */
export function orderAmount(o: OrderRecord): string {
  return formatAmount(asLocale(o.locale), o.amount, o.currency);
}

/** The voucher e-mail: the PDF with the card's code, as the shopper first got it. */
export async function sendVoucher(deps: PurchaseActivityDeps, o: OrderRecord, messageId: string, context?: Context): Promise<void> {
  if (!o.cardId) throw ApplicationFailure.nonRetryable('order has no card yet', 'order_not_issued');
  const card = await voucherCard(deps.prisma, o.cardId);
  const pdf = await renderOrderVoucher(deps.config, deps.secrets.deriveKey, o, card);
  if (context) {
    context.heartbeat('sending');
    // A cancellation delivered meanwhile: the purchase is being compensated, send nothing.
    if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
  }
  const locale = asLocale(o.locale);
  const t = translator(locale);
  const amount = orderAmount(o);
  await deps.mailer.send({
    to: shopperAddress(deps.pii, o),
    subject: t('voucherMail.subject', { scheme: deps.config.shop.schemeName, amount }),
    messageId,
    text: t('voucherMail.text', {
      amount, acceptedAt: deps.config.shop.acceptedAt, last4: card.codeLast4,
      validUntil: formatDay(locale, card.expiresAt, deps.config.clearingTimeZone), orderId: o.id,
    }),
    attachments: [{ filename: `voucher-${card.codeLast4}.pdf`, content: pdf, contentType: 'application/pdf' }],
  });
}
