// Request and response shapes of the POS API, shared by tRPC, REST and the OpenAPI document.
// Amounts are integers in minor units (cents), as in Stripe's API.

import { z } from 'zod';
import { MAX_OPERATION_AMOUNT, SUPPORTED_CURRENCIES } from '../domain/money.ts';
import { isPeriod } from '../domain/period.ts';

export const amountSchema = z.number().int().positive().max(Number(MAX_OPERATION_AMOUNT))
  .describe('Amount in minor units (cents)');
export const currencySchema = z.enum(SUPPORTED_CURRENCIES).describe('ISO 4217 currency code');
/**
 * Text as people type it: no control characters and no unpaired surrogates. PostgreSQL refuses NUL
 * in text and \u0000 in jsonb, and an unpaired surrogate is not UTF-8: both would fail deep in a
 * query (a 500) instead of at the door.
 */
export const PLAIN_TEXT = /^[^\p{Cc}\p{Cs}]*$/u;
const PLAIN_TEXT_MESSAGE = 'no control characters';

export function plainText(max: number) {
  return z.string().max(max).regex(PLAIN_TEXT, PLAIN_TEXT_MESSAGE);
}

/** A name or label: trimmed, one to `max` characters of plain text. */
export function nameText(max: number) {
  return z.string().trim().min(1).max(max).regex(PLAIN_TEXT, PLAIN_TEXT_MESSAGE);
}

const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** A PostgreSQL bigint id (journal entry, audit entry), as decimal text: JSON numbers cannot hold it exactly. */
export const bigintIdSchema = z.string().regex(/^\d{1,19}$/, 'a decimal id')
  .refine((v) => BigInt(v) <= MAX_BIGINT, 'out of range for an id');

/** A calendar day, YYYY-MM-DD, that exists (no 2026-02-31), from 2000 on like clearing periods. */
export const daySchema = z.iso.date('a real day written YYYY-MM-DD').regex(/^2\d{3}-/, 'a day from 2000 on');

/** An instant with its offset, within the years PostgreSQL and JavaScript both hold (1 to 9999). */
export const instantSchema = z.iso.datetime({ offset: true }).refine((v) => {
  const year = new Date(v).getUTCFullYear();
  return year >= 1 && year <= 9999;
}, 'a time between the years 1 and 9999');

export const cardCodeSchema = z.string().min(1).max(64).regex(PLAIN_TEXT, PLAIN_TEXT_MESSAGE)
  .describe('The card code as printed or scanned; spaces and dashes are ignored');
export const posReferenceSchema = z.string().min(1).max(64).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
  .describe("The till's own transaction reference; one redemption per terminal and reference");
export const holdIdSchema = z.uuid().describe('Redemption (hold) id');

export const cardSchema = z.object({
  id: z.string(),
  last4: z.string(),
  currency: z.string(),
  status: z.enum(['pending', 'active', 'blocked', 'deactivated', 'expired']),
  available: z.number().int().describe('Spendable balance in minor units'),
  held: z.number().int().describe('Held by open authorizations, in minor units'),
  expiresAt: z.string(),
}).meta({ id: 'Card' });

export const lookupInput = z.object({ code: cardCodeSchema }).strict();

export const issueInput = z.object({ amount: amountSchema, currency: currencySchema }).strict();
export const issueOutput = z.object({
  code: z.string().describe('The full card code, formatted for printing. Shown only here: store it nowhere.'),
  card: cardSchema,
  replayed: z.boolean(),
}).meta({ id: 'IssuedCard' });

export const loadInput = z.object({ code: cardCodeSchema, amount: amountSchema, currency: currencySchema }).strict();
export const activateInput = z.object({
  code: cardCodeSchema,
  currency: currencySchema,
  amount: amountSchema.optional().describe('The value to load: required for an open-value card, the face value (or nothing) for a fixed one'),
}).strict();
export const cardResult = z.object({ card: cardSchema, replayed: z.boolean() }).meta({ id: 'CardResult' });

export const authorizeInput = z.object({
  code: cardCodeSchema,
  amount: amountSchema,
  currency: currencySchema,
  posReference: posReferenceSchema,
  allowPartial: z.boolean().default(false)
    .describe('Approve what the card has when it has less than asked, instead of declining'),
}).strict();

export const redemptionStatusSchema = z.enum(['authorized', 'captured', 'voided', 'expired']);

export const redemptionSchema = z.object({
  id: z.string(),
  status: redemptionStatusSchema,
  posReference: z.string(),
  currency: z.string(),
  requestedAmount: z.number().int(),
  approvedAmount: z.number().int(),
  capturedAmount: z.number().int(),
  refundedAmount: z.number().int(),
  expiresAt: z.string(),
  card: cardSchema.optional(),
  replayed: z.boolean(),
}).meta({ id: 'Redemption' });

export const holdRef = z.object({ holdId: holdIdSchema }).strict();
export const captureInput = z.object({
  holdId: holdIdSchema,
  amount: amountSchema.optional().describe('Capture this much (default: all of it); the rest is released'),
}).strict();
export const refundInput = z.object({
  holdId: holdIdSchema,
  amount: amountSchema.optional().describe('Refund this much (default: everything not yet refunded)'),
}).strict();
export const errorSchema = z.object({
  error: z.object({
    code: z.string().describe('Stable machine-readable code, e.g. insufficient_funds'),
    message: z.string(),
    request_id: z.string(),
    details: z.unknown().optional(),
  }),
}).meta({ id: 'Error' });

export const idempotencyHeaders = z.object({
  'idempotency-key': z.string().regex(/^[\x21-\x7e]{1,255}$/, '1-255 printable ASCII characters').optional()
    .describe('Makes the call safe to retry: a repeat returns the first answer'),
});

export const periodSchema = z.string().max(7).refine(isPeriod, 'a month written YYYY-MM, from 2000 on').describe('Clearing period (month), YYYY-MM');
