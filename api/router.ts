import { router } from './trpc.ts';
import { posRouter } from './routers/pos.ts';

export const appRouter = router({
  pos: posRouter,
});

export type AppRouter = typeof appRouter;
