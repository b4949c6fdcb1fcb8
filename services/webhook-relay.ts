// Turns recorded webhook events into deliveries and starts each delivery's workflow.
//
// Two steps, each one transaction over rows locked FOR UPDATE SKIP LOCKED (so every worker runs a
// relay and none is special): (1) fan-out: every event not yet fanned out gets a delivery row for
// each enabled endpoint subscribed to its type; (2) start: every delivery without a workflow gets
// `webhook-delivery-<uid>` started, and is marked once Temporal has it. A start that finds the
// workflow already there counts as started, so a relay that dies between the start and the commit
// starts nothing twice. The tills' transactions only insert the event row: all of this happens
// after, off their path.

import pLimit from 'p-limit';
import type pg from 'pg';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { WebhooksConfig } from '../infra/config.ts';
import { WEBHOOK_DELIVERY_WORKFLOW, webhookDeliveryWorkflowId } from '../workflows/names/webhook-delivery.ts';
import { PollingLoop } from './polling-loop.ts';

/** Delivery workflow starts in flight at once per relay. */
const START_CONCURRENCY = 16;
/**
 * Deliveries of one endpoint started but not yet through their first attempt, beyond which the
 * relay starts no more for it. A burst otherwise becomes tens of thousands of workflows queued at
 * once (measured: 10,000 events to two endpoints, 22,000 started in a minute, 4 delivered per
 * second after it); started as fast as they finish instead, the queue stays short. Per endpoint,
 * so one that hangs until its timeout holds up only its own events. Checked per batch, so an
 * endpoint may go one batch past it.
 */
const MAX_AWAITING_FIRST_ATTEMPT = 200;

export interface WebhookRelayOptions {
  pool: pg.Pool;
  client: Client;
  taskQueue: string;
  config: WebhooksConfig;
  batchSize?: number;
  idleDelayMs?: number;
  log?: (msg: string) => void;
}

export class WebhookRelay {
  private readonly loop: PollingLoop;
  started = 0;

  constructor(private readonly opts: WebhookRelayOptions) {
    this.loop = new PollingLoop({
      name: 'webhook relay', idleDelayMs: opts.idleDelayMs ?? 100, log: opts.log,
      round: async () => {
        const fanned = await this.fanOut();
        const { started, failed } = await this.startDeliveries();
        return { busy: fanned > 0 || started > 0, failed: failed && started === 0 };
      },
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Fans out and starts everything pending now; for tests. */
  async drain(): Promise<void> {
    for (;;) {
      const fanned = await this.fanOut();
      const started = await this.startDeliveries();
      if (fanned === 0 && started.started === 0) return;
    }
  }

  /** One batch of events: a delivery per subscribed, enabled endpoint. Returns the events handled. */
  async fanOut(): Promise<number> {
    const { rows } = await this.opts.pool.query<{ n: string }>(
      `WITH batch AS (
         SELECT id, type FROM webhook_events WHERE NOT fanned_out ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
       ), deliveries AS (
         INSERT INTO webhook_deliveries (event_id, endpoint_id)
         SELECT b.id, e.id FROM batch b JOIN webhook_endpoints e
           ON e.enabled AND (b.type = ANY (e.event_types) OR '*' = ANY (e.event_types))
         ON CONFLICT DO NOTHING
       ), marked AS (
         UPDATE webhook_events SET fanned_out = true WHERE id IN (SELECT id FROM batch) RETURNING 1
       )
       SELECT count(*)::text AS n FROM marked`, [this.opts.batchSize ?? 500]);
    return Number(rows[0]?.n ?? 0);
  }

  /** One batch of deliveries without a workflow: start them, mark those Temporal accepted. */
  async startDeliveries(): Promise<{ started: number; failed: boolean }> {
    const db = await this.opts.pool.connect();
    try {
      await db.query('BEGIN');
      const { rows } = await db.query<{ id: string; uid: string }>(
        `WITH in_first_attempt AS (
           SELECT endpoint_id, count(*) AS n FROM webhook_deliveries
            WHERE workflow_started AND attempts = 0 AND status = 'pending' GROUP BY endpoint_id
         )
         SELECT d.id::text, d.uid FROM webhook_deliveries d LEFT JOIN in_first_attempt f USING (endpoint_id)
          WHERE NOT d.workflow_started AND coalesce(f.n, 0) < $2
          ORDER BY d.id LIMIT $1 FOR UPDATE OF d SKIP LOCKED`,
        [this.opts.batchSize ?? 200, MAX_AWAITING_FIRST_ATTEMPT]);
      const { config, client, taskQueue } = this.opts;
      const retry = { attemptTimeoutMs: config.timeoutMs, baseMs: config.retryBaseMs, maxDelayMs: config.maxRetryDelayMs, windowSeconds: config.retryWindowSeconds };
      // A bounded number of starts in flight: a burst of events otherwise sends hundreds of starts to
      // Temporal at once, and under load most of them miss their deadline and are all tried again.
      const limit = pLimit(START_CONCURRENCY);
      const outcomes = await Promise.allSettled(rows.map(({ id, uid }) => limit(async () => {
        try {
          await client.withDeadline(Date.now() + 10_000, () => client.workflow.start(WEBHOOK_DELIVERY_WORKFLOW, {
            workflowId: webhookDeliveryWorkflowId(uid), taskQueue, args: [{ deliveryId: id, retry }],
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          }));
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
        return id;
      })));
      const done = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failure) this.opts.log?.(`webhook relay: ${rows.length - done.length} start(s) will be retried: ${(failure.reason as Error)?.message}`);
      if (done.length) await db.query('UPDATE webhook_deliveries SET workflow_started = true WHERE id = ANY($1::bigint[])', [done]);
      await db.query('COMMIT');
      this.started += done.length;
      return { started: done.length, failed: Boolean(failure) };
    } catch (err) {
      await db.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      db.release();
    }
  }
}
