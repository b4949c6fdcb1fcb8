// All activities the worker registers, built from the process's dependencies.

import { createPurchaseActivities, type PurchaseActivityDeps } from './purchase.ts';
import { createRedemptionActivities } from './redemption.ts';
import { createHousekeepingActivities } from './housekeeping.ts';
import { createCardActivities } from './cards.ts';
import { createCardAdjustmentActivities } from './card-adjustments.ts';
import { createCardBatchActivities } from './card-batches.ts';
import { createReminderActivities } from './expiry-reminders.ts';
import { createClearingActivities, type ClearingActivityDeps } from './clearing.ts';
import { createWebhookActivities } from './webhooks.ts';
import { createImportActivities } from './import.ts';
import { createSettlementActivities } from './settlement.ts';
import type pg from 'pg';

export type ActivityDeps = PurchaseActivityDeps & ClearingActivityDeps & { pool: pg.Pool };

export function createActivities(deps: ActivityDeps) {
  return {
    ...createRedemptionActivities(deps),
    ...createPurchaseActivities(deps),
    ...createHousekeepingActivities(deps),
    ...createCardActivities(deps),
    ...createCardAdjustmentActivities({ ...deps, maxCardBalance: deps.config.maxCardBalance }),
    ...createReminderActivities(deps),
    ...createCardBatchActivities({ ...deps, activationCodeDigits: deps.config.cardLifecycle.batchActivationCodeDigits }),
    ...createClearingActivities(deps),
    ...createWebhookActivities(deps),
    ...createImportActivities(deps),
    ...createSettlementActivities(deps),
  };
}
