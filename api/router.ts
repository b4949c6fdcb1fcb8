import { router } from './trpc.ts';
import { posRouter } from './routers/pos.ts';
import { shopRouter } from './routers/shop.ts';
import { clearingRouter, reportsRouter } from './routers/clearing.ts';

export const appRouter = router({
  pos: posRouter,
  shop: shopRouter,
  clearing: clearingRouter,
  reports: reportsRouter,
});

export type AppRouter = typeof appRouter;
