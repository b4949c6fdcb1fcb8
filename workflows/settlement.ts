// Settlement of a closed period, `settlement-<yyyy-mm>`: plans one payment per party and writes
// the SEPA files (pain.001 credit transfers, pain.008 direct debits), each validated against its
// ISO 20022 schema. Started when finance closes the period, and on demand; every run finds what
// the earlier ones made, so a rerun adds a file only for payments that were not in one yet.
// Reconciliation with the bank's statements happens when finance uploads them (API).

import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { SettlementActivities, SettlementSummary } from '../activities/settlement.ts';
import { VoucherAmount, VoucherPeriod, VoucherStatus } from './search-attributes.ts';

const { settlePeriod } = proxyActivities<SettlementActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes' },
});

const { emailBankDetailsNotice } = proxyActivities<SettlementActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

export async function settlementWorkflow(input: { period: string }): Promise<SettlementSummary> {
  upsertSearchAttributes([{ key: VoucherPeriod, value: input.period }, { key: VoucherStatus, value: 'settling' }]);
  const summary = await settlePeriod(input.period);
  upsertSearchAttributes([
    { key: VoucherStatus, value: 'files_ready' },
    { key: VoucherAmount, value: summary.newFiles.reduce((n, f) => n + f.controlSum, 0) },
  ]);
  return summary;
}

/** Tells a party's contact that its bank details changed; retried until the relay takes it. */
export async function bankDetailsNoticeWorkflow(input: { bankDetailsId: string }): Promise<{ sent: boolean }> {
  return emailBankDetailsNotice(input.bankDetailsId);
}
