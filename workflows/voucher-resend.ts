// Support resends a Print@Home voucher e-mail (`voucher-resend-<orderId>-<key>`): the PDF as the
// shopper first got it, retried until the mail relay takes it.

import { proxyActivities } from '@temporalio/workflow';
import type { PurchaseActivities } from '../activities/purchase.ts';

const { resendVoucher } = proxyActivities<PurchaseActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

export async function voucherResendWorkflow(input: { orderId: string; resendId: string }): Promise<{ sent: boolean }> {
  return resendVoucher(input.orderId, input.resendId);
}
