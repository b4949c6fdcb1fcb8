import { router } from './trpc.ts';
import { posRouter } from './routers/pos.ts';
import { shopRouter } from './routers/shop.ts';

export const appRouter = router({
  pos: posRouter,
  shop: shopRouter,
});

export type AppRouter = typeof appRouter;
