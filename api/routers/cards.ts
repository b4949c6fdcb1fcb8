// The card lifecycle in the back office (issue #13): deactivate, clear balance, adjust (four eyes
// above a configured amount), transfer, extend expiry, and each card's activity history. Every
// operation is one ledger function (one balanced entry, audited in the same statement), needs an
// Idempotency-Key and is allowed by role. Activation happens at a till (pos.activateCard).

import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { CardAdjustments } from '../../services/card-adjustments.ts';
import { cardView } from '../../services/card-view.ts';
import type { CardSnapshot } from '../../services/ledger.ts';
import { cardActivities, cardExists, cardUsedAtStore } from '../../stores/cards.ts';
import { adjustmentDecidedSignal, CARD_ADJUSTMENT_WORKFLOW, cardAdjustmentWorkflowId } from '../../workflows/names/card-adjustment.ts';
import { VoucherAmount, VoucherCurrency, VoucherStatus } from '../../workflows/search-attributes.ts';
import type { BackofficePrincipal } from '../backoffice-auth.ts';
import { amountSchema, bigintIdSchema, cardSchema, idempotencyHeaders, instantSchema, nameText } from '../schemas.ts';
import { backofficeProcedure, requireIdempotencyKey, requireTemporal, router, type RequestContext } from '../trpc.ts';
import { TEMPORAL_DEADLINE_MS } from '../../workflows/clients/deadline.ts';

const TAG = ['Cards'];
const VIEWERS = ['admin', 'finance', 'support', 'store_staff'] as const;
const LIFECYCLE = ['admin', 'support'] as const;
const ADJUSTERS = ['admin', 'finance', 'support'] as const;
const ERRORS_READ = { 400: 'Invalid input', 401: 'Missing or invalid credentials', 403: 'Not allowed for this role', 404: 'No such card' };
const ERRORS_WRITE = {
  ...ERRORS_READ, 402: 'Insufficient funds',
  409: 'Refused for the card\'s state (invalid_card_transition, card_has_open_holds) or key in use',
  422: 'Refused (expired card, currency mismatch, balance limit, key reused with another body, invalid expiry)',
};
/** How long an approval call waits to answer with the booked entry before answering "approved". */
const BOOKING_WAIT_MS = 10_000;
/** Ten years: further than any validity the scheme grants. */
const MAX_EXPIRY_MS = 10 * 366 * 86_400_000;

type Ctx = RequestContext & { principal: BackofficePrincipal };

const reasonText = nameText(200).describe('Why: kept with the entry and in the audit log');
const cardId = z.uuid().describe('Card id');
const lifecycleResult = z.object({
  card: cardSchema, entryId: z.string(), amount: z.number().int().describe('What the entry moved, minor units'), replayed: z.boolean(),
}).meta({ id: 'CardLifecycleResult' });

function scopeOf(ctx: Ctx): string {
  return `backoffice:${ctx.principal.kind}:${ctx.principal.clientId}`;
}

function idem(ctx: Ctx) {
  return { scope: scopeOf(ctx), key: requireIdempotencyKey(ctx), actor: ctx.principal.name };
}

/** Store staff see a card only if it was ever used at their store. */
async function assertVisible(ctx: Ctx, id: string): Promise<void> {
  if (ctx.principal.role !== 'store_staff') return;
  if (!await cardUsedAtStore(ctx.deps.db.pool, id, ctx.principal.storeId)) throw new DomainError('card_not_found', 'no such card');
}

/** The ledger has written the changed cards to the balance cache already. */
function done(r: CardSnapshot & { entryId: number; amount: number; replayed?: boolean }) {
  return { card: cardView(r), entryId: String(r.entryId), amount: Number(r.amount), replayed: r.replayed === true };
}

const adjustmentSchema = z.object({
  id: z.string(), cardId: z.string(), currency: z.string(), amount: z.number().int(), reason: z.string(),
  requestedByName: z.string(), status: z.enum(['pending', 'approved', 'refused', 'expired', 'booked', 'failed']),
  decidedByName: z.string().nullable(), decidedAt: z.string().nullable(), entryId: z.string().nullable(),
  failure: z.string().nullable(), expiresAt: z.string(), createdAt: z.string(), workflowId: z.string(),
}).meta({ id: 'CardAdjustment' });

function adjustmentView(a: Awaited<ReturnType<CardAdjustments['get']>> & {}): z.infer<typeof adjustmentSchema> {
  const { requestedBy: _by, ...rest } = a;
  return { ...rest, workflowId: cardAdjustmentWorkflowId(a.id) };
}

const activitySchema = z.object({
  id: z.string(), type: z.string().describe('The journal entry kind: issue, activate, capture, adjust, transfer, ...'),
  at: z.string(), currency: z.string(), amount: z.number().int().describe('What the entry moved'),
  balanceChange: z.number().int().describe('Change of the spendable balance'), balanceAfter: z.number().int(),
  heldAfter: z.number().int(), reason: z.string().nullable(), storeId: z.string().nullable(), terminalId: z.string().nullable(),
  holdId: z.string().nullable(), actor: z.string().nullable(), details: z.record(z.string(), z.unknown()),
}).meta({ id: 'CardActivity' });

