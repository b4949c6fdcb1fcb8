// What request handlers need, created once per process and passed down explicitly.

import type { Config } from '../infra/config.ts';
import type { Database } from '../infra/db.ts';
import type { BalanceCache } from '../services/balance-cache.ts';
import type { Ledger } from '../services/ledger.ts';
import type { TerminalDirectory } from './terminal-auth.ts';
import type { ApiClientDirectory } from './backoffice-auth.ts';
import type { ClearingStore } from '../services/clearing.ts';
import type { UserDirectory } from '../services/users.ts';
import type { Client } from '@temporalio/client';
import type Stripe from 'stripe';
import type { PaymentProvider } from '../services/payments/index.ts';
import type { RateLimiter } from '../services/rate-limit.ts';
import type { CodeGuard } from '../services/fraud-limits.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import type { CardSecrets } from '../domain/card-secrets.ts';

export interface AppDeps {
  config: Config;
  db: Database;
  ledger: Ledger;
  cache: BalanceCache;
  terminals: TerminalDirectory;
  apiClients: ApiClientDirectory;
  users: UserDirectory;
  clearing: ClearingStore;
  secrets: CardSecrets;
  /** Null until connected; procedures that start or signal workflows answer 503 without it. */
  temporal: Client | null;
  payments: PaymentProvider;
  rateLimiter: RateLimiter;
  /** For verifying Stripe webhooks; present whatever the active provider. */
  stripe: Stripe;
  /** Slows and locks terminals and addresses that guess card codes. */
  codeGuard: CodeGuard;
  /** Seals and opens personal data at rest (PII_KEYS). */
  pii: PiiCipher;
}

export { cardSecrets, type CardSecrets } from '../domain/card-secrets.ts';
