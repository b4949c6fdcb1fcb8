// The id of the request being served, for code that runs without the request at hand: tRPC
// formats errors raised before its context exists (a malformed batch, a wrong method) with no ctx.

import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance } from 'fastify';

const scope = new AsyncLocalStorage<string>();

export function currentRequestId(): string | null {
  return scope.getStore() ?? null;
}

/** Runs the rest of each request (hooks, body parsing, handler) with its id in scope. */
export function scopeRequestIds(app: FastifyInstance): void {
  app.addHook('onRequest', (req, _reply, done) => scope.run(req.id, done));
  // Body parsing may continue outside the scope; enter it again before the handler runs.
  app.addHook('preHandler', (req, _reply, done) => scope.run(req.id, done));
}
