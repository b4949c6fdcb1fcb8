// All activities the worker registers, built from the process's dependencies.

import { createPurchaseActivities, type PurchaseActivityDeps } from './purchase.ts';
import { createRedemptionActivities } from './redemption.ts';

export type ActivityDeps = PurchaseActivityDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createRedemptionActivities(deps),
    ...createPurchaseActivities(deps),
  };
}
