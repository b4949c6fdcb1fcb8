// Every workflow the worker runs. One file per workflow.
export { redemptionWorkflow } from './redemption.ts';
export { purchaseWorkflow } from './purchase.ts';
export { latePaymentWorkflow } from './late-payment.ts';
export { cardExpiryWorkflow } from './card-expiry.ts';
export { housekeepingWorkflow } from './housekeeping.ts';
export { clearingWorkflow, clearingStatementWorkflow, scheduledClearingWorkflow } from './clearing.ts';
export { voucherResendWorkflow } from './voucher-resend.ts';
export { settlementWorkflow, bankDetailsNoticeWorkflow } from './settlement.ts';
