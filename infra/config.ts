// All configuration comes from the environment; every value has a development default so
// `npm start` works on a fresh machine. Production must set the secrets (see README).

import { parsePiiKeys } from '../domain/pii-crypto.ts';

export interface Config {
  databaseUrl: string;
  redisUrl: string | null;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  /** Key for the HMAC under which card codes are stored. */
  cardCodeKey: string;
  port: number;
  host: string;
  /** Behind a load balancer: take the client address from X-Forwarded-For. */
  trustProxy: boolean;
  maxCardBalance: bigint;
  cardValidityDays: number;
  /** Hold lifetime when a store sets none; stores normally carry their own. */
  defaultHoldTtlSeconds: number;
  temporalUiUrl: string | null;
  /** How long a repeated Idempotency-Key still returns the first answer. */
  idempotencyRetentionHours: number;
  /** Base URL people reach the API and web app at; used in e-mailed and signed links. */
  publicUrl: string;
  payments: PaymentsConfig;
  mail: MailConfig;
  /** Clearing periods are calendar months in this time zone (the centre's). */
  clearingTimeZone: string;
  shop: ShopConfig;
  privacy: PrivacyConfig;
}

export interface PrivacyConfig {
  /** PII_KEYS: versioned keys that seal personal data at rest; the last one seals new values. */
  piiKeys: string;
  /** A shop order's e-mail address is erased this many days after the order. */
  orderPiiRetentionDays: number;
  /** Orders that expired unpaid are deleted after this many days (Stripe stops retrying webhooks after 3). */
  expiredOrderRetentionDays: number;
}

export interface PaymentsConfig {
  /** 'stripe' when a Stripe key is configured, else the development provider. */
  provider: 'stripe' | 'dev';
  stripeSecretKey: string;
  stripeWebhookSecret: string;
  /** e.g. http://127.0.0.1:12111 for stripe-mock; null = api.stripe.com. */
  stripeApiBase: string | null;
  /** How long a purchase waits for the payment to be confirmed before cancelling it. */
  confirmationTimeoutSeconds: number;
}

export interface MailConfig {
  /** smtp://host:port; null = no SMTP configured (npm start provides a local catcher). */
  smtpUrl: string | null;
  from: string;
}

export interface ShopConfig {
  currency: 'EUR';
  /** Orders one client address may create per minute (needs Redis; unlimited without). */
  ordersPerMinutePerClient: number;
  presets: number[];
  minAmount: number;
  maxAmount: number;
  schemeName: string;
  acceptedAt: string;
}

const DEV_CARD_CODE_KEY = 'dev-only-card-code-key-change-me';
/** Public, so refused in production: with it anyone could open the dump's personal data. */
export const DEV_PII_KEYS = 'dev:ZGV2LW9ubHktcGlpLWtleS1jaGFuZ2UtbWUtMzItYnl0ZXMhIQ==';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

export function loadConfig(overrides: Partial<Config> = {}): Config {
  const env = process.env;
  const config: Config = {
    databaseUrl: env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/voucher',
    redisUrl: env.REDIS_URL === 'off' ? null : (env.REDIS_URL ?? 'redis://127.0.0.1:6379/0'),
    temporalAddress: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    temporalNamespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE ?? 'voucher-engine',
    cardCodeKey: env.CARD_CODE_KEY ?? DEV_CARD_CODE_KEY,
    port: intFromEnv('PORT', 3000),
    host: env.HOST ?? '127.0.0.1',
    trustProxy: env.TRUST_PROXY === '1' || env.TRUST_PROXY === 'true',
    maxCardBalance: BigInt(intFromEnv('MAX_CARD_BALANCE', 250_000_00)),
    cardValidityDays: intFromEnv('CARD_VALIDITY_DAYS', 3 * 365),
    defaultHoldTtlSeconds: intFromEnv('HOLD_TTL_SECONDS', 900),
    temporalUiUrl: env.TEMPORAL_UI_URL ?? null,
    idempotencyRetentionHours: intFromEnv('IDEMPOTENCY_RETENTION_HOURS', 72),
    publicUrl: (env.PUBLIC_URL ?? `http://${env.HOST ?? '127.0.0.1'}:${env.PORT ?? 3000}`).replace(/\/$/, ''),
    payments: {
      provider: (env.PAYMENT_PROVIDER as 'stripe' | 'dev' | undefined) ?? (env.STRIPE_SECRET_KEY ? 'stripe' : 'dev'),
      stripeSecretKey: env.STRIPE_SECRET_KEY ?? 'sk_test_123',
      stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET ?? 'whsec_dev_only',
      stripeApiBase: env.STRIPE_API_BASE ?? null,
      confirmationTimeoutSeconds: intFromEnv('PAYMENT_TIMEOUT_SECONDS', 30 * 60),
    },
    mail: {
      smtpUrl: env.SMTP_URL ?? null,
      from: env.MAIL_FROM ?? 'Centre Vouchers <vouchers@centre.example>',
    },
    clearingTimeZone: env.CLEARING_TIME_ZONE ?? 'Europe/Berlin',
    shop: {
      currency: 'EUR',
      ordersPerMinutePerClient: intFromEnv('SHOP_ORDERS_PER_MINUTE', 10),
      presets: [1_000, 2_500, 5_000, 10_000],
      minAmount: intFromEnv('SHOP_MIN_AMOUNT', 500),
      maxAmount: intFromEnv('SHOP_MAX_AMOUNT', 50_000),
      schemeName: env.SCHEME_NAME ?? 'Centre Gift Voucher',
      acceptedAt: env.SCHEME_ACCEPTED_AT ?? 'all stores of the shopping centre',
    },
    privacy: {
      piiKeys: env.PII_KEYS ?? DEV_PII_KEYS,
      orderPiiRetentionDays: intFromEnv('ORDER_PII_RETENTION_DAYS', 365),
      expiredOrderRetentionDays: intFromEnv('EXPIRED_ORDER_RETENTION_DAYS', 30),
    },
    ...overrides,
  };
  parsePiiKeys(config.privacy.piiKeys);
  if (config.payments.provider !== 'stripe' && config.payments.provider !== 'dev') {
    throw new Error(`PAYMENT_PROVIDER must be "stripe" or "dev", not ${JSON.stringify(config.payments.provider)}`);
  }
  if (config.cardCodeKey.length < 16) throw new Error('CARD_CODE_KEY must be at least 16 characters');
  if (env.NODE_ENV === 'production') {
    // Defaults that are public: with them anyone could derive card codes or forge payment webhooks.
    if (config.cardCodeKey === DEV_CARD_CODE_KEY) throw new Error('CARD_CODE_KEY must be set in production');
    if (config.payments.provider === 'dev') throw new Error('the development payment provider is not for production');
    if (!env.STRIPE_SECRET_KEY || !env.STRIPE_WEBHOOK_SECRET?.startsWith('whsec_') || env.STRIPE_WEBHOOK_SECRET === 'whsec_dev_only') {
      throw new Error('STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (whsec_…) must be set in production');
    }
    // The development key is public: with it anyone could open the personal data in a dump.
    if (config.privacy.piiKeys === DEV_PII_KEYS) throw new Error('PII_KEYS must be set in production');
  }
  return config;
}
