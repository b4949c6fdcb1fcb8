// All activities the worker registers, built from the process's dependencies.

import type { BalanceCache } from '../services/balance-cache.ts';
import type { Ledger } from '../services/ledger.ts';
import { createRedemptionActivities } from './redemption.ts';

export interface ActivityDeps {
  ledger: Ledger;
  cache: BalanceCache;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createRedemptionActivities(deps),
  };
}
