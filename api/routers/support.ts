// The support console: workflows that are stuck (running longer than a threshold, or with an
// activity failing and retrying), read from Temporal with the failing step and its last error;
// retry the failing step now; cancel with compensation where the engine knows how (an open
// redemption is voided, which returns the held value to the card and ends its workflow).

import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { audit } from '../../services/audit.ts';
import { cacheCard } from '../../services/card-view.ts';
import { backofficeProcedure, requireTemporal, router } from '../trpc.ts';
import { TEMPORAL_DEADLINE_MS } from './shop.ts';

const SUPPORT = ['admin', 'support'] as const;
const WORKFLOW_TYPES = ['purchaseWorkflow', 'redemptionWorkflow', 'clearingWorkflow', 'clearingStatementWorkflow', 'latePaymentWorkflow'];
/** Running workflows looked at per call: the console is for what went wrong, not for everything. */
const SCAN_LIMIT = 300;

const stuckSchema = z.object({
  workflowId: z.string(), runId: z.string(), type: z.string(), startedAt: z.string(), runningMinutes: z.number(),
  failingStep: z.string().nullable(), attempt: z.number().int().nullable(), lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(), temporalUrl: z.string().nullable(), cancellable: z.boolean(),
});


function timestampOf(t: { seconds?: unknown; nanos?: number | null } | null | undefined): Date | null {
  if (!t?.seconds) return null;
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
}

export const supportRouter = router({
  stuck: backofficeProcedure(SUPPORT)
    .input(z.object({ thresholdMinutes: z.number().int().min(1).max(10_080).default(10) }).strict())
    .output(z.object({ workflows: z.array(stuckSchema), scanned: z.number().int() }))
    .query(async ({ ctx, input }) => {
      const client = requireTemporal(ctx);
      const { config } = ctx.deps;
      const query = `ExecutionStatus = 'Running' AND TaskQueue = '${config.taskQueue.replace(/'/g, "''")}' AND WorkflowType IN (${WORKFLOW_TYPES.map((t) => `'${t}'`).join(', ')})`;
      const running = [];
      for await (const wf of client.workflow.list({ query })) {
        running.push(wf);
        if (running.length >= SCAN_LIMIT) break;
      }
      const now = Date.now();
      const described = await Promise.all(running.map(async (wf) => {
        const d = await client.workflow.getHandle(wf.workflowId, wf.runId).describe();
        const failing = (d.raw.pendingActivities ?? []).find((a) => (a.attempt ?? 1) > 1) ?? d.raw.pendingActivities?.[0];
        const runningMinutes = (now - wf.startTime.getTime()) / 60_000;
        const retrying = failing !== undefined && (failing.attempt ?? 1) > 1;
        if (!retrying && runningMinutes < input.thresholdMinutes) return null;
        return {
          workflowId: wf.workflowId, runId: wf.runId, type: wf.type, startedAt: wf.startTime.toISOString(),
          runningMinutes: Math.round(runningMinutes * 10) / 10,
          failingStep: failing?.activityType?.name ?? null, attempt: failing?.attempt ?? null,
          lastError: failing?.lastFailure?.message ?? null,
          nextAttemptAt: timestampOf(failing?.nextAttemptScheduleTime)?.toISOString() ?? null,
          temporalUrl: config.temporalUiUrl
            ? `${config.temporalUiUrl}/namespaces/${encodeURIComponent(config.temporalNamespace)}/workflows/${encodeURIComponent(wf.workflowId)}`
            : null,
          cancellable: wf.type === 'redemptionWorkflow',
        };
      }));
      const workflows = described.filter((w) => w !== null)
        .sort((a, b) => (b.attempt ?? 0) - (a.attempt ?? 0) || b.runningMinutes - a.runningMinutes);
      return { workflows, scanned: running.length };
    }),

  retryNow: backofficeProcedure(SUPPORT)
    .input(z.object({ workflowId: z.string().min(1).max(300) }).strict())
    .output(z.object({ workflowId: z.string(), reset: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const client = requireTemporal(ctx);
      const d = await client.workflow.getHandle(input.workflowId).describe().catch(() => null);
      if (!d || d.status.name !== 'RUNNING') throw new DomainError('not_found', 'no running workflow with this id');
      const failing = (d.raw.pendingActivities ?? []).filter((a) => (a.attempt ?? 1) > 1);
      if (failing.length === 0) throw new DomainError('nothing_to_retry', 'no step of this workflow is failing');
      // Resetting a failing activity schedules its next attempt now, with its attempts counted afresh.
      for (const a of failing) {
        await client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => client.workflowService.resetActivity({
          namespace: ctx.deps.config.temporalNamespace, execution: { workflowId: input.workflowId, runId: d.runId },
          id: a.activityId, identity: `support:${ctx.principal.clientId}`, resetHeartbeat: false, keepPaused: false,
        }));
      }
      await audit(ctx.deps.db.pool, {
        actor: ctx.principal.name, action: 'workflow_retried', subject: `workflow:${input.workflowId}`,
        details: { steps: failing.map((a) => a.activityType?.name) }, requestId: ctx.requestId,
      });
      return { workflowId: input.workflowId, reset: true };
    }),

  cancel: backofficeProcedure(SUPPORT)
    .input(z.object({ workflowId: z.string().min(1).max(300) }).strict())
    .output(z.object({ workflowId: z.string(), compensation: z.string(), cardAvailable: z.number().int().nullable() }))
    .mutation(async ({ ctx, input }) => {
      // A redemption's compensation is its void: the hold's value goes back to the card, and the
      // workflow, signalled through the outbox, ends. Other workflows have no safe generic undo
      // here: retry them, or refund from the transaction's page once a voucher exists.
      const { rows } = await ctx.deps.db.pool.query<{ id: string; store_id: string; status: string }>(
        `SELECT id, store_id, status FROM holds WHERE 'redemption-' || terminal_id || '-' || pos_reference = $1`, [input.workflowId]);
      const hold = rows[0];
      if (!hold) throw new DomainError('not_cancellable', 'only open redemptions can be cancelled here; retry other workflows instead');
      if (hold.status !== 'authorized') throw new DomainError('hold_not_authorized', `the redemption is already ${hold.status}`);
      const result = await ctx.deps.ledger.void({ scope: `support:${ctx.principal.clientId}`, key: `cancel:${hold.id}` }, { holdId: hold.id, storeId: hold.store_id });
      if (result.card) await cacheCard(ctx.deps.cache, result.card);
      await audit(ctx.deps.db.pool, {
        actor: ctx.principal.name, action: 'workflow_cancelled', subject: `workflow:${input.workflowId}`,
        details: { compensation: 'hold_voided', holdId: hold.id }, requestId: ctx.requestId,
      });
      return { workflowId: input.workflowId, compensation: 'hold_voided', cardAvailable: result.card ? Number(result.card.available) : null };
    }),
});
