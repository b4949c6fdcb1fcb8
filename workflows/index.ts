// Every workflow the worker runs. One file per workflow.
export { redemptionWorkflow } from './redemption.ts';
export { purchaseWorkflow } from './purchase.ts';
export { latePaymentWorkflow } from './late-payment.ts';
export { cardExpiryWorkflow } from './card-expiry.ts';
export { housekeepingWorkflow } from './housekeeping.ts';
export { holdExpirySweepWorkflow } from './hold-expiry-sweep.ts';
export { clearingWorkflow, clearingStatementWorkflow, scheduledClearingWorkflow } from './clearing.ts';
export { voucherResendWorkflow } from './voucher-resend.ts';
export { cardAdjustmentWorkflow } from './card-adjustment.ts';
export { cardBatchWorkflow } from './card-batch.ts';
export { cardExpiryRemindersWorkflow } from './card-expiry-reminders.ts';
export { webhookDeliveryWorkflow } from './webhook-delivery.ts';
export { importWorkflow } from './import.ts';
export { settlementWorkflow, settlementPartyWorkflow, bankDetailsNoticeWorkflow } from './settlement.ts';
