// Activities of the redemption workflow: the ledger calls that time, not a till, triggers.

import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '../domain/errors.ts';
import type { BalanceCache } from '../services/balance-cache.ts';
import type { Ledger } from '../services/ledger.ts';
import { cacheCard } from '../services/card-view.ts';

export interface ExpireOutcome {
  status: 'captured' | 'voided' | 'expired';
  capturedAmount: number;
}

export interface RedemptionActivities {
  expireHold(holdId: string): Promise<ExpireOutcome>;
}

export function createRedemptionActivities(deps: { ledger: Ledger; cache: BalanceCache }): RedemptionActivities {
  return {
    async expireHold(holdId) {
      try {
        const result = await deps.ledger.expireHold(holdId);
        if (result.card) await cacheCard(deps.cache, result.card);
        return {
          status: result.status === 'authorized' ? 'expired' : result.status,
          capturedAmount: result.capturedAmount ?? 0,
        };
      } catch (err) {
        // Business refusals carry their code as the failure type, so the retry policy can
        // tell "never going to work" from "try again".
        if (err instanceof DomainError) throw ApplicationFailure.create({ type: err.code, message: err.message });
        throw err;
      }
    },
  };
}
