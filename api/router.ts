import { router } from './trpc.ts';
import { posRouter } from './routers/pos.ts';
import { shopRouter } from './routers/shop.ts';
import { clearingRouter, reportsRouter } from './routers/clearing.ts';
import { authRouter } from './routers/auth.ts';
import { usersRouter } from './routers/users.ts';
import { transactionsRouter } from './routers/transactions.ts';
import { supportRouter } from './routers/support.ts';
import { dashboardRouter } from './routers/dashboard.ts';
import { adminRouter } from './routers/admin.ts';
import { cardsRouter } from './routers/cards.ts';
import { cardBatchesRouter } from './routers/card-batches.ts';
import { webhooksRouter } from './routers/webhooks.ts';
import { importsRouter } from './routers/imports.ts';
import { settlementRouter } from './routers/settlement.ts';

export const appRouter = router({
  pos: posRouter,
  shop: shopRouter,
  clearing: clearingRouter,
  reports: reportsRouter,
  auth: authRouter,
  users: usersRouter,
  transactions: transactionsRouter,
  support: supportRouter,
  dashboard: dashboardRouter,
  admin: adminRouter,
  cards: cardsRouter,
  cardBatches: cardBatchesRouter,
  webhooks: webhooksRouter,
  imports: importsRouter,
  settlement: settlementRouter,
});

export type AppRouter = typeof appRouter;
