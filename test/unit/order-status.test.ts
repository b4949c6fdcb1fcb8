// The order statuses are listed once (domain/order-status.ts); the database enum must say the same.

import { describe, expect, it } from 'vitest';
import { OrderStatus as PrismaOrderStatus } from '../../generated/prisma/enums.ts';
import { FINAL_PURCHASE_STATUSES, ORDER_STATUSES, UNPAID_ORDER_STATUSES } from '../../domain/order-status.ts';

describe('order status', () => {
  it('is the database enum, in order', () => {
    expect([...ORDER_STATUSES]).toEqual(Object.values(PrismaOrderStatus));
  });

  it('names unpaid and final statuses among them', () => {
    for (const s of [...UNPAID_ORDER_STATUSES, ...FINAL_PURCHASE_STATUSES]) expect(ORDER_STATUSES).toContain(s);
    expect(FINAL_PURCHASE_STATUSES).not.toContain('failed');
  });
});
