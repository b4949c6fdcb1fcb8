// Wires the process-wide dependencies of the API from configuration.

import { loadConfig, type Config } from '../infra/config.ts';
import { connectDatabase } from '../infra/db.ts';
import { createBalanceCache } from '../services/balance-cache.ts';
import { Ledger } from '../services/ledger.ts';
import { cardSecrets, type AppDeps } from './deps.ts';
import { TerminalDirectory } from './terminal-auth.ts';
import type { Client } from '@temporalio/client';
import { createPaymentProvider } from '../services/payments/index.ts';
import { createStripeClient } from '../services/payments/stripe.ts';

export function createDeps(
  config: Config = loadConfig(), log: (msg: string) => void = console.log, temporal: Client | null = null,
): AppDeps & { close(): Promise<void> } {
  const db = connectDatabase(config.databaseUrl);
  const cache = createBalanceCache(config.redisUrl, log);
  return {
    config,
    db,
    cache,
    ledger: new Ledger(db.pool),
    terminals: new TerminalDirectory(db.pool),
    secrets: cardSecrets(config.cardCodeKey),
    temporal,
    payments: createPaymentProvider(config.payments),
    stripe: createStripeClient(config.payments),
    async close() {
      await cache.close();
      await db.close();
    },
  };
}
