// Point-of-sale operations: balance lookup, selling and loading cards, two-phase redemption
// (authorize -> capture | void) and refunds. Served over REST (/v1) and tRPC (pos.*).

import { cardCodeLast4, deriveCardCode, formatCardCode, hashCardCode } from '../../domain/card-code.ts';
import { resolveCodeHash } from '../../services/legacy-codes.ts';
import { DomainError } from '../../domain/errors.ts';
import { cardView, lookupCard } from '../../services/card-view.ts';
import { codeGuessSubjects, fraudMetrics } from '../../services/fraud-limits.ts';
import { authorizations } from '../../infra/metrics.ts';
import type { CardSnapshot, HoldSnapshot } from '../../services/ledger.ts';
import {
  activateInput, authorizeInput, captureInput, cardResult, holdRef, idempotencyHeaders, issueInput, issueOutput, loadInput,
  lookupInput, redemptionSchema, refundInput,
} from '../schemas.ts';
import { requireIdempotencyKey, router, terminalProcedure, type RequestContext } from '../trpc.ts';
import type { TerminalIdentity } from '../terminal-auth.ts';
import type { z } from 'zod';

type TerminalContext = RequestContext & { terminal: TerminalIdentity };

const TAG = ['POS'];
const ERRORS_READ = { 400: 'Invalid input', 401: 'Missing or invalid API key', 404: 'Not found' };
const ERRORS_CODE_READ = { ...ERRORS_READ, 429: 'Too many unknown or invalid card codes from this terminal or address (too_many_attempts; see Retry-After)' };
const ERRORS_WRITE = {
  ...ERRORS_READ, 402: 'Insufficient funds', 409: 'Conflicts with the current state',
  422: 'Refused (card blocked or expired, currency mismatch, key reused with another body, velocity limit reached)',
  429: 'Too many unknown or invalid card codes from this terminal or address (too_many_attempts; see Retry-After)',
};

/** Our codes by their check character; imported legacy codes by their format's rules (services/legacy-codes.ts). */
async function codeHashOf(ctx: RequestContext, code: string): Promise<string> {
  const hash = await resolveCodeHash(ctx.deps.db.pool, code, ctx.deps.secrets.hashKey);
  if (!hash) throw new DomainError('invalid_card_code', 'this is not a valid card code (check for typos)');
  return hash;
}

function scope(ctx: TerminalContext): string {
  return `terminal:${ctx.terminal.terminalId}`;
}

function redemption(hold: HoldSnapshot & { card?: CardSnapshot; replayed?: boolean }): z.infer<typeof redemptionSchema> {
  return {
    id: hold.holdId,
    status: hold.status,
    posReference: hold.posReference,
    currency: hold.currency,
    requestedAmount: Number(hold.requestedAmount),
    approvedAmount: Number(hold.approvedAmount),
    capturedAmount: Number(hold.capturedAmount),
    refundedAmount: Number(hold.refundedAmount),
    expiresAt: new Date(hold.expiresAt).toISOString(),
    card: hold.card ? cardView(hold.card) : undefined,
    replayed: hold.replayed === true,
  };
}

/**
 * Runs a call that takes a card code under the code-guessing guard: refused while this terminal
 * or address is locked, slowed while it is close to that, and an unknown or invalid code counts
 * against both. Velocity declines are counted too.
 */
async function codeGuarded<T>(ctx: TerminalContext, run: () => Promise<T>): Promise<T> {
  const subjects = codeGuessSubjects(ctx.terminal.terminalId, ctx.clientIp);
  await ctx.deps.codeGuard.before(subjects);
  try {
    return await velocityCounted(run);
  } catch (err) {
    if (err instanceof DomainError && (err.code === 'card_not_found' || err.code === 'invalid_card_code')) {
      await ctx.deps.codeGuard.failed(subjects, ctx.requestId);
    }
    throw err;
  }
}

async function velocityCounted<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof DomainError && err.code === 'velocity_limit_exceeded') fraudMetrics.velocityDeclines.inc();
    throw err;
  }
}

