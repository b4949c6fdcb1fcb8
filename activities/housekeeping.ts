// Housekeeping: forgets what the engine no longer needs, and personal data it may no longer keep
// (daily), and books the release of holds past their expiry (every minute). Each activity works in
// batches and writes its audit entries in the same transaction as the change, so a batch and its
// record commit together.

import type pg from 'pg';
import type { Config } from '../infra/config.ts';
import type { Ledger } from '../services/ledger.ts';

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

/** `deleted` is a CTE of the rows a batch removed or changed: the count goes to the audit log. */
function withAudit(action: string, subject: string): string {
  return `, counted AS (SELECT count(*) AS n FROM batch),
     logged AS (
       INSERT INTO audit_entries (actor, action, subject, details)
       SELECT 'housekeeping', '${action}', '${subject}', jsonb_build_object('count', n) FROM counted WHERE n > 0
     )
     SELECT n::int AS n FROM counted`;
}

export function createHousekeepingActivities(
  deps: { pool: pg.Pool; ledger: Ledger; config: Pick<Config, 'privacy' | 'webhooks'> },
): HousekeepingActivities {
  const count = async (sql: string, values: unknown[]) => (await deps.pool.query<{ n: number }>(sql, values)).rows[0]!.n;
  const { privacy } = deps.config;
  return {
    purgeIdempotencyRecords: (retentionHours, batchSize) => count(
      `WITH batch AS (
         DELETE FROM idempotency_records WHERE ctid IN (
           SELECT ctid FROM idempotency_records WHERE created_at < now() - make_interval(hours => $1) LIMIT $2)
         RETURNING 1)` + withAudit('idempotency_records_purged', 'idempotency_records'),
      [retentionHours, batchSize]),

    // The order stays (its card and ledger entries refer to it); only the address goes.
    anonymiseOldOrders: (batchSize) => count(
      `WITH batch AS (
         UPDATE orders SET email = NULL, email_hash = NULL, pii_erased_at = now()
          WHERE id IN (SELECT id FROM orders WHERE pii_erased_at IS NULL AND created_at < now() - make_interval(days => $1)
                        ORDER BY created_at LIMIT $2)
         RETURNING 1)` + withAudit('order_pii_erased', 'orders'),
      [privacy.orderPiiRetentionDays, batchSize]),

    // Never paid, no card, nothing refunded: nothing else refers to such an order. The wait covers
    // a late payment's webhook (Stripe retries for three days).
    purgeExpiredOrders: (batchSize) => count(
      `WITH batch AS (
         DELETE FROM orders WHERE id IN (
           SELECT id FROM orders WHERE status = 'expired' AND updated_at < now() - make_interval(days => $1)
              AND card_id IS NULL AND paid_at IS NULL AND refund_id IS NULL
            LIMIT $2)
         RETURNING 1)` + withAudit('expired_orders_purged', 'orders'),
      [privacy.expiredOrderRetentionDays, batchSize]),

    purgeExpiredSessions: (batchSize) => count(
      `WITH batch AS (
         DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions WHERE expires_at < now() LIMIT $1)
         RETURNING 1)` + withAudit('sessions_purged', 'sessions'),
      [batchSize]),

    // Whole events go, never a part of one: a redelivery refers to the delivery it repeats, and an
    // event still being delivered (or redelivered lately) stays with all its deliveries. Events
    // not yet fanned out stay too: the relay has still to write their deliveries.
    purgeOldWebhookEvents: (batchSize) => count(
      `WITH old AS (
         SELECT e.id FROM webhook_events e
          WHERE e.created_at < now() - make_interval(days => $1) AND e.fanned_out
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id
                             AND (d.status = 'pending' OR d.finished_at IS NULL OR d.finished_at >= now() - make_interval(days => $1)))
          ORDER BY e.created_at LIMIT $2
          FOR UPDATE SKIP LOCKED),
       gone_deliveries AS (DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM old) RETURNING 1),
       batch AS (DELETE FROM webhook_events WHERE id IN (SELECT id FROM old) RETURNING 1)` + withAudit('webhook_events_purged', 'webhook_events'),
      [deps.config.webhooks.eventRetentionDays, batchSize]),

    releaseExpiredHolds: (batchSize) => deps.ledger.releaseExpiredHolds(batchSize),
  };
}
