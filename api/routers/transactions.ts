// The portal's transactions: the ledger as a filterable table, one transaction with its postings,
// one card with its history, and the actions support takes on them. Every action goes through the
// same ledger functions as the tills (and so reaches the redemption workflow through the outbox),
// is allowed by role, and is written to the audit log. Store staff see and act on their store only.

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { resendVoucher } from '../../workflows/clients/purchase.ts';
import { DomainError } from '../../domain/errors.ts';
import { audit } from '../../services/audit.ts';
import type { CardSnapshot } from '../../services/ledger.ts';
import { orderOfCard } from '../../services/orders.ts';
import { holdOwner } from '../../stores/holds.ts';
import {
  decodeCursor, encodeCursor, findCard, findTransaction, listTransactions, type Transaction,
} from '../../services/transactions.ts';
import type { BackofficePrincipal } from '../backoffice-auth.ts';
import { orderOf, scopedFilter, transactionFilterSchema, transactionTypeSchema } from '../transaction-filter.ts';
import { amountSchema, bigintIdSchema } from '../schemas.ts';
import { backofficeProcedure, requireIdempotencyKey, requireTemporal, router, type RequestContext } from '../trpc.ts';

const VIEWERS = ['admin', 'finance', 'support', 'store_staff'] as const;
const HOLD_ACTORS = ['admin', 'support', 'store_staff'] as const;
const SUPPORT = ['admin', 'support'] as const;

const typeSchema = transactionTypeSchema;

const transactionSchema = z.object({
  entryId: z.string(), bookedAt: z.string(), type: typeSchema, currency: z.string(), amount: z.number().int(),
  cardId: z.string(), cardLast4: z.string(), storeId: z.string().nullable(), storeName: z.string().nullable(),
  billingPartyId: z.string().nullable(), billingPartyName: z.string().nullable(), terminalId: z.string().nullable(),
  holdId: z.string().nullable(), holdStatus: z.string().nullable(),
});

type Ctx = RequestContext & { principal: BackofficePrincipal };

export function transactionView(t: Transaction): z.infer<typeof transactionSchema> {
  return { ...t, bookedAt: t.bookedAt.toISOString(), amount: Number(t.amount) };
}

function visibleTo(principal: BackofficePrincipal, storeId: string | null): boolean {
  return principal.role !== 'store_staff' || storeId === principal.storeId;
}

/** The hold behind an action, if the caller may act on it. */
async function actionableHold(ctx: Ctx, holdId: string): Promise<{ storeId: string; cardId: string }> {
  const hold = await holdOwner(ctx.deps.db.pool, holdId);
  if (!hold || !visibleTo(ctx.principal, hold.store_id)) throw new DomainError('hold_not_found', 'no such redemption');
  return { storeId: hold.store_id, cardId: hold.card_id };
}

function scopeOf(ctx: Ctx): string {
  return `backoffice:${ctx.principal.kind}:${ctx.principal.clientId}`;
}

async function logged(ctx: Ctx, action: string, subject: string, details: Record<string, unknown>): Promise<void> {
  await audit(ctx.deps.db.pool, { actor: ctx.principal.name, action, subject, details, requestId: ctx.requestId });
}

/**
 * What every action on a hold shares: the Idempotency-Key, the caller's right to the hold, the
 * ledger call (with the hold's own store), the balance cache and the audit entry.
 */
async function onHold<R extends { holdId: string; status: string; card?: CardSnapshot; replayed?: boolean }>(
  ctx: Ctx, holdId: string,
  call: (idem: { scope: string; key: string; actor: string }, storeId: string) => Promise<R>,
): Promise<{ holdId: string; status: string; cardAvailable: number; replayed: boolean }> {
  const key = requireIdempotencyKey(ctx);
  const hold = await actionableHold(ctx, holdId);
  // The ledger writes the audit entry in the same statement as the change.
  const result = await call({ scope: scopeOf(ctx), key, actor: ctx.principal.name }, hold.storeId);
  const replayed = result.replayed === true;
  return { holdId: result.holdId, status: result.status, cardAvailable: Number(result.card?.available ?? 0), replayed };
}

const holdInput = z.object({ holdId: z.uuid() }).strict();
const actionResult = z.object({ holdId: z.string(), status: z.string(), cardAvailable: z.number().int(), replayed: z.boolean() });

