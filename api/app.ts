// Wires the process-wide dependencies of the API from configuration.

import { loadConfig, type Config } from '../infra/config.ts';
import { createCoreDeps } from '../services/core-deps.ts';
import type { AppDeps } from './deps.ts';
import { TerminalDirectory } from './terminal-auth.ts';
import { ApiClientDirectory } from './backoffice-auth.ts';
import { KeyChangeListener } from '../infra/key-changes.ts';
import { ClearingStore } from '../services/clearing.ts';
import { UserDirectory } from '../services/users.ts';
import type { Client } from '@temporalio/client';
import { createStripeClient } from '../services/payments/stripe.ts';
import { createRateLimiter } from '../services/rate-limit.ts';
import { createCodeGuard } from '../services/fraud-limits.ts';

export function createDeps(
  config: Config = loadConfig(), log: (msg: string) => void = console.log, temporal: Client | null = null,
): AppDeps & { close(): Promise<void> } {
  const core = createCoreDeps(config, log);
  const { db, secrets, pii } = core;
  const rateLimiter = createRateLimiter(config.redisUrl, config.timeouts.rateLimitRedisMs);
  const keyChanges = new KeyChangeListener(config.databaseUrl);
  const codeGuard = createCodeGuard(db.pool, config.redisUrl, config.fraud.codeGuessing);
  return {
    ...core,
    terminals: new TerminalDirectory(db.pool, keyChanges),
    apiClients: new ApiClientDirectory(db.pool, keyChanges),
    clearing: new ClearingStore(db.pool, config.clearingTimeZone),
    users: new UserDirectory(db.pool, secrets.totpKey, config.shop.schemeName, pii),
    temporal,
    rateLimiter,
    stripe: createStripeClient(config.payments),
    codeGuard,
    async close() {
      await keyChanges.close();
      await codeGuard.close();
      await rateLimiter.close();
      await core.close();
    },
  };
}