export const cardsRouter = router({
  activities: backofficeProcedure(VIEWERS)
    .meta({ openapi: { method: 'GET', path: '/v1/cards/{cardId}/activities', tags: TAG, protect: true,
      summary: 'A card\'s history, newest first', description: 'Every balance change and state change with its reason, store, terminal, actor and the balance after it. Page with `before`.',
      errorResponses: ERRORS_READ } })
    .input(z.object({
      cardId,
      before: bigintIdSchema.optional().describe('Page: activities older than this id'),
      limit: z.string().regex(/^(?:[1-9]\d?|1\d\d|200)$/, '1 to 200, as decimal text').optional().describe('Page size (default 50)'),
    }).strict())
    .output(z.object({ activities: z.array(activitySchema), nextBefore: z.string().nullable() }))
    .query(async ({ ctx, input }) => {
      const limit = Number(input.limit ?? 50);
      if (!await cardExists(ctx.deps.db.pool, input.cardId)) throw new DomainError('card_not_found', 'no such card');
      await assertVisible(ctx, input.cardId);
      const rows = await cardActivities(ctx.deps.db.pool, input.cardId, input.before ?? null, limit + 1);
      const page = rows.slice(0, limit);
      return {
        activities: page.map((r) => ({
          id: r.entry_id, type: r.kind, at: r.booked_at.toISOString(), currency: r.currency, amount: Number(r.amount),
          balanceChange: Number(r.available_change), balanceAfter: Number(r.available_after), heldAfter: Number(r.held_after),
          reason: r.reason, storeId: r.store_id, terminalId: r.terminal_id, holdId: r.hold_id, actor: r.actor, details: r.details,
        })),
        nextBefore: rows.length > limit ? page[page.length - 1]!.entry_id : null,
      };
    }),

  deactivate: backofficeProcedure(LIFECYCLE)
    .meta({ openapi: { method: 'POST', path: '/v1/cards/{cardId}/deactivate', tags: TAG, protect: true, requestHeaders: idempotencyHeaders,
      summary: 'Deactivate a card for good', description: 'Its remaining value goes to breakage, or back to the sale\'s source, by the scheme\'s policy (CARD_DEACTIVATION_POLICY). Requires an Idempotency-Key.',
      errorResponses: ERRORS_WRITE } })
    .input(z.object({ cardId, reason: reasonText }).strict())
    .output(lifecycleResult)
    .mutation(async ({ ctx, input }) => done(await ctx.deps.ledger.deactivateCard(idem(ctx), {
      cardId: input.cardId, reason: input.reason, refund: ctx.deps.config.cardLifecycle.deactivationPolicy === 'refund',
    }))),

  clearBalance: backofficeProcedure(LIFECYCLE)
    .meta({ openapi: { method: 'POST', path: '/v1/cards/{cardId}/clear-balance', tags: TAG, protect: true, requestHeaders: idempotencyHeaders,
      summary: 'Clear a card\'s spendable balance', description: 'The value goes to breakage; the card stays open. Requires an Idempotency-Key.',
      errorResponses: ERRORS_WRITE } })
    .input(z.object({ cardId, reason: z.enum(['suspicious_activity', 'card_reused', 'support_issue']) }).strict())
    .output(lifecycleResult)
    .mutation(async ({ ctx, input }) => done(await ctx.deps.ledger.clearBalance(idem(ctx), input))),

  adjust: backofficeProcedure(ADJUSTERS)
    .meta({ openapi: { method: 'POST', path: '/v1/cards/{cardId}/adjustments', tags: TAG, protect: true, requestHeaders: idempotencyHeaders,
      summary: 'Adjust a card\'s balance up or down', description: 'Up to ADJUSTMENT_APPROVAL_THRESHOLD_MINOR it is booked at once; above, it waits for a second back-office user\'s approval (status pending) and expires after ADJUSTMENT_APPROVAL_HOURS. Requires an Idempotency-Key.',
      errorResponses: ERRORS_WRITE } })
    .input(z.object({ cardId, direction: z.enum(['up', 'down']), amount: amountSchema, reason: reasonText }).strict())
    .output(z.object({ status: z.enum(['booked', 'pending']), result: lifecycleResult.nullable(), adjustment: adjustmentSchema.nullable() }))
    .mutation(async ({ ctx, input }) => {
      const signed = (input.direction === 'up' ? 1n : -1n) * BigInt(input.amount);
      const { config } = ctx.deps;
      if (BigInt(input.amount) <= config.cardLifecycle.adjustmentApprovalThreshold) {
        const booked = await ctx.deps.ledger.adjustCard(idem(ctx), { cardId: input.cardId, amount: signed, maxBalance: config.maxCardBalance, reason: input.reason });
        return { status: 'booked' as const, result: done(booked), adjustment: null };
      }
      const { scope, key } = idem(ctx);
      const client = requireTemporal(ctx);
      const { request } = await new CardAdjustments(ctx.deps.db.pool).request({
        cardId: input.cardId, amount: signed, reason: input.reason, scope, key, waitHours: config.cardLifecycle.adjustmentApprovalHours,
        by: { identity: `${ctx.principal.kind}:${ctx.principal.clientId}`, name: ctx.principal.name },
      });
      // Started on every call (a retry after a lost start starts it; USE_EXISTING makes repeats one).
      await client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => client.workflow.start(CARD_ADJUSTMENT_WORKFLOW, {
        workflowId: cardAdjustmentWorkflowId(request.id), taskQueue: config.taskQueue,
        args: [{ adjustmentId: request.id, waitMs: Math.max(1, Date.parse(request.expiresAt) - Date.now()) }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [
          { key: VoucherStatus, value: 'awaiting_approval' }, { key: VoucherAmount, value: Number(signed) },
          { key: VoucherCurrency, value: request.currency },
        ],
      }));
      return { status: 'pending' as const, result: null, adjustment: adjustmentView(request) };
    }),

  adjustments: backofficeProcedure(ADJUSTERS)
    .meta({ openapi: { method: 'GET', path: '/v1/card-adjustments', tags: TAG, protect: true,
      summary: 'Adjustments waiting for (or past) their second approval', errorResponses: ERRORS_READ } })
    .input(z.object({ status: z.enum(['pending', 'approved', 'refused', 'expired', 'booked', 'failed']).optional(), cardId: cardId.optional() }).strict())
    .output(z.object({ adjustments: z.array(adjustmentSchema) }))
    .query(async ({ ctx, input }) => ({
      adjustments: (await new CardAdjustments(ctx.deps.db.pool).list({ ...input, limit: 200 })).map(adjustmentView),
    })),

  decideAdjustment: backofficeProcedure(ADJUSTERS)
    .meta({ openapi: { method: 'POST', path: '/v1/card-adjustments/{adjustmentId}/decision', tags: TAG, protect: true, requestHeaders: idempotencyHeaders,
      summary: 'Approve or refuse an adjustment (four eyes)', description: 'Refused with same_approver for the user who requested it. An approved adjustment is booked by its workflow; the answer carries the entry when booking finished within seconds.',
      errorResponses: ERRORS_WRITE } })
    .input(z.object({ adjustmentId: z.uuid(), approve: z.boolean() }).strict())
    .output(adjustmentSchema)
    .mutation(async ({ ctx, input }) => {
      const adjustments = new CardAdjustments(ctx.deps.db.pool);
      const client = requireTemporal(ctx);
      const decided = await adjustments.decide(input.adjustmentId, input.approve,
        { identity: `${ctx.principal.kind}:${ctx.principal.clientId}`, name: ctx.principal.name });
      const handle = client.workflow.getHandle(cardAdjustmentWorkflowId(decided.id));
      await client.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => handle.signal(adjustmentDecidedSignal));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([handle.result().catch(() => null), new Promise((resolve) => (timer = setTimeout(resolve, BOOKING_WAIT_MS)))])
        .finally(() => clearTimeout(timer));
      // The booking (the workflow's ledger call) wrote the card to the balance cache.
      return adjustmentView((await adjustments.get(decided.id))!);
    }),

  transfer: backofficeProcedure(LIFECYCLE)
    .meta({ openapi: { method: 'POST', path: '/v1/cards/{cardId}/transfer', tags: TAG, protect: true, requestHeaders: idempotencyHeaders,
      summary: 'Move balance to another card of the same currency (merge)', description: 'Atomic: both cards change in one transaction. Without amount, everything spendable moves. Requires an Idempotency-Key.',
      errorResponses: ERRORS_WRITE } })
    .input(z.object({ cardId, toCardId: cardId, amount: amountSchema.optional(), reason: reasonText.default('balance transfer') }).strict())
    .output(lifecycleResult.extend({ toCard: cardSchema }))
    .mutation(async ({ ctx, input }) => {
      const r = await ctx.deps.ledger.transferBalance(idem(ctx), {
        fromCardId: input.cardId, toCardId: input.toCardId, amount: input.amount === undefined ? null : BigInt(input.amount),
        maxBalance: ctx.deps.config.maxCardBalance, reason: input.reason,
      });
      return { ...done(r), toCard: cardView(r.toCard) };
    }),

  extendExpiry: backofficeProcedure(LIFECYCLE)
    .meta({ openapi: { method: 'POST', path: '/v1/cards/{cardId}/extend-expiry', tags: TAG, protect: true, requestHeaders: idempotencyHeaders,
      summary: 'Give a card a later expiry date', description: 'Audited with its reason; moves no value. Requires an Idempotency-Key.', errorResponses: ERRORS_WRITE } })
    .input(z.object({ cardId, expiresAt: instantSchema, reason: reasonText }).strict())
    .output(lifecycleResult)
    .mutation(async ({ ctx, input }) => {
      const expiresAt = new Date(input.expiresAt);
      if (expiresAt.getTime() > Date.now() + MAX_EXPIRY_MS) throw new DomainError('invalid_expiry', 'a card may be valid for at most ten years from now');
      return done(await ctx.deps.ledger.extendExpiry(idem(ctx), { cardId: input.cardId, expiresAt, reason: input.reason }));
    }),
});
