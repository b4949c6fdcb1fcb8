// Monthly clearing for finance: start or rerun a period's `clearing-<yyyy-mm>` workflow, follow its
// progress, read positions and statements, approve and close. Reports for any period, live for
// the open one. Finance and admins see every party; a billing party's key sees only its own.

import { WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { clearingWorkflowId } from '../../domain/period.ts';
import { signLink } from '../../domain/signed-link.ts';
import { statementLinkSubject, statementPath, STATEMENT_DOWNLOAD } from '../../domain/statement-links.ts';
import { SCHEME_PARTY, type ClearingPeriod, type Counterparty, type Position } from '../../services/clearing.ts';
import { periodReport } from '../../services/reports.ts';
import { audit } from '../../services/audit.ts';
import {
  approveClearingUpdate, NOT_AWAITING_APPROVAL, rerunClearingUpdate, type ClearingProgress,
} from '../../workflows/names/clearing.ts';
import { clearingProgress, startClearingWorkflow, withClearingHandle } from '../../workflows/clients/clearing.ts';
import { TEMPORAL_DEADLINE_MS } from '../../workflows/clients/deadline.ts';
import { maySeeParty, type BackofficePrincipal } from '../backoffice-auth.ts';
import { idempotencyHeaders, periodSchema } from '../schemas.ts';
import { backofficeProcedure, requireIdempotencyKey, requireTemporal, router, type RequestContext } from '../trpc.ts';
import { startSettlement } from '../settlement-shared.ts';

type BackofficeContext = RequestContext & { principal: BackofficePrincipal };

const TAG = ['Clearing'];
const ALL_ROLES = ['admin', 'finance', 'billing_party'] as const;
const FINANCE = ['admin', 'finance'] as const;
const ERRORS = { 400: 'Invalid input', 401: 'Missing or invalid API key', 403: 'Not allowed for this key', 404: 'Not found' };
const ERRORS_WRITE = { ...ERRORS, 409: 'Conflicts with the period\'s state (closed, not awaiting approval)', 422: 'The period has not ended yet' };


const positionSchema = z.object({
  currency: z.string(),
  partyKey: z.string().describe("Billing party id, or 'scheme' for the centre's own line"),
  billingPartyId: z.string().nullable(),
  partyName: z.string(),
  salesCount: z.number().int(), salesAmount: z.number().int(),
  redemptionsCount: z.number().int(), redemptionsAmount: z.number().int(),
  refundsCount: z.number().int(), refundsAmount: z.number().int(),
  breakageCount: z.number().int(), breakageAmount: z.number().int(),
  liabilityChange: z.number().int().describe('Scheme line: growth of outstanding voucher liability in the period'),
  net: z.number().int().describe('Owed to the party (negative: owed by it), minor units; the nets of a currency sum to zero'),
}).meta({ id: 'ClearingPosition' });

const counterpartySchema = z.object({
  currency: z.string(), partyKey: z.string().describe('The party that accepted the redemptions'), partyName: z.string(),
  issuerKey: z.string().describe("The party that sold the vouchers, or 'scheme' for online sales"), issuerName: z.string(),
  redemptionsCount: z.number().int(), redemptionsAmount: z.number().int(), refundsAmount: z.number().int(),
}).meta({ id: 'ClearingCounterparty' });

const progressSchema = z.object({
  step: z.enum(['freezing', 'computing', 'statements', 'awaiting_approval', 'closing', 'closed']),
  runs: z.number().int(), parties: z.number().int(), statementsDone: z.number().int(), approvedBy: z.string().nullable(),
}).meta({ id: 'ClearingProgress' });

const clearingPeriodSchema = z.object({
  period: z.string(),
  startsAt: z.string(), endsAt: z.string(),
  status: z.enum(['running', 'awaiting_approval', 'closed']),
  computeCount: z.number().int(),
  frozenAt: z.string().nullable(), computedAt: z.string().nullable(), closedAt: z.string().nullable(),
  approvedBy: z.string().nullable(),
  workflowId: z.string(),
  temporalUrl: z.string().nullable().describe('The clearing workflow in the Temporal UI'),
}).meta({ id: 'ClearingPeriod' });

const clearingDetailSchema = clearingPeriodSchema.extend({
  progress: progressSchema.nullable().describe('Live progress from the workflow while it runs'),
  positions: z.array(positionSchema),
  counterparties: z.array(counterpartySchema),
  statements: z.array(z.object({
    billingPartyId: z.string(), pdfSha256: z.string(), emailedAt: z.string().nullable(),
    emailError: z.string().nullable().describe('Why the mail relay refused it for good; send it another way'),
    pdfUrl: z.string(), csvUrl: z.string(),
  })),
}).meta({ id: 'ClearingPeriodDetail' });

const periodInput = z.object({ period: periodSchema }).strict();


function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

function periodView(ctx: RequestContext, p: ClearingPeriod): z.infer<typeof clearingPeriodSchema> {
  // Who approved is internal to the centre's finance team.
  const internal = (ctx as Partial<BackofficeContext>).principal?.role !== 'billing_party';
  const workflowId = clearingWorkflowId(p.period);
  const ui = ctx.deps.config.temporalUiUrl;
  return {
    period: p.period, startsAt: p.startsAt.toISOString(), endsAt: p.endsAt.toISOString(), status: p.status,
    computeCount: p.computeCount, frozenAt: iso(p.frozenAt), computedAt: iso(p.computedAt), closedAt: iso(p.closedAt),
    approvedBy: internal ? p.approvedBy : null, workflowId,
    temporalUrl: ui ? `${ui}/namespaces/${encodeURIComponent(ctx.deps.config.temporalNamespace)}/workflows/${workflowId}` : null,
  };
}

export function positionView(p: Position): z.infer<typeof positionSchema> {
  return {
    currency: p.currency, partyKey: p.partyKey, billingPartyId: p.billingPartyId, partyName: p.partyName,
    salesCount: Number(p.salesCount), salesAmount: Number(p.salesAmount),
    redemptionsCount: Number(p.redemptionsCount), redemptionsAmount: Number(p.redemptionsAmount),
    refundsCount: Number(p.refundsCount), refundsAmount: Number(p.refundsAmount),
    breakageCount: Number(p.breakageCount), breakageAmount: Number(p.breakageAmount),
    liabilityChange: Number(p.liabilityChange), net: Number(p.net),
  };
}

function counterpartyView(c: Counterparty): z.infer<typeof counterpartySchema> {
  return {
    currency: c.currency, partyKey: c.partyKey, partyName: c.partyName, issuerKey: c.issuerKey, issuerName: c.issuerName,
    redemptionsCount: Number(c.redemptionsCount), redemptionsAmount: Number(c.redemptionsAmount),
    refundsAmount: Number(c.refundsAmount),
  };
}

/** A link that works without an API key for a while: what the portal and e-mails hand out. */
export function signedStatementUrl(ctx: RequestContext, period: string, billingPartyId: string, format: 'pdf' | 'csv'): string {
  const query = signLink(ctx.deps.secrets.downloadKey, STATEMENT_DOWNLOAD, statementLinkSubject(period, billingPartyId, format), 3600);
  return `${ctx.deps.config.publicUrl}${statementPath(period, billingPartyId, format)}?${query}`;
}

async function liveProgress(ctx: RequestContext, period: string): Promise<ClearingProgress | null> {
  return clearingProgress(requireTemporal(ctx), period);
}

async function detail(ctx: BackofficeContext, period: string): Promise<z.infer<typeof clearingDetailSchema>> {
  const found = await ctx.deps.clearing.get(period);
  const own = ctx.principal.role === 'billing_party' ? ctx.principal.billingPartyId! : undefined;
  const [positions, counterparties, statements, progress] = await Promise.all([
    ctx.deps.clearing.positions(period, own),
    ctx.deps.clearing.counterparties(period, own),
    ctx.deps.clearing.statementSummaries(period),
    found.status === 'closed' ? null : liveProgress(ctx, period),
  ]);
  return {
    ...periodView(ctx, found),
    progress: progress && { step: progress.step, runs: progress.runs, parties: progress.parties,
      statementsDone: progress.statementsDone, approvedBy: progress.approvedBy },
    positions: positions.map(positionView),
    counterparties: counterparties.map(counterpartyView),
    statements: statements.filter((s) => maySeeParty(ctx.principal, s.billingPartyId)).map((s) => ({
      billingPartyId: s.billingPartyId, pdfSha256: s.pdfSha256, emailedAt: iso(s.emailedAt), emailError: s.emailError,
      pdfUrl: signedStatementUrl(ctx, period, s.billingPartyId, 'pdf'),
      csvUrl: signedStatementUrl(ctx, period, s.billingPartyId, 'csv'),
    })),
  };
}

async function startClearing(ctx: RequestContext, period: string): Promise<void> {
  await startClearingWorkflow(requireTemporal(ctx), ctx.deps.config.taskQueue, period);
}

/** Why an update was refused, in the API's terms, judged by the period's recorded state. */
async function updateRefusal(ctx: RequestContext, period: string, err: unknown): Promise<never> {
  const refusedByWorkflow = err instanceof WorkflowUpdateFailedError &&
    err.cause instanceof ApplicationFailure && err.cause.type === NOT_AWAITING_APPROVAL;
  if (!refusedByWorkflow && !(err instanceof WorkflowNotFoundError)) throw err;
  const found = await ctx.deps.clearing.find(period);
  if (!found) throw new DomainError('period_not_found', `${period} has not been cleared; start its clearing first`);
  if (found.status === 'closed') throw new DomainError('period_closed', `${period} is closed`);
  throw new DomainError('clearing_not_awaiting_approval',
    refusedByWorkflow ? (err as WorkflowUpdateFailedError).cause!.message : `no clearing of ${period} is running; start it`);
}

/** Sends an update to the period's workflow; a refusal becomes the API's answer for the period's state. */
async function updateClearing(
  ctx: RequestContext, period: string, deadlineMs: number, send: (handle: WorkflowHandle) => Promise<unknown>,
): Promise<void> {
  const client = requireTemporal(ctx);
  try {
    await withClearingHandle(client, period, deadlineMs, send);
  } catch (err) {
    await updateRefusal(ctx, period, err);
  }
}

export const clearingRouter = router({
  list: backofficeProcedure(ALL_ROLES)
    .meta({ openapi: { method: 'GET', path: '/v1/clearing/periods', tags: TAG, protect: true,
      summary: 'Clearing periods, newest first', errorResponses: ERRORS } })
    .input(z.object({}).strict().optional())
    .output(z.object({ periods: z.array(clearingPeriodSchema) }))
    .query(async ({ ctx }) => ({ periods: (await ctx.deps.clearing.list()).map((p) => periodView(ctx, p)) })),

  get: backofficeProcedure(ALL_ROLES)
    .meta({ openapi: { method: 'GET', path: '/v1/clearing/periods/{period}', tags: TAG, protect: true,
      summary: 'A period: status, live progress, positions, counterparties and statements', errorResponses: ERRORS } })
    .input(periodInput)
    .output(clearingDetailSchema)
    .query(({ ctx, input }) => detail(ctx, input.period)),

  start: backofficeProcedure(FINANCE)
    .meta({ openapi: { method: 'POST', path: '/v1/clearing/periods/{period}/start', tags: TAG, protect: true,
      summary: 'Start clearing a period that has ended',
      description: 'Idempotent: starting a period that is being cleared returns it as it is. The monthly schedule does this on the 1st at 02:00 (Europe/Berlin).',
      errorResponses: ERRORS_WRITE } })
    .input(periodInput)
    .output(clearingPeriodSchema)
    .mutation(async ({ ctx, input }) => {
      const opened = await ctx.deps.clearing.open(input.period);
      if (opened.status === 'closed') throw new DomainError('period_closed', `${input.period} is closed`);
      await startClearing(ctx, input.period);
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'clearing_started', subject: `clearing:${input.period}`, requestId: ctx.requestId });
      return periodView(ctx, await ctx.deps.clearing.get(input.period));
    }),

  rerun: backofficeProcedure(FINANCE)
    .meta({ openapi: { method: 'POST', path: '/v1/clearing/periods/{period}/rerun', tags: TAG, protect: true,
      summary: 'Compute positions and statements again before approving', requestHeaders: idempotencyHeaders,
      description: 'Only while the period awaits approval; the numbers come out the same, since the period is frozen.',
      errorResponses: ERRORS_WRITE } })
    .input(periodInput)
    .output(clearingPeriodSchema)
    .mutation(async ({ ctx, input }) => {
      const key = requireIdempotencyKey(ctx);
      await updateClearing(ctx, input.period, TEMPORAL_DEADLINE_MS, (handle) =>
        handle.executeUpdate(rerunClearingUpdate, { args: [{ requestedBy: ctx.principal.name }], updateId: `rerun-${key}` }));
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'clearing_rerun', subject: `clearing:${input.period}`, requestId: ctx.requestId });
      return periodView(ctx, await ctx.deps.clearing.get(input.period));
    }),

  approve: backofficeProcedure(FINANCE)
    .meta({ openapi: { method: 'POST', path: '/v1/clearing/periods/{period}/approve', tags: TAG, protect: true,
      summary: 'Approve the statements and close the period', requestHeaders: idempotencyHeaders,
      description: 'Only while the period awaits approval. Answers once the period is closed; a closed period cannot change.',
      errorResponses: ERRORS_WRITE } })
    .input(periodInput)
    .output(clearingPeriodSchema)
    .mutation(async ({ ctx, input }) => {
      const key = requireIdempotencyKey(ctx);
      // Approval answers once the period is closed, which takes a little longer than a rerun's ack.
      await updateClearing(ctx, input.period, 30_000, (handle) => handle.executeUpdate(approveClearingUpdate, {
        args: [{ approvedBy: `${ctx.principal.name} (${ctx.principal.clientId})` }], updateId: `approve-${key}`,
      }));
      await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action: 'clearing_approved', subject: `clearing:${input.period}`, requestId: ctx.requestId });
      // A closed period is settled (SEPA files, issue 17). The period is closed whatever happens
      // here; if the start fails, finance starts the settlement on the clearing page.
      if (ctx.deps.config.settlement.centre) {
        await startSettlement(ctx, input.period).catch((err) => console.warn(`settlement of ${input.period} not started: ${(err as Error).message}`));
      }
      return periodView(ctx, await ctx.deps.clearing.get(input.period));
    }),
});

