// The support console: workflows that are stuck (running longer than a threshold, or with an
// activity failing and retrying), read from Temporal with the failing step and its last error;
// retry the failing step now; cancel with compensation: an open redemption is voided (the held
// value goes back to the card and its workflow ends); a purchase is cancelled through its workflow,
// which cancels the payment or, once paid, cancels the card's sale and refunds the shopper.

import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { CANCELLED_BY_SUPPORT, orderIdOfPurchase, type PurchaseState } from '../../workflows/names/purchase.ts';
import { parseRedemptionWorkflowId } from '../../workflows/names/redemption.ts';
import { requestPurchaseCancel, TEMPORAL_DEADLINE_MS } from '../../workflows/clients/purchase.ts';
import { DomainError } from '../../domain/errors.ts';
import { engineTaskQueues } from '../../infra/config.ts';
import { isDependencyUnavailable } from '../unavailable.ts';
import { audit } from '../../services/audit.ts';
import { orderOutcome } from '../../services/orders.ts';
import { holdByPosReference } from '../../stores/holds.ts';
import { nameText, plainText } from '../schemas.ts';
import { backofficeProcedure, requireTemporal, router, type RequestContext } from '../trpc.ts';

const SUPPORT = ['admin', 'support'] as const;
const WORKFLOW_TYPES = ['purchaseWorkflow', 'redemptionWorkflow', 'clearingWorkflow', 'clearingStatementWorkflow', 'latePaymentWorkflow'];
/** Running workflows looked at per call: the console is for what went wrong, not for everything. */
const SCAN_LIMIT = 300;
/**
 * The stuck list reads up to SCAN_LIMIT workflows and describes each: one deadline for all of it,
 * so a Temporal that stopped answering costs the console a 503, not a hung request.
 */
const STUCK_DEADLINE_MS = 20_000;
/** How long a cancel call waits for the compensation before answering that it is under way. */
const COMPENSATION_WAIT_MS = 20_000;
const CANCELLABLE = new Set(['redemptionWorkflow', 'purchaseWorkflow']);

type Compensation = 'hold_voided' | 'payment_cancelled' | 'payment_refunded' | 'in_progress';

function compensationOf(state: Pick<PurchaseState, 'status'>): Compensation {
  return state.status === 'refunded' ? 'payment_refunded' : 'payment_cancelled';
}

interface Cancelled {
  compensation: Compensation;
  cardAvailable: number | null;
  details: Record<string, unknown>;
}

type SupportContext = RequestContext & { principal: { name: string; clientId: string } };

/**
 * Cancels a purchase through its workflow (update id per workflow: asking twice is one
 * cancellation). A purchase already cancelled answers as it ended; one that ended otherwise, or
 * whose card was used meanwhile, is refused.
 */
async function cancelPurchase(ctx: SupportContext, workflowId: string, orderId: string, reason: string): Promise<Cancelled> {
  const client = requireTemporal(ctx);
  const answered = (compensation: Compensation): Cancelled => ({ compensation, cardAvailable: null, details: { orderId } });
  try {
    const update = await requestPurchaseCancel(client, workflowId, { reason, requestedBy: ctx.principal.name });
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([update.result(), new Promise<null>((resolve) => (timer = setTimeout(resolve, COMPENSATION_WAIT_MS, null)))])
      .finally(() => clearTimeout(timer));
    return answered(settled ? compensationOf(settled) : 'in_progress');
  } catch (err) {
    const refusal = err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure ? err.cause : null;
    if (refusal?.type === 'card_in_use') throw new DomainError('card_in_use', refusal.message);
    if (!refusal && !(err instanceof WorkflowNotFoundError)) throw err;
    // Ended already: by this cancellation (asked again) or otherwise.
    const order = await orderOutcome(ctx.deps.db.pool, orderId);
    if (order && (order.status === 'expired' || order.status === 'refunded') && order.failure_reason?.startsWith(CANCELLED_BY_SUPPORT)) {
      return answered(compensationOf(order));
    }
    throw new DomainError('not_cancellable', refusal?.message ?? (order ? `the purchase is ${order.status}` : 'no such purchase'));
  }
}

