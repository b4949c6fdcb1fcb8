// All configuration comes from the environment; every value has a development default so
// `npm start` works on a fresh machine. Production must set the secrets (see README).

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
  /** Fraud limits at the till: code guessing and velocity. */
  fraud: FraudConfig;
}

export interface FraudConfig {
  codeGuessing: {
    /** Failed code attempts (unknown or invalid codes) per terminal and per client address in a window … */
    windowSeconds: number;
    /** … after which each further request is answered that many steps later … */
    slowAfter: number;
    slowStepMs: number;
    /** … and after which the terminal or address is locked for lockSeconds (429 too_many_attempts). */
    lockAfter: number;
    lockSeconds: number;
  };
  /** The scheme's default velocity limits, minor units or counts; null = no limit. Stores override them. */
  velocity: {
    cardRedemptionsPerHour: number | null;
    cardAmountPerHour: number | null;
    cardRedemptionsPerDay: number | null;
    cardAmountPerDay: number | null;
    terminalSoldPerDay: number | null;
    storeSoldPerDay: number | null;
    storeRedeemedPerDay: number | null;
  };
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

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** A limit from the environment: a non-negative integer, or `off` for none. */
function limitFromEnv(name: string, fallback: number | null): number | null {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'off') return null;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer or "off"`);
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
    fraud: {
      codeGuessing: {
        windowSeconds: intFromEnv('CODE_GUESS_WINDOW_SECONDS', 900),
        slowAfter: intFromEnv('CODE_GUESS_SLOW_AFTER', 5),
        slowStepMs: intFromEnv('CODE_GUESS_SLOW_STEP_MS', 500),
        lockAfter: intFromEnv('CODE_GUESS_LOCK_AFTER', 20),
        lockSeconds: intFromEnv('CODE_GUESS_LOCK_SECONDS', 900),
      },
      velocity: {
        cardRedemptionsPerHour: limitFromEnv('VELOCITY_CARD_REDEMPTIONS_PER_HOUR', 10),
        cardAmountPerHour: limitFromEnv('VELOCITY_CARD_AMOUNT_PER_HOUR', 2_500_00),
        cardRedemptionsPerDay: limitFromEnv('VELOCITY_CARD_REDEMPTIONS_PER_DAY', 30),
        cardAmountPerDay: limitFromEnv('VELOCITY_CARD_AMOUNT_PER_DAY', 10_000_00),
        terminalSoldPerDay: limitFromEnv('VELOCITY_TERMINAL_SOLD_PER_DAY', 50_000_00),
        storeSoldPerDay: limitFromEnv('VELOCITY_STORE_SOLD_PER_DAY', null),
        storeRedeemedPerDay: limitFromEnv('VELOCITY_STORE_REDEEMED_PER_DAY', null),
      },
    },
    ...overrides,
  };
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
  }
  return config;
}
