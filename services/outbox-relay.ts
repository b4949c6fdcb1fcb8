// Relays workflow starts and signals that ledger transactions queued in workflow_outbox.
//
// Writing them in the ledger's own transaction means a committed hold always gets its workflow,
// even if the API dies a microsecond after commit; relaying them here keeps Temporal off the
// till's critical path. Delivery is at-least-once and every delivery is idempotent: workflow
// ids are derived from terminal + POS reference, and a start or signal that finds the workflow
// already there (running or finished) counts as delivered.

import type pg from 'pg';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  holdSettledSignal, REDEMPTION_WORKFLOW, redemptionSearchAttributes, type HoldSettled, type RedemptionInput, type RedemptionWorkflow,
} from '../workflows/names/redemption.ts';
import { TypedSearchAttributes } from '@temporalio/common';
import { contextFromCarrier, linksFromCarriers, SpanKind, tracingActive, withSpan, type TraceCarrier } from '../infra/tracing.ts';
import { PollingLoop } from './polling-loop.ts';

interface OutboxRow {
  id: string;
  workflow_id: string;
  kind: 'redemption_started' | 'redemption_settled';
  payload: RedemptionInput & { status?: 'captured' | 'voided'; capturedAmount?: number };
  /** The trace of the request that queued it (with tracing on), continued by the delivery. */
  trace_context: TraceCarrier | null;
}

export interface OutboxRelayOptions {
  pool: pg.Pool;
  client: Client;
  taskQueue: string;
  batchSize?: number;
  idleDelayMs?: number;
  /**
   * Holds a redemption's start back this long (ms) after its hold was written, unless its settle
   * is queued too. Most tills capture within milliseconds: the start and the capture then go to
   * Temporal as one signal-with-start, and the workflow completes in its first task (7 history
   * events, no timer) instead of 12 events and two tasks. Nothing waits on the start meanwhile:
   * the ledger expires holds itself. Default 0 (no grace).
   */
  startGraceMs?: number;
  log?: (msg: string) => void;
}

export class OutboxRelay {
  private readonly loop: PollingLoop;
  delivered = 0;

