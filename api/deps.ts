// What request handlers need, created once per process and passed down explicitly.

import { createHmac } from 'node:crypto';
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

/** One key per purpose, all derived from the one configured secret. */
export interface CardSecrets {
  /** Card codes are stored only as an HMAC under this key. */
  hashKey: Buffer;
  /** Card codes of sales and orders are derived under this key. */
  deriveKey: Buffer;
  /** An order's access token (given only to its creator) is an HMAC under this key. */
  orderKey: Buffer;
  /** Voucher download links are signed with this key. */
  downloadKey: Buffer;
  /** Users' TOTP secrets are sealed with this key. */
  totpKey: Buffer;
}

export function cardSecrets(master: string): CardSecrets {
  const sub = (label: string) => createHmac('sha256', master).update(label).digest();
  return {
    hashKey: sub('card-code-hash/v1'), deriveKey: sub('card-code-derive/v1'),
    orderKey: sub('order-access/v1'), downloadKey: sub('voucher-download/v1'), totpKey: sub('totp-seal/v1'),
  };
}
