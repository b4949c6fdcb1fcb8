// Print@Home orders: creation (idempotent per client key), the card code that belongs to an
// order, signed download links and the voucher PDF of an order.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { deriveCardCode, formatCardCode } from '../domain/card-code.ts';
import { DomainError } from '../domain/errors.ts';
import { signLink, verifyLink } from '../domain/signed-link.ts';
import type { Currency } from '../domain/money.ts';
import { asLocale, type Locale } from '../domain/locale.ts';
import type { Config } from '../infra/config.ts';
import { renderVoucherPdf } from './voucher-pdf.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import { withAudit } from './audit.ts';
import type pg from 'pg';
import type { OrderStatus, PurchaseStatus } from '../domain/order-status.ts';

export type { OrderStatus };

export interface OrderRecord {
  id: string;
  /** Sealed (see shopperEmail); null once erased. */
  email: string | null;
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
  /** The shopper's language for mails and the PDF: 'en' or 'de'. */
  locale: string;
  createdAt: Date;
}

/** The card code of an order is derived, never stored: the PDF can be rendered again on demand. */
export function orderCardCode(deriveKey: Buffer, orderId: string): string {
  return deriveCardCode(deriveKey, 'order', orderId);
}

/** The shopper's address in clear, for mail and the payment provider; null once erased. */
export function shopperEmail(pii: PiiCipher, order: Pick<OrderRecord, 'email'>): string | null {
  return pii.openNullable(order.email);
}

/**
 * Creates the order with its audit entry in one transaction. The address is stored sealed, with
 * its lookup hash for erasure on request.
 */
export async function createOrder(
  prisma: PrismaClient, pii: PiiCipher,
  p: { idempotencyKey: string | null; email: string; amount: number; currency: Currency; provider: string; locale?: Locale },
): Promise<{ order: OrderRecord; created: boolean }> {
  const data = { email: p.email, amount: BigInt(p.amount), currency: p.currency, provider: p.provider };
  const same = (existing: unknown) => sameRequestOrThrow(pii, existing as OrderRecord, data);
  if (p.idempotencyKey) {
    const existing = await prisma.order.findUnique({ where: { idempotencyKey: p.idempotencyKey } });
    if (existing) return { order: same(existing), created: false };
  }
  try {
    const order = await withAudit(prisma,
      (tx) => tx.order.create({
        // The language is not part of the request's identity: a retry from a switched page is the same order.
        data: { ...data, email: pii.seal(p.email), emailHash: pii.lookupHash(p.email), idempotencyKey: p.idempotencyKey, locale: p.locale ?? 'en' },
      }),
      (created) => ({ actor: 'shop', action: 'order_created', subject: `order:${created.id}`,
        details: { amount: p.amount, currency: p.currency, provider: p.provider, locale: p.locale ?? 'en' } }));
    return { order: order as OrderRecord, created: true };
  } catch (err) {
    // A concurrent retry with the same key won the insert: answer with its order.
    if ((err as { code?: string }).code === 'P2002' && p.idempotencyKey) {
      const existing = await prisma.order.findUniqueOrThrow({ where: { idempotencyKey: p.idempotencyKey } });
      return { order: same(existing), created: false };
    }
    throw err;
  }
}

function sameRequestOrThrow(pii: PiiCipher, order: OrderRecord, data: { email: string; amount: bigint; currency: string }): OrderRecord {
  if (shopperEmail(pii, order) !== data.email || order.amount !== data.amount || order.currency !== data.currency) {
    throw new DomainError('idempotency_key_reused', 'this idempotency key was already used for another order');
  }
  return order;
}

export async function findOrder(prisma: PrismaClient, orderId: string): Promise<OrderRecord | null> {
  return (await prisma.order.findUnique({ where: { id: orderId } })) as OrderRecord | null;
}

/** The order a card was bought with, if it was bought online. */
export async function orderOfCard(prisma: PrismaClient, cardId: string) {
  return prisma.order.findFirst({ where: { cardId } });
}

/** What became of an order: its status and, when it failed, why. */
export async function orderOutcome(pool: pg.Pool, orderId: string): Promise<{ status: PurchaseStatus; failure_reason: string | null } | undefined> {
  const { rows: [order] } = await pool.query<{ status: PurchaseStatus; failure_reason: string | null }>(
    'SELECT status, failure_reason FROM orders WHERE id = $1', [orderId]);
  return order;
}