/**
 * A redemption's compensation is its void: the hold's value goes back to the card, and the
 * workflow, signalled through the outbox, ends. Clearing has no undo: it is rerun instead.
 */
async function cancelRedemption(ctx: SupportContext, workflowId: string): Promise<Cancelled> {
  const ref = parseRedemptionWorkflowId(workflowId);
  const hold = ref ? await holdByPosReference(ctx.deps.db.pool, ref.terminalId, ref.posReference) : undefined;
  if (!hold) throw new DomainError('not_cancellable', 'only purchases and open redemptions can be cancelled here; retry other workflows instead');
  if (hold.status !== 'authorized') throw new DomainError('hold_not_authorized', `the redemption is already ${hold.status}`);
  const result = await ctx.deps.ledger.void({ scope: `support:${ctx.principal.clientId}`, key: `cancel:${hold.id}` }, { holdId: hold.id, storeId: hold.store_id });
  return { compensation: 'hold_voided', cardAvailable: result.card ? Number(result.card.available) : null, details: { holdId: hold.id } };
}

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
      const queues = engineTaskQueues(config).map((q) => `'${q.replace(/'/g, "''")}'`).join(', ');
      const query = `ExecutionStatus = 'Running' AND TaskQueue IN (${queues}) AND WorkflowType IN (${WORKFLOW_TYPES.map((t) => `'${t}'`).join(', ')})`;
      const { running, described: descriptions } = await client.withDeadline(Date.now() + STUCK_DEADLINE_MS, async () => {
        const running = [];
        for await (const wf of client.workflow.list({ query })) {
          running.push(wf);
          if (running.length >= SCAN_LIMIT) break;
        }
        const described = await Promise.all(running.map((wf) => client.workflow.getHandle(wf.workflowId, wf.runId).describe()));
        return { running, described };
      });
      const now = Date.now();
      const described = running.map((wf, i) => {
        const d = descriptions[i]!;
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
          cancellable: CANCELLABLE.has(wf.type),
        };
      });
      const workflows = described.filter((w) => w !== null)
        .sort((a, b) => (b.attempt ?? 0) - (a.attempt ?? 0) || b.runningMinutes - a.runningMinutes);
      return { workflows, scanned: running.length };
    }),

  retryNow: backofficeProcedure(SUPPORT)
    .input(z.object({ workflowId: plainText(300).min(1) }).strict())
    .output(z.object({ workflowId: z.string(), reset: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const client = requireTemporal(ctx);
      const d = await client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => client.workflow.getHandle(input.workflowId).describe())
        .catch((err) => {
          // Temporal not answering is a 503, as anywhere; anything else means no such workflow.
          if (isDependencyUnavailable(err)) throw err;
          return null;
        });
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
    .input(z.object({ workflowId: plainText(300).min(1), reason: nameText(200).default('stuck; cancelled from the support console') }).strict())
    .output(z.object({ workflowId: z.string(), compensation: z.string(), cardAvailable: z.number().int().nullable() }))
    .mutation(async ({ ctx, input }) => {
      const orderId = orderIdOfPurchase(input.workflowId);
      const { compensation, cardAvailable, details } = orderId
        ? await cancelPurchase(ctx, input.workflowId, orderId, input.reason)
        : await cancelRedemption(ctx, input.workflowId);
      await audit(ctx.deps.db.pool, {
        actor: ctx.principal.name, action: 'workflow_cancelled', subject: `workflow:${input.workflowId}`,
        details: { compensation, ...details, reason: input.reason }, requestId: ctx.requestId,
      });
      return { workflowId: input.workflowId, compensation, cardAvailable };
    }),
});
