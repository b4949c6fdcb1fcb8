// Housekeeping: forgets what the engine no longer needs, and personal data it may no longer keep
// (daily), and books the release of holds past their expiry (every minute). Each activity works in
// batches and writes its audit entries in the same transaction as the change, so a batch and its
// record commit together.

import type pg from 'pg';
import type { Config } from '../infra/config.ts';
import type { Ledger } from '../services/ledger.ts';
import * as retention from '../stores/retention.ts';

export interface HousekeepingActivities {
  purgeIdempotencyRecords(retentionHours: number, batchSize: number): Promise<number>;
  /** Erases the e-mail address of orders older than ORDER_PII_RETENTION_DAYS. */
  anonymiseOldOrders(batchSize: number): Promise<number>;
  /** Deletes orders that expired unpaid more than EXPIRED_ORDER_RETENTION_DAYS ago. */
  purgeExpiredOrders(batchSize: number): Promise<number>;
  /** Deletes portal sessions past their expiry. */
  purgeExpiredSessions(batchSize: number): Promise<number>;
  /**
   * Deletes up to `batchSize` webhook events older than WEBHOOK_EVENT_RETENTION_DAYS whose every
   * delivery has ended (succeeded, failed or cancelled) that long ago, with those deliveries.
   * Answers the number of events deleted.
   */
  purgeOldWebhookEvents(batchSize: number): Promise<number>;
  /**
   * Books the release of holds past their expiry on up to `batchSize` cards (the hold-expiry
   * sweep). The ledger already treats them as released; this makes the books say so for cards
   * nobody touches. Each release is audited by the ledger.
   */
  releaseExpiredHolds(batchSize: number): Promise<{ cards: number; holds: number }>;
}

export function createHousekeepingActivities(
  deps: { pool: pg.Pool; ledger: Ledger; config: Pick<Config, 'privacy' | 'webhooks'> },
): HousekeepingActivities {
  const { privacy } = deps.config;
  return {
    purgeIdempotencyRecords: (retentionHours, batchSize) => retention.purgeIdempotencyRecords(deps.pool, retentionHours, batchSize),
    anonymiseOldOrders: (batchSize) => retention.anonymiseOldOrders(deps.pool, privacy.orderPiiRetentionDays, batchSize),
    purgeExpiredOrders: (batchSize) => retention.purgeExpiredOrders(deps.pool, privacy.expiredOrderRetentionDays, batchSize),
    purgeExpiredSessions: (batchSize) => retention.purgeExpiredSessions(deps.pool, batchSize),
    purgeOldWebhookEvents: (batchSize) => retention.purgeOldWebhookEvents(deps.pool, deps.config.webhooks.eventRetentionDays, batchSize),
    releaseExpiredHolds: (batchSize) => deps.ledger.releaseExpiredHolds(batchSize),
  };
}
