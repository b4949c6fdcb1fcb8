// Activities of the settlement of a closed period, and the e-mail that tells a party its bank
// details changed. Settling is one transaction that finds what an earlier run made, so Temporal
// may run it again after a timeout or a crash; the notice has a message id of its own.

import type pg from 'pg';
import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '../domain/errors.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import type { Config } from '../infra/config.ts';
import { BankDetailsStore } from '../services/bank-details.ts';
import { billingPartyContact } from '../services/directory.ts';
import type { Mailer } from '../services/mailer.ts';
import { SettlementStore } from '../services/settlement.ts';

export interface SettlementActivityDeps {
  config: Config;
  pool: pg.Pool;
  mailer: Mailer;
  pii: PiiCipher;
}

export interface SettlementSummary {
  runs: number;
  payments: number;
  newFiles: { id: string; kind: string; payments: number; controlSum: number }[];
  /** Every payment of the period after this run, for the per-party workflows the Temporal UI shows. Absent in runs recorded before. */
  parties?: { billingPartyId: string; status: string; amount: number; currency: string }[];
}

export interface SettlementActivities {
  settlePeriod(period: string): Promise<SettlementSummary>;
  emailBankDetailsNotice(bankDetailsId: string): Promise<{ sent: boolean }>;
}

export function createSettlementActivities(deps: SettlementActivityDeps): SettlementActivities {
  const store = new SettlementStore(deps.pool, deps.pii, deps.config.settlement, deps.config.clearingTimeZone);
  const bankDetails = new BankDetailsStore(deps.pool, deps.pii);
  return {
    async settlePeriod(period) {
      try {
        const result = await store.settle(period, new Date());
        const payments = await store.payments(period);
        return {
          runs: result.runs, payments: result.payments,
          newFiles: result.newFiles.map((f) => ({ id: f.id, kind: f.kind, payments: f.payments, controlSum: Number(f.controlSum) })),
          parties: payments.map((p) => ({ billingPartyId: p.billingPartyId, status: p.status, amount: Number(p.amount), currency: p.currency })),
        };
      } catch (err) {
        // An open period or missing configuration does not get better by retrying.
        if (err instanceof DomainError) throw ApplicationFailure.nonRetryable(err.message, err.code);
        throw err;
      }
    },

    async emailBankDetailsNotice(bankDetailsId) {
      const details = await bankDetails.find(bankDetailsId);
      if (!details) throw ApplicationFailure.nonRetryable(`bank details ${bankDetailsId} do not exist`, 'not_found');
      const party = await billingPartyContact(deps.pool, details.billingPartyId);
      const scheme = deps.config.shop.schemeName;
      await deps.mailer.send({
        to: deps.pii.open(party!.contact_email),
        subject: `${scheme}: your bank details were changed`,
        text: [
          `Hello ${party!.name},`, '',
          `the bank details the centre settles with you were changed and approved by two of its staff:`, '',
          `  Account holder: ${details.accountHolder}`, `  IBAN: ${details.ibanMasked}`, `  BIC: ${details.bic}`,
          ...(details.mandateReference ? [`  Direct-debit mandate: ${details.mandateReference} of ${details.mandateSignedOn}`] : []), '',
          `Payments and collections from now on use this account. If you did not ask for this change, call the centre's finance team at once.`,
        ].join('\n'),
        messageId: `<bank-details-${bankDetailsId}@voucher-engine>`,
      });
      return { sent: true };
    },
  };
}
