// Retention: batched deletes (and the erasure of old orders' addresses) for housekeeping, over
// idempotency_records, orders, sessions and webhook events. Each batch writes its audit entry in the same statement,
// so a batch and its record commit together. Returns how many rows each batch removed or changed.

import type pg from 'pg';

/** `batch` is a CTE of the rows a batch removed or changed: the count goes to the audit log. */
function withAudit(action: string, subject: string): string {
  return `, counted AS (SELECT count(*) AS n FROM batch),
     logged AS (
       INSERT INTO audit_entries (actor, action, subject, details)
       SELECT 'housekeeping', '${action}', '${subject}', jsonb_build_object('count', n) FROM counted WHERE n > 0
     )
     SELECT n::int AS n FROM counted`;
}

async function count(pool: pg.Pool, sql: string, values: unknown[]): Promise<number> {
  return (await pool.query<{ n: number }>(sql, values)).rows[0]!.n;
}

export const purgeIdempotencyRecords = (pool: pg.Pool, retentionHours: number, batchSize: number) => count(pool,
  `WITH batch AS (
     DELETE FROM idempotency_records WHERE ctid IN (
       SELECT ctid FROM idempotency_records WHERE created_at < now() - make_interval(hours => $1) LIMIT $2)
     RETURNING 1)` + withAudit('idempotency_records_purged', 'idempotency_records'),
  [retentionHours, batchSize]);

// The order stays (its card and ledger entries refer to it); only the address goes.
export const anonymiseOldOrders = (pool: pg.Pool, retentionDays: number, batchSize: number) => count(pool,
  `WITH batch AS (
     UPDATE orders SET email = NULL, email_hash = NULL, pii_erased_at = now()
      WHERE id IN (SELECT id FROM orders WHERE pii_erased_at IS NULL AND created_at < now() - make_interval(days => $1)
                    ORDER BY created_at LIMIT $2)
     RETURNING 1)` + withAudit('order_pii_erased', 'orders'),
  [retentionDays, batchSize]);

// Never paid, no card, nothing refunded: nothing else refers to such an order. The wait covers
// a late payment's webhook (Stripe retries for three days).
export const purgeExpiredOrders = (pool: pg.Pool, retentionDays: number, batchSize: number) => count(pool,
  `WITH batch AS (
     DELETE FROM orders WHERE id IN (
       SELECT id FROM orders WHERE status = 'expired' AND updated_at < now() - make_interval(days => $1)
          AND card_id IS NULL AND paid_at IS NULL AND refund_id IS NULL
        LIMIT $2)
     RETURNING 1)` + withAudit('expired_orders_purged', 'orders'),
  [retentionDays, batchSize]);

export const purgeExpiredSessions = (pool: pg.Pool, batchSize: number) => count(pool,
  `WITH batch AS (
     DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions WHERE expires_at < now() LIMIT $1)
     RETURNING 1)` + withAudit('sessions_purged', 'sessions'),
  [batchSize]);

// Whole events go, never a part of one: a redelivery refers to the delivery it repeats, and an
// event still being delivered (or redelivered lately) stays with all its deliveries. Events
// not yet fanned out stay too: the relay has still to write their deliveries.
export const purgeOldWebhookEvents = (pool: pg.Pool, retentionDays: number, batchSize: number) => count(pool,
  `WITH old AS (
     SELECT e.id FROM webhook_events e
      WHERE e.created_at < now() - make_interval(days => $1) AND e.fanned_out
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id
                         AND (d.status = 'pending' OR d.finished_at IS NULL OR d.finished_at >= now() - make_interval(days => $1)))
      ORDER BY e.created_at LIMIT $2
      FOR UPDATE SKIP LOCKED),
   gone_deliveries AS (DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM old) RETURNING 1),
   batch AS (DELETE FROM webhook_events WHERE id IN (SELECT id FROM old) RETURNING 1)` + withAudit('webhook_events_purged', 'webhook_events'),
  [retentionDays, batchSize]);
