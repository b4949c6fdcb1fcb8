// Assembles the worker process (activities, outbox relay) from configuration, without the API:
// scripts/worker.ts and the tests start it from here.

import type { Client } from '@temporalio/client';
import { workerTaskQueues, webhookTaskQueue, type Config } from './config.ts';
import type { ActivityDeps } from '../activities/index.ts';
import { createCoreDeps, type CoreDeps } from '../services/core-deps.ts';
import { createMailer } from '../services/mailer.ts';
import { startEngineWorker, type EngineWorker, type EngineWorkerOptions } from './worker.ts';

export type WorkerDeps = CoreDeps;

/** What the worker needs; the API's dependencies include all of it (tests run both on one set). */
export function createWorkerDeps(config: Config, log: (msg: string) => void): WorkerDeps & { close(): Promise<void> } {
  return createCoreDeps(config, log);
}

/** What the worker's activities need, from the process-wide dependencies. */
function activityDepsOf(deps: WorkerDeps): ActivityDeps {
  return {
    config: deps.config, prisma: deps.db.prisma, pool: deps.db.pool, ledger: deps.ledger, cache: deps.cache, payments: deps.payments,
    mailer: createMailer(deps.config.mail), secrets: deps.secrets, pii: deps.pii,
  };
}

/**
 * Starts the worker (workflows, activities, outbox and webhook relays) on the queues of its
 * role (WORKER_ROLE); an import-only worker runs no relays.
 */
export function startWorkerFor(
  deps: WorkerDeps, client: Client, options: Pick<EngineWorkerOptions, 'workflowBundle' | 'log' | 'shutdownGraceMs'> = {},
): Promise<EngineWorker> {
  const { config } = deps;
  return startEngineWorker({
    temporalAddress: config.temporalAddress,
    namespace: config.temporalNamespace,
    taskQueues: workerTaskQueues(config),
    relays: config.workerRole === 'import' ? null : { taskQueue: config.taskQueue, webhookTaskQueue: webhookTaskQueue(config) },
    client,
    pool: deps.db.pool,
    activityDeps: activityDepsOf(deps),
    ...options,
  });
}
