// Search attributes finance and support filter on in the Temporal UI. Registered with the
// namespace at start-up (infra/temporal.ts); names are prefixed so they never clash.

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const VoucherStatus = defineSearchAttributeKey('VoucherStatus', SearchAttributeType.KEYWORD);
export const VoucherStoreId = defineSearchAttributeKey('VoucherStoreId', SearchAttributeType.KEYWORD);
export const VoucherBillingPartyId = defineSearchAttributeKey('VoucherBillingPartyId', SearchAttributeType.KEYWORD);
export const VoucherTerminalId = defineSearchAttributeKey('VoucherTerminalId', SearchAttributeType.KEYWORD);
export const VoucherAmount = defineSearchAttributeKey('VoucherAmount', SearchAttributeType.INT);
export const VoucherCurrency = defineSearchAttributeKey('VoucherCurrency', SearchAttributeType.KEYWORD);
/** A clearing period, YYYY-MM. */
export const VoucherPeriod = defineSearchAttributeKey('VoucherPeriod', SearchAttributeType.KEYWORD);

/** How far a long-running job (a legacy import) has come, in percent. */
export const VoucherProgress = defineSearchAttributeKey('VoucherProgress', SearchAttributeType.INT);

export const ALL_SEARCH_ATTRIBUTES = [
  VoucherStatus, VoucherStoreId, VoucherBillingPartyId, VoucherTerminalId, VoucherAmount, VoucherCurrency, VoucherPeriod,
  VoucherProgress,
];
