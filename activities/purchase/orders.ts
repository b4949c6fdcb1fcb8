// What the purchase activities share: reading an order, moving its status, the shopper's address,
// the order's card and the voucher e-mail.

import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import { cardCodeLast4, hashCardCode } from '../../domain/card-code.ts';
import { formatMoney, type Currency } from '../../domain/money.ts';
import type { PiiCipher } from '../../domain/pii-crypto.ts';
import { findOrder, orderCardCode, renderOrderVoucher, shopperEmail, type OrderRecord } from '../../services/orders.ts';
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
  const { count } = await prisma.order.updateMany({
    where: { id: orderId, status: { in: [...TRANSITIONS_TO[to]] } },
    data: { ...data, status: to, updatedAt: new Date() },
  });
  return count === 1;
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

export function orderAmount(o: OrderRecord): string {
  return formatMoney({ amount: o.amount, currency: o.currency as Currency });
}

/** The voucher e-mail: the PDF with the card's code, as the shopper first got it. */
export async function sendVoucher(deps: PurchaseActivityDeps, o: OrderRecord, messageId: string, context?: Context): Promise<void> {
  if (!o.cardId) throw ApplicationFailure.nonRetryable('order has no card yet', 'order_not_issued');
  const card = await deps.prisma.card.findUniqueOrThrow({ where: { id: o.cardId } });
  const pdf = await renderOrderVoucher(deps.config, deps.secrets.deriveKey, o, card);
  if (context) {
    context.heartbeat('sending');
    // A cancellation delivered meanwhile: the purchase is being compensated, send nothing.
    if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
  }
  const amount = orderAmount(o);
  await deps.mailer.send({
    to: shopperAddress(deps.pii, o),
    subject: `Your ${deps.config.shop.schemeName} (${amount})`,
    messageId,
    text: `Thank you for your purchase.\n\nYour voucher for ${amount} is attached as a PDF. Print it or show it on `
      + `your phone at the till of any store in ${deps.config.shop.acceptedAt}.\nIt ends in ${card.codeLast4} and is valid `
      + `until ${card.expiresAt.toISOString().slice(0, 10)}.\n\nOrder ${o.id}\n`,
    attachments: [{ filename: `voucher-${card.codeLast4}.pdf`, content: pdf, contentType: 'application/pdf' }],
  });
}
