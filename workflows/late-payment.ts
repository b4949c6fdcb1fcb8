// A payment that succeeds after its order expired: the shop already told the shopper the order was
// cancelled and nothing was charged, so the money goes back. Started by the Stripe webhook, once
// per order (id `late-payment-<orderId>`).

import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { PurchaseActivities } from '../activities/purchase.ts';
import { VoucherStatus } from './search-attributes.ts';

const { refundPayment, notifyRefund } = proxyActivities<PurchaseActivities>({
  startToCloseTimeout: '45 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

export async function latePaymentWorkflow(input: { orderId: string }): Promise<{ refundId: string }> {
  const refund = await refundPayment(input.orderId, 'payment confirmed after the order had expired');
  await notifyRefund(input.orderId);
  upsertSearchAttributes([{ key: VoucherStatus, value: 'refunded' }]);
  return refund;
}
