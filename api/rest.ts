// REST routes for every procedure that declares an OpenAPI path. A thin adapter of our own
// (rather than the generator's HTTP handler) so errors use the engine's single error shape
// and the hot path adds nothing but routing, parsing and validation.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AnyProcedure, AnyRouter } from '@trpc/server';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { createRequestContext } from './context.ts';
import type { AppDeps } from './deps.ts';
import { describeError, errorBody } from './errors.ts';

interface RestProcedure {
  path: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  /** The back-office roles it is for; null when it is not a back-office procedure. */
  roles: readonly string[] | null;
}

export function restProcedures(appRouter: AnyRouter): RestProcedure[] {
  const procedures = appRouter._def.procedures as Record<string, AnyProcedure>;
  return Object.entries(procedures).flatMap(([path, procedure]) => {
    const meta = procedure._def.meta as (OpenApiMeta & { roles?: readonly string[] }) | undefined;
    const openapi = meta?.openapi;
    if (!openapi || openapi.enabled === false) return [];
    return [{ path, method: openapi.method, url: openapi.path.replace(/\{(\w+)\}/g, ':$1'), roles: meta.roles ?? null }];
  });
}

export function registerRestRoutes(app: FastifyInstance, appRouter: AnyRouter, deps: AppDeps): void {
  const createCaller = appRouter.createCaller as (ctx: unknown) => Record<string, unknown>;
  for (const route of restProcedures(appRouter)) {
    const segments = route.path.split('.');
    app.route({
      method: route.method,
      url: route.url,
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const params = req.params as Record<string, string>;
        const body = req.body;
        if (route.method !== 'GET' && body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) {
          return reply.code(400).send(errorBody('validation_error', 'the body must be a JSON object', req.id));
        }
        const input = route.method === 'GET'
          ? { ...(req.query as object), ...params }
          : { ...((body as object | undefined) ?? {}), ...params };
        try {
          const ctx = createRequestContext(deps, req.id, req.headers, req.ip);
          let fn: unknown = createCaller(ctx);
          for (const segment of segments) fn = (fn as Record<string, unknown>)[segment];
          const data = await (fn as (input: unknown) => Promise<unknown>)(input);
          return reply.code(200).send(data);
        } catch (err) {
          const { status, body: errBody } = describeError(err, req.id);
          if (status >= 500) req.log.error({ err }, 'procedure failed');
          const retryAfter = (errBody.error.details as { retry_after_seconds?: number } | undefined)?.retry_after_seconds;
          if (retryAfter) reply.header('retry-after', String(retryAfter));
          return reply.code(status).send(errBody);
        }
      },
    });
  }
}
