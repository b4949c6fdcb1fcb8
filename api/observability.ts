// What operators and the platform read from an API process: request metrics per route, the
// Prometheus endpoint, and liveness/readiness for the load balancer and Kubernetes probes.

import type { FastifyInstance } from 'fastify';
import { pingPostgres, readiness, type DependencyCheck } from '../infra/health.ts';
import { httpDuration, httpRequests, registry } from '../infra/metrics.ts';
import type { AppDeps } from './deps.ts';

export function apiDependencyChecks(deps: AppDeps): Record<string, DependencyCheck> {
  return {
    // Every till call needs the ledger: without PostgreSQL the API takes no traffic.
    postgres: { required: true, check: () => pingPostgres(deps.db.pool) },
    // Balances are read from PostgreSQL when the cache is down.
    redis: { required: false, check: () => deps.cache.ping() },
    // Tills authorize and capture without Temporal (the outbox keeps the workflow work).
    temporal: {
      required: false,
      check: async () => {
        const client = deps.temporal;
        if (!client) throw new Error('not connected');
        await client.connection.withDeadline(Date.now() + 1_000, () => client.connection.workflowService.getSystemInfo({}));
      },
    },
  };
}

export function registerObservability(app: FastifyInstance, deps: AppDeps, isDraining: () => boolean = () => false): void {
  app.addHook('onResponse', async (req, reply) => {
    // The route's pattern, not its URL: ids in paths would make a series per card.
    const route = req.routeOptions.url ?? 'unmatched';
    httpRequests.inc({ route, method: req.method, status: String(reply.statusCode) });
    httpDuration.observe({ route, method: req.method }, reply.elapsedTime / 1000);
    // The path without its query string: signed links carry their signature there.
    req.log.info({
      route, method: req.method, path: req.url.split('?')[0], status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10, ip: req.ip,
    }, 'request');
  });

  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  app.get('/health/live', async () => ({ status: 'live' }));
  app.get('/health/ready', async (_req, reply) => {
    if (isDraining()) return reply.code(503).send({ status: 'draining', checks: {} });
    const result = await readiness(apiDependencyChecks(deps));
    return reply.code(result.status === 'ready' ? 200 : 503).send(result);
  });
}