const reportLineSchema = z.object({
  currency: z.string(),
  sales: z.number().int().describe('Sold and loaded at tills and online'),
  onlineSales: z.number().int(),
  redemptions: z.number().int(),
  refunds: z.number().int(),
  breakage: z.number().int(),
  liabilityChange: z.number().int(),
  outstandingAtStart: z.number().int().describe('Voucher liability at the start of the period'),
  outstandingAtEnd: z.number().int().describe('Voucher liability at the end of the period, or now for the open one'),
}).meta({ id: 'ReportTotals' });

export const reportsRouter = router({
  period: backofficeProcedure(ALL_ROLES)
    .meta({ openapi: { method: 'GET', path: '/v1/reports/periods/{period}', tags: ['Reports'], protect: true,
      summary: 'Sales, redemptions, refunds, breakage and liability for a month, per party',
      description: 'Computed from the ledger; live up to now for the current month. A billing party sees its own line only.',
      errorResponses: { ...ERRORS, 422: 'The period lies in the future' } } })
    .input(z.object({ period: periodSchema, billingPartyId: z.uuid().optional() }).strict())
    .output(z.object({
      period: z.string(), from: z.string(), to: z.string(), open: z.boolean(),
      totals: z.array(reportLineSchema).nullable().describe('Scheme-wide; null for a billing party key'),
      parties: z.array(positionSchema),
    }))
    .query(async ({ ctx, input }) => {
      const own = ctx.principal.role === 'billing_party' ? ctx.principal.billingPartyId! : undefined;
      if (own && input.billingPartyId && input.billingPartyId !== own) {
        throw new DomainError('forbidden', 'a billing party key sees its own figures only');
      }
      const report = await periodReport(ctx.deps.db.pool, ctx.deps.config.clearingTimeZone, input.period);
      const party = own ?? input.billingPartyId;
      return {
        period: report.period, from: report.from.toISOString(), to: report.to.toISOString(), open: report.open,
        totals: own ? null : report.totals.map((t) => ({
          currency: t.currency, sales: Number(t.sales), onlineSales: Number(t.onlineSales),
          redemptions: Number(t.redemptions), refunds: Number(t.refunds), breakage: Number(t.breakage),
          liabilityChange: Number(t.liabilityChange), outstandingAtStart: Number(t.outstandingAtStart),
          outstandingAtEnd: Number(t.outstandingAtEnd),
        })),
        parties: report.positions
          .filter((p) => p.partyKey !== SCHEME_PARTY || !own)
          .filter((p) => !party || p.partyKey === party)
          .map(positionView),
      };
    }),
});
