// Print@Home orders: creation (idempotent per client key), the card code that belongs to an
// order, signed download links and the voucher PDF of an order.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { deriveCardCode, formatCardCode } from '../domain/card-code.ts';
import { DomainError } from '../domain/errors.ts';
import { signLink, verifyLink } from '../domain/signed-link.ts';
import type { Currency } from '../domain/money.ts';
import type { Config } from '../infra/config.ts';
import { renderVoucherPdf } from './voucher-pdf.ts';

export type OrderStatus = 'awaiting_payment' | 'payment_failed' | 'paid' | 'issued' | 'fulfilled' | 'expired' | 'refunded' | 'failed';

export interface OrderRecord {
  id: string;
  email: string;
  amount: bigint;
  currency: string;
  status: OrderStatus;
  provider: string;
  paymentId: string | null;
  cardId: string | null;
  refundId: string | null;
  failureReason: string | null;
  paidAt: Date | null;
  emailSentAt: Date | null;
  fulfilledAt: Date | null;
  createdAt: Date;
}

/** The card code of an order is derived, never stored: the PDF can be rendered again on demand. */
export function orderCardCode(deriveKey: Buffer, orderId: string): string {
  return deriveCardCode(deriveKey, 'order', orderId);
}

export async function createOrder(
  prisma: PrismaClient,
  p: { idempotencyKey: string | null; email: string; amount: number; currency: Currency; provider: string },
): Promise<{ order: OrderRecord; created: boolean }> {
  const data = { email: p.email, amount: BigInt(p.amount), currency: p.currency, provider: p.provider };
  if (p.idempotencyKey) {
    const existing = await prisma.order.findUnique({ where: { idempotencyKey: p.idempotencyKey } });
    if (existing) return { order: sameRequestOrThrow(existing as OrderRecord, data), created: false };
  }
  try {
    const order = await prisma.order.create({ data: { ...data, idempotencyKey: p.idempotencyKey } });
    return { order: order as OrderRecord, created: true };
  } catch (err) {
    // A concurrent retry with the same key won the insert: answer with its order.
    if ((err as { code?: string }).code === 'P2002' && p.idempotencyKey) {
      const existing = await prisma.order.findUniqueOrThrow({ where: { idempotencyKey: p.idempotencyKey } });
      return { order: sameRequestOrThrow(existing as OrderRecord, data), created: false };
    }
    throw err;
  }
}

function sameRequestOrThrow(order: OrderRecord, data: { email: string; amount: bigint; currency: string }): OrderRecord {
  if (order.email !== data.email || order.amount !== data.amount || order.currency !== data.currency) {
    throw new DomainError('idempotency_key_reused', 'this idempotency key was already used for another order');
  }
  return order;
}

export async function findOrder(prisma: PrismaClient, orderId: string): Promise<OrderRecord | null> {
  return (await prisma.order.findUnique({ where: { id: orderId } })) as OrderRecord | null;
}

/**
 * The capability to follow an order and download its voucher: returned only to whoever created
 * the order, never stored. The order id alone (in workflow ids, Stripe metadata, e-mails) opens
 * nothing.
 */
export function orderAccessToken(orderKey: Buffer, orderId: string): string {
  return createHmac('sha256', orderKey).update(`order-access:${orderId}`).digest('base64url');
}

export function hasOrderAccess(orderKey: Buffer, orderId: string, token: string | null): boolean {
  if (!token) return false;
  const expected = Buffer.from(orderAccessToken(orderKey, orderId));
  const given = Buffer.from(token);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}${'*'.repeat(Math.max(local.length - 1, 1))}@${domain}`;
}

// Download links: /v1/orders/<id>/voucher.pdf?expires=<unix s>&sig=<hmac>.
const VOUCHER_DOWNLOAD = 'voucher-download';

export function signedDownloadPath(key: Buffer, orderId: string, ttlSeconds = 3600, now = Date.now()): string {
  return `/v1/orders/${orderId}/voucher.pdf?${signLink(key, VOUCHER_DOWNLOAD, orderId, ttlSeconds, now)}`;
}

export function verifyDownload(key: Buffer, orderId: string, expires: string | undefined, sig: string | undefined): void {
  verifyLink(key, VOUCHER_DOWNLOAD, orderId, expires, sig, 'open your order again for a new one');
}

export async function renderOrderVoucher(
  config: Config, deriveKey: Buffer, order: OrderRecord, card: { expiresAt: Date },
): Promise<Buffer> {
  return renderVoucherPdf({
    schemeName: config.shop.schemeName,
    acceptedAt: config.shop.acceptedAt,
    code: formatCardCode(orderCardCode(deriveKey, order.id)),
    amount: order.amount,
    currency: order.currency as Currency,
    expiresAt: card.expiresAt,
    orderId: order.id,
    issuedAt: order.paidAt ?? order.createdAt,
  });
}
