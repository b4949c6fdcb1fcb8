// A Print@Home order's status: the one list the database enum (prisma/schema.prisma, checked by
// test/unit/order-status.test.ts), the API's schema and the purchase workflow derive from.

export const ORDER_STATUSES = [
  'awaiting_payment', 'payment_failed', 'paid', 'issued', 'fulfilled', 'expired', 'refunded', 'failed',
] as const;

export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * What a purchase workflow reports. `failed` is an order status no workflow sets (orders of the
 * first releases could end in it); a purchase that cannot issue refunds instead.
 */
export type PurchaseStatus = Exclude<OrderStatus, 'failed'>;

/** Statuses in which the order still waits for its payment. */
export const UNPAID_ORDER_STATUSES: readonly OrderStatus[] = ['awaiting_payment', 'payment_failed'];

/** Statuses after which a purchase changes no more. */
export const FINAL_PURCHASE_STATUSES: readonly PurchaseStatus[] = ['fulfilled', 'expired', 'refunded'];
