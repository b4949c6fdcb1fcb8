// The portal's transaction filter, shared by the table (api/routers/transactions.ts) and its CSV
// export (api/routes/exports.ts): the schema, the sort, and the scope a caller may see.

import { z } from 'zod';
import { DomainError } from '../domain/errors.ts';
import { TRANSACTION_TYPES, type TransactionFilter, type TransactionOrder } from '../services/transactions.ts';
import type { BackofficePrincipal } from './backoffice-auth.ts';
import { instantSchema } from './schemas.ts';

export const transactionTypeSchema = z.enum(Object.keys(TRANSACTION_TYPES) as [keyof typeof TRANSACTION_TYPES, ...(keyof typeof TRANSACTION_TYPES)[]]);

export const transactionFilterSchema = z.object({
  from: instantSchema.optional(),
  to: instantSchema.optional(),
  storeId: z.uuid().optional(),
  billingPartyId: z.uuid().optional(),
  types: z.array(transactionTypeSchema).max(Object.keys(TRANSACTION_TYPES).length).optional(),
  holdStatus: z.enum(['authorized', 'captured', 'voided', 'expired']).optional(),
  minAmount: z.number().int().min(0).optional(),
  maxAmount: z.number().int().min(0).optional(),
  cardLast4: z.string().regex(/^[0-9A-Za-z]{4}$/).optional(),
  /** Newest (or largest) first unless ascending. */
  sort: z.enum(['booked_at', 'amount']).optional(),
  ascending: z.boolean().optional(),
}).strict();

type FilterInput = z.infer<typeof transactionFilterSchema>;

export function orderOf(input: FilterInput): TransactionOrder {
  return { sort: input.sort ?? 'booked_at', ascending: input.ascending ?? false };
}

/** The filter as the caller may apply it: store staff are held to their store. */
export function scopedFilter(principal: BackofficePrincipal, { sort: _sort, ascending: _ascending, ...input }: FilterInput): TransactionFilter {
  if (input.minAmount !== undefined && input.maxAmount !== undefined && input.minAmount > input.maxAmount) {
    throw new DomainError('validation_error', 'minAmount is above maxAmount');
  }
  const storeId = principal.role === 'store_staff' ? principal.storeId! : input.storeId;
  if (principal.role === 'store_staff' && input.storeId && input.storeId !== storeId) {
    throw new DomainError('forbidden', 'store staff see their own store only');
  }
  return {
    ...input, storeId, from: input.from ? new Date(input.from) : undefined, to: input.to ? new Date(input.to) : undefined,
    minAmount: input.minAmount === undefined ? undefined : BigInt(input.minAmount),
    maxAmount: input.maxAmount === undefined ? undefined : BigInt(input.maxAmount),
  };
}

