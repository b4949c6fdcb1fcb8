// Settlement of a closed period, `settlement-<yyyy-mm>`: plans one payment per party and writes
// the SEPA files (pain.001 credit transfers, pain.008 direct debits), each validated against its
// ISO 20022 schema. Started when finance closes the period, and on demand; every run finds what
// the earlier ones made, so a rerun adds a file only for payments that were not in one yet.
// Reconciliation with the bank's statements happens when finance uploads them (API).
// Each party's payment shows in the Temporal UI as a child `settlement-<yyyy-mm>-<party id>`
// with period, party, amount, currency and its status as search attributes (a keyword list on
// the run would outgrow the size limit of one attribute value with a centre's 200 parties).

import { executeChild, patched, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { SettlementActivities, SettlementSummary } from '../activities/settlement.ts';
import { VoucherAmount, VoucherBillingPartyId, VoucherCurrency, VoucherPeriod, VoucherStatus } from './search-attributes.ts';

/** Per-party child workflows: added after settlement runs had been recorded. */
export const PARTY_WORKFLOWS_PATCH = 'settlement-party-workflows';
const PARTY_LANES = 20;

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
  if (patched(PARTY_WORKFLOWS_PATCH)) await partyWorkflows(input.period, summary.parties ?? []);
  return summary;
}

async function partyWorkflows(period: string, parties: NonNullable<SettlementSummary['parties']>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < parties.length) {
      const p = parties[next++]!;
      // A rerun starts the party's workflow again (the earlier one has completed): the latest shows the current state.
      await executeChild(settlementPartyWorkflow, {
        workflowId: `settlement-${period}-${p.billingPartyId}`,
        args: [{ period, ...p }],
        typedSearchAttributes: [
          { key: VoucherPeriod, value: period },
          { key: VoucherBillingPartyId, value: p.billingPartyId },
          { key: VoucherStatus, value: p.status },
          { key: VoucherAmount, value: p.amount },
          { key: VoucherCurrency, value: p.currency },
        ],
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARTY_LANES, parties.length) }, lane));
}

/** One party's payment of a settlement run, findable in the Temporal UI by period, party and status. */
export async function settlementPartyWorkflow(input: { period: string; billingPartyId: string; status: string; amount: number; currency: string }):
  Promise<{ period: string; billingPartyId: string; status: string }> {
  return { period: input.period, billingPartyId: input.billingPartyId, status: input.status };
}

/** Tells a party's contact that its bank details changed; retried until the relay takes it. */
export async function bankDetailsNoticeWorkflow(input: { bankDetailsId: string }): Promise<{ sent: boolean }> {
  return emailBankDetailsNotice(input.bankDetailsId);
}
