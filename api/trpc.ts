// The one set of procedures behind both tRPC (web app) and REST (POS, third parties).

import { initTRPC, TRPCError } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import type { Client } from '@temporalio/client';
import { DomainError, ERROR_STATUS, type ErrorCode } from '../domain/errors.ts';
import type { AppDeps } from './deps.ts';
import type { TerminalIdentity } from './terminal-auth.ts';
import { principalOfUser, type BackofficePrincipal, type BackofficeRole } from './backoffice-auth.ts';
import type { SessionCookie } from './context.ts';
import { timingSafeEqual } from 'node:crypto';
import { isDependencyUnavailable } from './unavailable.ts';
import { currentRequestId } from './request-scope.ts';

export interface RequestContext {
  deps: AppDeps;
  requestId: string;
  /** Bearer token as sent; authenticated lazily by the procedures that need it. */
  apiKey: string | null;
  idempotencyKey: string | null;
  /** The client's address (from X-Forwarded-For only when TRUST_PROXY is set). */
  clientIp: string;
  /** X-Order-Token: the access token of a Print@Home order. */
  orderToken: string | null;
  /** Why a request header was refused, if one was. */
  invalidHeader: string | null;
  /** The portal's session cookie, if the request came with one. */
  sessionToken: string | null;
  sessionCookie: SessionCookie | null;
  /** X-CSRF-Token: must match the session's on every mutation made with the cookie. */
  csrfToken: string | null;
  /** Accept-Language: the shop's language when an order names none. */
  acceptLanguage?: string | null;
}

const TRPC_CODE: Record<number, TRPCError['code']> = {
  400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 402: 'PAYMENT_REQUIRED', 403: 'FORBIDDEN', 404: 'NOT_FOUND',
  405: 'METHOD_NOT_SUPPORTED', 408: 'TIMEOUT',
  409: 'CONFLICT', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 422: 'UNPROCESSABLE_CONTENT',
  429: 'TOO_MANY_REQUESTS', 503: 'SERVICE_UNAVAILABLE',
};

export function toTrpcError(err: DomainError): TRPCError {
  return new TRPCError({ code: TRPC_CODE[err.status] ?? 'INTERNAL_SERVER_ERROR', message: err.message, cause: err });
}

/** The stable application code behind any error a procedure raised. */
export function appErrorCode(error: TRPCError): ErrorCode {
  if (error.cause instanceof DomainError) return error.cause.code;
  if (error.code === 'BAD_REQUEST' && error.cause?.name === '$ZodError') return 'validation_error';
  if (error.code === 'PARSE_ERROR') return 'validation_error';
  const byStatus = Object.entries(ERROR_STATUS).find(([, status]) => TRPC_CODE[status] === error.code);
  return (byStatus?.[0] as ErrorCode | undefined) ?? 'internal_error';
}

const t = initTRPC
  .context<RequestContext>()
  .meta<OpenApiMeta & { roles?: readonly string[] }>()
  .create({
    errorFormatter({ shape, error, ctx }) {
      const code = appErrorCode(error);
      return {
        ...shape,
        message: code === 'internal_error' ? 'internal error' : shape.message,
        data: { ...shape.data, stack: undefined, appCode: code, requestId: ctx?.requestId ?? currentRequestId() },
      };
    },
  });

export const router = t.router;

/**
 * Turns thrown DomainErrors into tRPC errors that keep the domain error as their cause, and an
 * unreachable database or Temporal into 503 service_unavailable.
 */
const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof DomainError) {
      (result as { error: TRPCError }).error = toTrpcError(cause);
    } else if (isDependencyUnavailable(cause)) {
      (result as { error: TRPCError }).error = toTrpcError(
        new DomainError('service_unavailable', 'a service the engine depends on is unreachable; retry shortly'));
    }
  }
  return result;
});

export const publicProcedure = t.procedure.use(domainErrors).use(async ({ ctx, next }) => {
  if (ctx.invalidHeader) throw new DomainError('validation_error', ctx.invalidHeader);
  return next();
});

export const terminalProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const terminal: TerminalIdentity | null = ctx.apiKey ? await ctx.deps.terminals.authenticate(ctx.apiKey) : null;
  if (!terminal) {
    throw new DomainError('unauthenticated', ctx.apiKey ? 'the API key is not valid' : 'an API key is required (Authorization: Bearer <key>)');
  }
  return next({ ctx: { ...ctx, terminal } });
});

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Who is calling the back office: an API client by its key, or a portal user by the session
 * cookie. A cookie-borne mutation must also carry the session's CSRF token in X-CSRF-Token (the
 * cookie is SameSite=Strict as well); a session still owing its second factor opens nothing.
 */
export async function backofficePrincipal(ctx: RequestContext, type: string): Promise<BackofficePrincipal> {
  if (ctx.apiKey) {
    const client = await ctx.deps.apiClients.authenticate(ctx.apiKey);
    if (!client) throw new DomainError('unauthenticated', 'the API key is not valid');
    return client;
  }
  const session = await ctx.deps.users.session(ctx.sessionToken);
  if (!session) throw new DomainError('unauthenticated', 'sign in, or send an API key (Authorization: Bearer <key>)');
  if (session.pendingSecondFactor) throw new DomainError('second_factor_required', 'give your second factor first');
  if (type === 'mutation' && !(ctx.csrfToken && sameToken(ctx.csrfToken, session.csrfToken))) {
    throw new DomainError('csrf_token_invalid', 'send the session\'s X-CSRF-Token header with every change');
  }
  return principalOfUser(session.user);
}

/** Procedures for the back office (portal users and API clients); each names the roles it admits. */
export function backofficeProcedure(roles: readonly BackofficeRole[]) {
  return publicProcedure.meta({ roles }).use(async ({ ctx, type, next }) => {
    const principal = await backofficePrincipal(ctx, type);
    if (!roles.includes(principal.role)) {
      throw new DomainError('forbidden', `this is for ${roles.join(' or ')}; you are ${principal.role}`);
    }
    return next({ ctx: { ...ctx, principal } });
  });
}

/** The Temporal client, or 503 while the API is not connected to Temporal. */
export function requireTemporal(ctx: RequestContext): Client {
  if (!ctx.deps.temporal) throw new DomainError('service_unavailable', 'workflow service not connected');
  return ctx.deps.temporal;
}

export function requireIdempotencyKey(ctx: RequestContext): string {
  if (!ctx.idempotencyKey) {
    throw new DomainError('idempotency_key_required', 'this call needs an Idempotency-Key header');
  }
  return ctx.idempotencyKey;
}
