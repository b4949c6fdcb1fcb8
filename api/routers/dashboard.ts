// Dashboard and counter figures for the portal, per currency. Store staff see their store's figures only.

import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { billingPartyNames, storeNames } from '../../services/directory.ts';
import { counterFigures, dailyFigures, type StatsFilter } from '../../services/stats.ts';
import type { BackofficePrincipal } from '../backoffice-auth.ts';
import { daySchema } from '../schemas.ts';
import { backofficeProcedure, router } from '../trpc.ts';

const VIEWERS = ['admin', 'finance', 'support', 'store_staff'] as const;
const filterInput = z.object({ from: daySchema, to: daySchema, storeId: z.uuid().optional(), billingPartyId: z.uuid().optional() }).strict();

function scoped(principal: BackofficePrincipal, input: z.infer<typeof filterInput>): StatsFilter {
  const days = (Date.parse(input.to) - Date.parse(input.from)) / 86_400_000;
  if (Number.isNaN(days) || days < 0) throw new DomainError('validation_error', '"from" must be a real day on or before "to"');
  if (days > 366) throw new DomainError('validation_error', 'at most a year at a time');
  if (principal.role === 'store_staff') {
    if (input.storeId && input.storeId !== principal.storeId) throw new DomainError('forbidden', 'store staff see their own store only');
    return { ...input, storeId: principal.storeId!, billingPartyId: undefined };
  }
  return input;
}

export const dashboardRouter = router({
  /** What the caller may filter by: billing parties and stores by name (store staff: their own). */
  scopes: backofficeProcedure(VIEWERS)
    .input(z.object({}).strict().optional())
    .output(z.object({
      parties: z.array(z.object({ id: z.string(), name: z.string() })),
      stores: z.array(z.object({ id: z.string(), name: z.string(), billingPartyId: z.string() })),
    }))
    .query(async ({ ctx }) => {
      const { prisma } = ctx.deps.db;
      const own = ctx.principal.role === 'store_staff';
      const stores = await storeNames(prisma, own ? ctx.principal.storeId! : null);
      const parties = own ? [] : await billingPartyNames(prisma);
      return { parties, stores };
    }),

  daily: backofficeProcedure(VIEWERS)
    .input(filterInput)
    .output(z.object({ days: z.array(z.object({
      day: z.string(), currency: z.string(), sales: z.number().int(), salesCount: z.number().int(),
      redemptions: z.number().int(), redemptionsCount: z.number().int(), refunds: z.number().int(), refundsCount: z.number().int(),
      outstandingAtEnd: z.number().int(),
    })) }))
    .query(async ({ ctx, input }) => {
      const days = await dailyFigures(ctx.deps.db.pool, ctx.deps.config.clearingTimeZone, scoped(ctx.principal, input), ctx.deps.config.shop.currency);
      return { days: days.map((d) => ({ ...d, sales: Number(d.sales), redemptions: Number(d.redemptions), refunds: Number(d.refunds), outstandingAtEnd: Number(d.outstandingAtEnd) })) };
    }),

  counter: backofficeProcedure(VIEWERS)
    .input(filterInput)
    .output(z.object({
      byChannel: z.array(z.object({ currency: z.string(), channel: z.string(), count: z.number().int(), sum: z.number().int(), average: z.number().int() })),
      byHour: z.array(z.object({ currency: z.string(), hour: z.number().int(), sales: z.number().int(), redemptions: z.number().int(), redeemed: z.number().int() })),
    }))
    .query(async ({ ctx, input }) => {
      const c = await counterFigures(ctx.deps.db.pool, ctx.deps.config.clearingTimeZone, scoped(ctx.principal, input));
      return {
        byChannel: c.byChannel.map((x) => ({ ...x, sum: Number(x.sum), average: Number(x.average) })),
        byHour: c.byHour.map((x) => ({ ...x, redeemed: Number(x.redeemed) })),
      };
    }),
});