/** Takes back an order no payment was created for (its purchase could not be started). */
export async function deleteUnstartedOrder(prisma: PrismaClient, orderId: string): Promise<void> {
  await prisma.order.deleteMany({ where: { id: orderId, paymentId: null } });
}

/** Moves the order to `to` if it is in one of the states `from`; false if it is not. */
export async function moveOrder(
  prisma: PrismaClient, orderId: string, from: readonly OrderStatus[], to: OrderStatus, data: Record<string, unknown> = {},
): Promise<boolean> {
  const { count } = await prisma.order.updateMany({
    where: { id: orderId, status: { in: [...from] } },
    data: { ...data, status: to, updatedAt: new Date() },
  });
  return count === 1;
}

export async function setOrderPayment(prisma: PrismaClient, orderId: string, paymentId: string): Promise<void> {
  await prisma.order.update({ where: { id: orderId }, data: { paymentId, updatedAt: new Date() } });
}

export async function setOrderCard(prisma: PrismaClient, orderId: string, cardId: string): Promise<void> {
  await prisma.order.update({ where: { id: orderId }, data: { cardId, updatedAt: new Date() } });
}

export async function markVoucherSent(prisma: PrismaClient, orderId: string, at: Date): Promise<void> {
  await prisma.order.updateMany({ where: { id: orderId }, data: { emailSentAt: at } });
}

/** Records the payment as received now, unless its time is known already. */
export async function markOrderPaid(prisma: PrismaClient, orderId: string): Promise<void> {
  await prisma.order.updateMany({ where: { id: orderId, paidAt: null }, data: { paidAt: new Date() } });
}

export async function setOrderRefund(prisma: PrismaClient, orderId: string, refundId: string): Promise<void> {
  await prisma.order.updateMany({ where: { id: orderId }, data: { refundId } });
}

/** The card an order's voucher shows (read only: cards change through the ledger). */
export async function voucherCard(prisma: PrismaClient, cardId: string) {
  return prisma.card.findUniqueOrThrow({ where: { id: cardId } });
}

/** The last four digits of an order's card, for the shopper's order page. */
export async function voucherCardLast4(prisma: PrismaClient, cardId: string): Promise<string | null> {
  const card = await prisma.card.findUnique({ where: { id: cardId }, select: { codeLast4: true } });
  return card?.codeLast4 ?? null;
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

export function maskEmail(email: string | null): string {
  if (email === null) return '(erased)';
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
    locale: asLocale(order.locale),
    timeZone: config.clearingTimeZone,
  });
}

/**
 * Erases one shopper's address from all their orders and imported vouchers (the right to erasure).
 * Orders, cards and the ledger stay: what was sold and spent must still add up. One statement: the
 * erasure and its audit entry commit together. Returns the orders erased.
 */
export async function eraseShopper(pool: pg.Pool, pii: PiiCipher, email: string, actor: string): Promise<string[]> {
  const { rows } = await pool.query<{ ids: string[] | null }>(
    `WITH erased AS (
       UPDATE orders SET email = NULL, email_hash = NULL, pii_erased_at = now(), updated_at = now()
        WHERE email_hash = ANY($1::text[]) RETURNING id
     ), erased_cards AS (
       UPDATE card_buyer_emails SET email = NULL, email_hash = NULL, pii_erased_at = now()
        WHERE email_hash = ANY($1::text[]) RETURNING card_id
     ), logged AS (
       INSERT INTO audit_entries (actor, action, subject, details)
       SELECT $2, 'shopper_erased', 'orders',
              jsonb_build_object('orders', coalesce((SELECT jsonb_agg(id ORDER BY id) FROM erased), '[]'::jsonb))
              || coalesce((SELECT jsonb_build_object('importedCards', jsonb_agg(card_id ORDER BY card_id)) FROM erased_cards HAVING count(*) > 0), '{}'::jsonb)
        WHERE EXISTS (SELECT 1 FROM erased) OR EXISTS (SELECT 1 FROM erased_cards)
     )
     SELECT array_agg(id::text ORDER BY id) AS ids FROM erased`,
    [pii.lookupHashes(email), actor]);
  return rows[0]?.ids ?? [];
}
