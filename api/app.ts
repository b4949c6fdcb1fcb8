// Wires the process-wide dependencies of the API from configuration.

import { loadConfig, shopTaskQueue, type Config } from '../infra/config.ts';
import { connectDatabase } from '../infra/db.ts';
import { createBalanceCache } from '../services/balance-cache.ts';
import { Ledger } from '../services/ledger.ts';
import { cardSecrets, type AppDeps } from './deps.ts';
import { TerminalDirectory } from './terminal-auth.ts';
import { ApiClientDirectory } from './backoffice-auth.ts';
import { KeyChangeListener } from './key-changes.ts';
import { ClearingStore } from '../services/clearing.ts';
import { UserDirectory } from '../services/users.ts';
import type { Client } from '@temporalio/client';
import { createPaymentProvider } from '../services/payments/index.ts';
import { createStripeClient } from '../services/payments/stripe.ts';
import { createMailer } from '../services/mailer.ts';
import { createRateLimiter } from '../services/rate-limit.ts';
import { createCodeGuard } from '../services/fraud-limits.ts';
import { PiiCipher } from '../domain/pii-crypto.ts';
import type { ActivityDeps } from '../activities/index.ts';
import { startEngineWorker, type EngineWorker, type EngineWorkerOptions } from '../infra/worker.ts';

export function createDeps(
  config: Config = loadConfig(), log: (msg: string) => void = console.log, temporal: Client | null = null,
): AppDeps & { close(): Promise<void> } {
  const db = connectDatabase(config.databaseUrl, { timeouts: config.timeouts });
  const cache = createBalanceCache(config.redisUrl, log);
  const rateLimiter = createRateLimiter(config.redisUrl);
  const secrets = cardSecrets(config.cardCodeKey);
  const keyChanges = new KeyChangeListener(config.databaseUrl);
  const codeGuard = createCodeGuard(db.pool, config.redisUrl, config.fraud.codeGuessing);
  const pii = new PiiCipher(config.privacy.piiKeys);
  return {
    config,
    db,
    cache,
    ledger: new Ledger(db.pool),
    terminals: new TerminalDirectory(db.pool, keyChanges),
    apiClients: new ApiClientDirectory(db.pool, keyChanges),
    clearing: new ClearingStore(db.pool, config.clearingTimeZone),
    users: new UserDirectory(db.pool, secrets.totpKey, config.shop.schemeName, pii),
    secrets,
    temporal,
    payments: createPaymentProvider(config.payments, db.prisma),
    rateLimiter,
    stripe: createStripeClient(config.payments),
    codeGuard,
    pii,
    async close() {
      await keyChanges.close();
      await codeGuard.close();
      await cache.close();
      await rateLimiter.close();
      await db.close();
    },
  };
}

/** What the worker's activities need, from the same process-wide dependencies. */
function activityDepsOf(deps: AppDeps): ActivityDeps {
  return {
    config: deps.config, prisma: deps.db.prisma, pool: deps.db.pool, ledger: deps.ledger, cache: deps.cache, payments: deps.payments,
    mailer: createMailer(deps.config.mail), secrets: deps.secrets, pii: deps.pii,
  };
}

/** Starts the worker (workflows, activities, outbox relay) on the configured task queue. */
export function startWorkerFor(
  deps: AppDeps, client: Client, options: Pick<EngineWorkerOptions, 'workflowBundle' | 'log' | 'shutdownGraceMs'> = {},
): Promise<EngineWorker> {
  const { config } = deps;
  return startEngineWorker({
    temporalAddress: config.temporalAddress,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    shopTaskQueue: shopTaskQueue(config),
    client,
    pool: deps.db.pool,
    activityDeps: activityDepsOf(deps),
    ...options,
  });
}