export const transactionsRouter = router({
  list: backofficeProcedure(VIEWERS)
    .input(transactionFilterSchema.extend({ limit: z.number().int().min(1).max(200).default(50), cursor: z.string().max(200).regex(/^[\w-]+$/, 'a cursor the API gave out').optional() }).strict())
    .output(z.object({ transactions: z.array(transactionSchema), nextCursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => {
      const { limit, cursor, ...filter } = input;
      const order = orderOf(filter);
      const after = cursor ? decodeCursor(cursor, order) : null;
      const page = await listTransactions(ctx.deps.db.pool, scopedFilter(ctx.principal, filter), order, { limit, after });
      return { transactions: page.transactions.map(transactionView), nextCursor: page.next ? encodeCursor(page.next) : null };
    }),

  get: backofficeProcedure(VIEWERS)
    .input(z.object({ entryId: bigintIdSchema }).strict())
    .output(transactionSchema.extend({ postings: z.array(z.object({ accountKind: z.string(), accountRef: z.string(), amount: z.number().int() })) }))
    .query(async ({ ctx, input }) => {
      const found = await findTransaction(ctx.deps.db.pool, input.entryId);
      if (!found || !visibleTo(ctx.principal, found.storeId)) throw new DomainError('not_found', 'no such transaction');
      return { ...transactionView(found), postings: found.postings.map((p) => ({ ...p, amount: Number(p.amount) })) };
    }),

  card: backofficeProcedure(VIEWERS)
    .input(z.object({ cardId: z.uuid() }).strict())
    .output(z.object({
      cardId: z.string(), last4: z.string(), currency: z.string(), status: z.string(), available: z.number().int(),
      held: z.number().int(), expiresAt: z.string(), channel: z.string(), createdAt: z.string(), history: z.array(transactionSchema),
    }))
    .query(async ({ ctx, input }) => {
      const card = await findCard(ctx.deps.db.pool, input.cardId);
      if (!card) throw new DomainError('card_not_found', 'no such card');
      const history = card.history.filter((t) => visibleTo(ctx.principal, t.storeId));
      if (history.length === 0 && ctx.principal.role === 'store_staff') throw new DomainError('card_not_found', 'no such card');
      return {
        ...card, available: Number(card.available), held: Number(card.held), expiresAt: card.expiresAt.toISOString(),
        createdAt: card.createdAt.toISOString(), history: history.map(transactionView),
      };
    }),

  capture: backofficeProcedure(HOLD_ACTORS)
    .input(holdInput.extend({ amount: amountSchema.optional() }).strict())
    .output(actionResult)
    .mutation(({ ctx, input }) => onHold(ctx, input.holdId, (idem, storeId) =>
      ctx.deps.ledger.capture(idem, { holdId: input.holdId, storeId, amount: input.amount === undefined ? null : BigInt(input.amount) }))),

  void: backofficeProcedure(HOLD_ACTORS)
    .input(holdInput)
    .output(actionResult)
    .mutation(({ ctx, input }) => onHold(ctx, input.holdId, (idem, storeId) =>
      ctx.deps.ledger.void(idem, { holdId: input.holdId, storeId }))),

  refund: backofficeProcedure(SUPPORT)
    .input(holdInput.extend({ amount: amountSchema.optional() }).strict())
    .output(actionResult)
    .mutation(({ ctx, input }) => onHold(ctx, input.holdId, (idem, storeId) =>
      ctx.deps.ledger.refund(idem, { holdId: input.holdId, storeId, terminalId: null, amount: input.amount === undefined ? null : BigInt(input.amount) }))),

  resendVoucher: backofficeProcedure(SUPPORT)
    .input(z.object({ cardId: z.uuid() }).strict())
    .output(z.object({ orderId: z.string(), sent: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const key = requireIdempotencyKey(ctx);
      const order = await orderOfCard(ctx.deps.db.prisma, input.cardId);
      if (!order) throw new DomainError('not_found', 'this card was not bought online: there is no voucher e-mail to resend');
      if (order.email === null) throw new DomainError('shopper_erased', 'the shopper\'s address was erased: there is no one to resend the voucher to');
      const client = requireTemporal(ctx);
      // Through a workflow, so a relay outage delays the mail instead of losing it; the key makes a
      // repeated click the same resend.
      const resendId = createHash('sha256').update(key).digest('hex').slice(0, 16);
      const result = await resendVoucher(client, ctx.deps.config.taskQueue, order.id, resendId);
      await logged(ctx, 'voucher_resent', `order:${order.id}`, { cardId: input.cardId });
      return { orderId: order.id, sent: result.sent };
    }),

  setCardBlocked: backofficeProcedure(SUPPORT)
    .input(z.object({ cardId: z.uuid(), blocked: z.boolean() }).strict())
    .output(z.object({ cardId: z.string(), status: z.string(), changed: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const card = await ctx.deps.ledger.setCardBlocked(input.cardId, input.blocked, ctx.principal.name);
      // The ledger writes the new version to the balance cache, so tills see the block at once.
      return { cardId: card.cardId, status: card.status, changed: card.changed };
    }),
});
