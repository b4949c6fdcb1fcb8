// Activities of the redemption workflow: the ledger calls that time, not a till, triggers.

import type { Ledger } from '../services/ledger.ts';
import { refusalsByPolicy } from './failures.ts';

export interface ExpireOutcome {
  status: 'captured' | 'voided' | 'expired';
  capturedAmount: number;
}

export interface RedemptionActivities {
  expireHold(holdId: string): Promise<ExpireOutcome>;
}

export function createRedemptionActivities(deps: { ledger: Ledger }): RedemptionActivities {
  return {
    // Business refusals carry their code as the failure type, so the workflow's retry policy can
    // tell "never going to work" from "try again".
    expireHold: (holdId) => refusalsByPolicy(async () => {
      const result = await deps.ledger.expireHold(holdId);
      return {
        status: result.status === 'authorized' ? 'expired' : result.status,
        capturedAmount: result.capturedAmount ?? 0,
      };
    }),
  };
}