  constructor(private readonly opts: OutboxRelayOptions) {
    this.loop = new PollingLoop({
      name: 'outbox relay', idleDelayMs: opts.idleDelayMs ?? 50, log: opts.log,
      round: async () => {
        const { delivered, failed } = await this.relayBatch();
        return { busy: delivered > 0, failed: failed && delivered === 0 };
      },
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Relays everything queued now; for tests and shutdown. */
  async drain(): Promise<void> {
    while ((await this.relayBatch({ ignoreGrace: true })).delivered > 0);
  }

  /**
   * One batch: lock rows (other relays skip them), deliver, delete what was delivered.
   * ignoreGrace delivers starts still in their grace too (drain: tests and shutdown).
   */
  async relayBatch(opts: { ignoreGrace?: boolean } = {}): Promise<{ delivered: number; failed: boolean }> {
    const graceMs = opts.ignoreGrace ? 0 : (this.opts.startGraceMs ?? 0);
    const db = await this.opts.pool.connect();
    try {
      await db.query('BEGIN');
      const { rows } = await db.query<OutboxRow>(
        `SELECT id::text, workflow_id, kind, payload, trace_context FROM workflow_outbox
          WHERE next_attempt_at <= now()
            AND ($2::int = 0 OR kind <> 'redemption_started' OR created_at <= now() - make_interval(secs => $2::int / 1000.0))
          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, [this.opts.batchSize ?? 256, graceMs]);
      if (graceMs > 0) rows.push(...await this.heldBackStarts(db, rows));
      if (rows.length === 0) {
        await db.query('COMMIT');
        return { delivered: 0, failed: false };
      }
      // In queue order within each workflow, so a start's payload (the workflow's input) comes first.
      rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
      const byWorkflow = new Map<string, OutboxRow[]>();
      for (const row of rows) byWorkflow.set(row.workflow_id, [...(byWorkflow.get(row.workflow_id) ?? []), row]);
      const groups = [...byWorkflow.values()];
      const outcomes = await Promise.allSettled(groups.map((group) => this.deliver(group)));
      const done: string[] = [];
      const failed: { ids: string[]; error: string }[] = [];
      outcomes.forEach((outcome, i) => {
        const ids = groups[i]!.map((row) => row.id);
        if (outcome.status === 'fulfilled') done.push(...ids);
        else failed.push({ ids, error: String((outcome.reason as Error)?.message ?? outcome.reason) });
      });
      if (done.length) await db.query('DELETE FROM workflow_outbox WHERE id = ANY($1::bigint[])', [done]);
      await this.postpone(db, failed);
      for (const f of failed) this.opts.log?.(`outbox relay: ${f.ids.length} row(s) will be retried: ${f.error}`);
      await db.query('COMMIT');
      this.delivered += done.length;
      return { delivered: done.length, failed: failed.length > 0 };
    } catch (err) {
      await db.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      db.release();
    }
  }

  /**
   * The starts still in their grace whose settle is in this batch: delivered with it as one
   * signal-with-start. One another relay has locked is skipped; that relay starts it, and
   * whichever call comes second finds the workflow there (delivered either way).
   */
  private async heldBackStarts(db: pg.PoolClient, batch: OutboxRow[]): Promise<OutboxRow[]> {
    const settled = batch.filter((row) => row.kind === 'redemption_settled').map((row) => row.workflow_id);
    if (settled.length === 0) return [];
    const { rows } = await db.query<OutboxRow>(
      `SELECT id::text, workflow_id, kind, payload, trace_context FROM workflow_outbox
        WHERE kind = 'redemption_started' AND workflow_id = ANY($1::text[]) AND NOT (id = ANY($2::bigint[]))
        FOR UPDATE SKIP LOCKED`, [settled, batch.map((row) => row.id)]);
    return rows;
  }

  /**
   * Backs failed rows off (1 s, 2 s, 4 s … 5 min), so rows that cannot be delivered stop holding
   * up the ones behind them. Under savepoints: a row whose update fails keeps its old schedule
   * instead of rolling back the deletion of what was delivered in the same batch.
   */
  private async postpone(db: pg.PoolClient, failed: { ids: string[]; error: string }[]): Promise<void> {
    if (failed.length === 0) return;
    if (await this.tryPostpone(db, failed)) return;
    // One of them is refused: find it by postponing each workflow's rows on its own.
    for (const f of failed) {
      if (!(await this.tryPostpone(db, [f]))) this.opts.log?.(`outbox relay: could not postpone row(s) ${f.ids.join(', ')}`);
    }
  }

  private async tryPostpone(db: pg.PoolClient, failed: { ids: string[]; error: string }[]): Promise<boolean> {
    const ids = failed.flatMap((f) => f.ids);
    const errors = failed.flatMap((f) => f.ids.map(() => f.error.replaceAll('\0', '').slice(0, 1000)));
    await db.query('SAVEPOINT postpone');
    try {
      // The exponent is capped before power(): 2^attempts overflows an interval after ~44 attempts.
      await db.query(
        `UPDATE workflow_outbox o SET attempts = o.attempts + 1, last_error = f.error,
                next_attempt_at = now() + make_interval(secs => least(power(2, least(o.attempts, 9)), 300))
           FROM unnest($1::bigint[], $2::text[]) AS f(id, error)
          WHERE o.id = f.id`,
        [ids, errors]);
      await db.query('RELEASE SAVEPOINT postpone');
      return true;
    } catch (err) {
      await db.query('ROLLBACK TO SAVEPOINT postpone');
      this.opts.log?.(`outbox relay: postponing failed rows: ${(err as Error).message}`);
      return false;
    }
  }

  /**
   * Delivers within the trace of the request that caused it (the settle, else the start): the
   * Temporal client's span, and so the workflow's, is a child of that request's ledger call. A
   * start and a settle delivered together are one signal-with-start; the other request's trace
   * gets a link.
   */
  private deliver(rows: OutboxRow[]): Promise<void> {
    if (!tracingActive()) return this.deliverNow(rows);
    const cause = rows.find((row) => row.kind === 'redemption_settled') ?? rows[0]!;
    return withSpan(`outbox relay ${cause.kind}`, {
      kind: SpanKind.PRODUCER,
      parent: contextFromCarrier(cause.trace_context),
      links: linksFromCarriers(rows.filter((row) => row !== cause).map((row) => row.trace_context)),
      attributes: { 'voucher.workflow_id': cause.workflow_id, 'voucher.outbox_rows': rows.length },
    }, () => this.deliverNow(rows));
  }

  /** All queued messages of one workflow: a settle supersedes a pending start (signal-with-start). */
  private async deliverNow(rows: OutboxRow[]): Promise<void> {
    const settled = rows.find((row) => row.kind === 'redemption_settled');
    const first = rows[0]!;
    const input: RedemptionInput = {
      holdId: first.payload.holdId,
      terminalId: first.payload.terminalId,
      storeId: first.payload.storeId,
      billingPartyId: first.payload.billingPartyId,
      posReference: first.payload.posReference,
      amount: Number(first.payload.amount),
      currency: first.payload.currency,
      expiresAt: first.payload.expiresAt,
    };
    const options = {
      workflowId: first.workflow_id,
      taskQueue: this.opts.taskQueue,
      args: [input] as [RedemptionInput],
      // A finished redemption is final: never start a second run under its id.
      workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
      typedSearchAttributes: new TypedSearchAttributes(redemptionSearchAttributes(input)),
    };
    const client = this.opts.client;
    try {
      // Bounded, so a Temporal outage fails the batch (rows stay queued) instead of hanging it.
      await client.withDeadline(Date.now() + 10_000, async () => {
        if (settled) {
          await client.workflow.signalWithStart<RedemptionWorkflow, [HoldSettled]>(REDEMPTION_WORKFLOW, {
            ...options,
            signal: holdSettledSignal,
            signalArgs: [{ status: settled.payload.status!, capturedAmount: Number(settled.payload.capturedAmount ?? 0) }],
          });
        } else {
          await client.workflow.start<RedemptionWorkflow>(REDEMPTION_WORKFLOW, options);
        }
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      throw err;
    }
  }
}
