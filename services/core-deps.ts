// The dependencies the API and the worker both build from configuration: the database, the
// balance cache, the ledger, the derived secrets, the payment provider and the personal-data
// cipher. Each process adds its own on top (api/app.ts, infra/worker-app.ts).

import type { Config } from '../infra/config.ts';
import { connectDatabase, type Database } from '../infra/db.ts';
import { cardSecrets, type CardSecrets } from '../domain/card-secrets.ts';
import { PiiCipher } from '../domain/pii-crypto.ts';
import { createBalanceCache, type BalanceCache } from './balance-cache.ts';
import { Ledger } from './ledger.ts';
import { createPaymentProvider, type PaymentProvider } from './payments/index.ts';

export interface CoreDeps {
  config: Config;
  db: Database;
  cache: BalanceCache;
  ledger: Ledger;
  secrets: CardSecrets;
  payments: PaymentProvider;
  /** Seals and opens personal data at rest (PII_KEYS). */
  pii: PiiCipher;
}

export function createCoreDeps(config: Config, log: (msg: string) => void): CoreDeps & { close(): Promise<void> } {
  const db = connectDatabase(config.databaseUrl, { timeouts: config.timeouts });
  const cache = createBalanceCache(config.redisUrl, log);
  return {
    config,
    db,
    cache,
    ledger: new Ledger(db.pool, cache),
    secrets: cardSecrets(config.cardCodeKey),
    payments: createPaymentProvider(config.payments, db.prisma),
    pii: new PiiCipher(config.privacy.piiKeys),
    async close() {
      await cache.close();
      await db.close();
    },
  };
}