export const posRouter = router({
  lookupCard: terminalProcedure
    .meta({ openapi: { method: 'POST', path: '/v1/cards/lookup', tags: TAG, protect: true,
      summary: 'Check a card balance', description: 'The code travels in the body so it never appears in a URL or access log.',
      errorResponses: ERRORS_CODE_READ } })
    .input(lookupInput)
    .output(cardResult)
    .mutation(async ({ ctx, input }) => codeGuarded(ctx, async () => {
      const card = await lookupCard(ctx.deps.cache, ctx.deps.ledger, await codeHashOf(ctx, input.code));
      if (!card) throw new DomainError('card_not_found', 'no card has this code');
      return { card: cardView(card), replayed: false };
    })),

  issueCard: terminalProcedure
    .meta({ openapi: { method: 'POST', path: '/v1/cards', tags: TAG, protect: true,
      summary: 'Sell a new card at the till', requestHeaders: idempotencyHeaders,
      description: 'Requires an Idempotency-Key: a retry returns the same card and code.', errorResponses: ERRORS_WRITE } })
    .input(issueInput)
    .output(issueOutput)
    .mutation(async ({ ctx, input }) => {
      const key = requireIdempotencyKey(ctx);
      const { deps, terminal } = ctx;
      const code = deriveCardCode(deps.secrets.deriveKey, 'pos-issue', terminal.terminalId, key);
      if (BigInt(input.amount) > deps.config.maxCardBalance) {
        throw new DomainError('balance_limit_exceeded', `a card may hold at most ${deps.config.maxCardBalance} minor units`);
      }
      const issued = await velocityCounted(() => deps.ledger.issueCard({ scope: scope(ctx), key }, {
        codeHash: hashCardCode(code, deps.secrets.hashKey),
        last4: cardCodeLast4(code),
        currency: input.currency,
        amount: BigInt(input.amount),
        expiresAt: new Date(Date.now() + deps.config.cardValidityDays * 86_400_000),
        channel: 'pos',
        storeId: terminal.storeId,
        terminalId: terminal.terminalId,
      })).catch((err) => {
        // The code is derived from the key, so the card exists already: the key's first answer
        // was forgotten after the retention window, and the same code cannot be sold twice.
        if (err instanceof DomainError && err.code === 'card_code_collision') {
          throw new DomainError('idempotency_key_reused', `this Idempotency-Key sold a card at this till more than ${deps.config.idempotencyRetentionHours} hours ago `
            + 'and its answer is no longer kept; send a new Idempotency-Key for a new sale');
        }
        throw err;
      });
      return { code: formatCardCode(code), card: cardView(issued), replayed: issued.replayed === true };
    }),

  loadCard: terminalProcedure
    .meta({ openapi: { method: 'POST', path: '/v1/cards/load', tags: TAG, protect: true,
      summary: 'Load value onto an existing card', requestHeaders: idempotencyHeaders,
      description: 'Requires an Idempotency-Key.', errorResponses: ERRORS_WRITE } })
    .input(loadInput)
    .output(cardResult)
    .mutation(async ({ ctx, input }) => {
      const key = requireIdempotencyKey(ctx);
      const { deps, terminal } = ctx;
      const result = await codeGuarded(ctx, async () => deps.ledger.loadCard({ scope: scope(ctx), key }, {
        codeHash: await codeHashOf(ctx, input.code), currency: input.currency, amount: BigInt(input.amount),
        maxBalance: deps.config.maxCardBalance, storeId: terminal.storeId, terminalId: terminal.terminalId,
      }));
      return { card: cardView(result), replayed: result.replayed === true };
    }),

  activateCard: terminalProcedure
    .meta({ openapi: { method: 'POST', path: '/v1/cards/activate', tags: TAG, protect: true,
      summary: 'Activate a pending (scratch) card by selling it at the till', requestHeaders: idempotencyHeaders,
      description: 'The sale is booked to this store. A fixed-value card takes its face value (amount may be left out or must '
        + 'equal it); an open-value card needs the amount. Requires an Idempotency-Key.', errorResponses: ERRORS_WRITE } })
    .input(activateInput)
    .output(cardResult)
    .mutation(async ({ ctx, input }) => {
      const key = requireIdempotencyKey(ctx);
      const { deps, terminal } = ctx;
      const result = await codeGuarded(ctx, async () => deps.ledger.activateCard({ scope: scope(ctx), key }, {
        codeHash: await codeHashOf(ctx, input.code), currency: input.currency,
        amount: input.amount === undefined ? null : BigInt(input.amount),
        maxBalance: deps.config.maxCardBalance, storeId: terminal.storeId, terminalId: terminal.terminalId,
      }));
      return { card: cardView(result), replayed: result.replayed === true };
    }),

  authorize: terminalProcedure
    .meta({ openapi: { method: 'POST', path: '/v1/redemptions', tags: TAG, protect: true,
      summary: 'Authorize a redemption (place a hold)', requestHeaders: idempotencyHeaders,
      description: 'The hold is written before the answer; capture or void it later. A repeat with the same '
        + 'posReference (or Idempotency-Key) returns the first answer. A hold not settled by its expiresAt stops counting '
        + 'against the card at that instant (status expired; a capture is then refused with hold_expired).',
      errorResponses: ERRORS_WRITE } })
    .input(authorizeInput)
    .output(redemptionSchema)
    .mutation(async ({ ctx, input }) => {
      const { deps, terminal } = ctx;
      try {
        const result = await codeGuarded(ctx, async () => deps.ledger.authorize(
          { scope: scope(ctx), key: ctx.idempotencyKey },
          {
            codeHash: await codeHashOf(ctx, input.code), currency: input.currency, amount: BigInt(input.amount),
            allowPartial: input.allowPartial, storeId: terminal.storeId, terminalId: terminal.terminalId,
            posReference: input.posReference, holdTtlSeconds: terminal.holdTtlSeconds,
          }));
        authorizations.inc({ outcome: 'approved' });
        return redemption(result);
      } catch (err) {
        authorizations.inc({ outcome: err instanceof DomainError ? err.code : 'error' });
        throw err;
      }
    }),

  getRedemption: terminalProcedure
    .meta({ openapi: { method: 'GET', path: '/v1/redemptions/{holdId}', tags: TAG, protect: true,
      summary: 'Get a redemption', errorResponses: ERRORS_READ } })
    .input(holdRef)
    .output(redemptionSchema)
    .query(async ({ ctx, input }) => {
      const hold = await ctx.deps.ledger.findHold(input.holdId, ctx.terminal.storeId);
      if (!hold) throw new DomainError('hold_not_found', 'no redemption with this id at this store');
      return redemption(hold);
    }),

  capture: terminalProcedure
    .meta({ openapi: { method: 'POST', path: '/v1/redemptions/{holdId}/capture', tags: TAG, protect: true,
      summary: 'Capture a hold, all or part', requestHeaders: idempotencyHeaders,
      description: 'Capturing twice returns the first answer; what is not captured goes back to the card. '
        + 'A hold past its expiry is refused with hold_expired.',
      errorResponses: ERRORS_WRITE } })
    .input(captureInput)
    .output(redemptionSchema)
    .mutation(async ({ ctx, input }) => {
      const result = await ctx.deps.ledger.capture(
        { scope: scope(ctx), key: ctx.idempotencyKey },
        { holdId: input.holdId, storeId: ctx.terminal.storeId,
          amount: input.amount === undefined ? null : BigInt(input.amount) });
      return redemption(result);
    }),

  void: terminalProcedure
    .meta({ openapi: { method: 'POST', path: '/v1/redemptions/{holdId}/void', tags: TAG, protect: true,
      summary: 'Void a hold', requestHeaders: idempotencyHeaders, errorResponses: ERRORS_WRITE,
      description: 'Voiding twice returns the first answer. A hold past its expiry is released already: the answer is the hold '
        + 'with status expired and its value back on the card.' } })
    .input(holdRef)
    .output(redemptionSchema)
    .mutation(async ({ ctx, input }) => {
      const result = await ctx.deps.ledger.void(
        { scope: scope(ctx), key: ctx.idempotencyKey },
        { holdId: input.holdId, storeId: ctx.terminal.storeId });
      return redemption(result);
    }),

  refund: terminalProcedure
    .meta({ openapi: { method: 'POST', path: '/v1/redemptions/{holdId}/refunds', tags: TAG, protect: true,
      summary: 'Refund a captured redemption to the card', requestHeaders: idempotencyHeaders,
      description: 'Requires an Idempotency-Key; several partial refunds may add up to the captured amount.',
      errorResponses: ERRORS_WRITE } })
    .input(refundInput)
    .output(redemptionSchema.extend({ refundAmount: redemptionSchema.shape.capturedAmount }).meta({ id: 'RefundResult' }))
    .mutation(async ({ ctx, input }) => {
      const key = requireIdempotencyKey(ctx);
      const result = await ctx.deps.ledger.refund({ scope: scope(ctx), key }, {
        holdId: input.holdId, storeId: ctx.terminal.storeId, terminalId: ctx.terminal.terminalId,
        amount: input.amount === undefined ? null : BigInt(input.amount),
      });
      return { ...redemption(result), refundAmount: Number(result.refundAmount) };
    }),
});
