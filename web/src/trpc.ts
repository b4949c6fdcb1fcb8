// The typed tRPC client of the web app. The router's type comes from the API itself (a type-only
// import: nothing of the server ends up in the bundle), so a changed procedure breaks the build
// of the page that calls it instead of failing at run time.

import { createTRPCClient, httpLink } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '../../api/router.ts';

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** Per-call options: `trpc.x.mutate(input, { context: { idempotencyKey } })`. */
export interface CallContext {
  idempotencyKey?: string;
  /** The access token of a Print@Home order (sent as X-Order-Token). */
  orderToken?: string;
}

export function createClient(opts: { apiKey?: () => string | null; csrfToken?: () => string | null } = {}) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: '/trpc',
        headers({ op }) {
          const headers: Record<string, string> = {};
          const key = opts.apiKey?.();
          if (key) headers.authorization = `Bearer ${key}`;
          // The portal's session cookie travels by itself; changes must also carry its CSRF token.
          const csrf = opts.csrfToken?.();
          if (csrf) headers['x-csrf-token'] = csrf;
          const { idempotencyKey, orderToken } = op.context as CallContext;
          if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
          if (orderToken) headers['x-order-token'] = orderToken;
          return headers;
        },
      }),
    ],
  });
}

export type Client = ReturnType<typeof createClient>;

/** A random id for idempotency keys and POS references (crypto.randomUUID needs a secure context). */
export function randomId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
