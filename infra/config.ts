// All configuration comes from the environment. Development defaults (public secrets, the
// development payment provider, a local database) exist so `npm start` works on a fresh machine,
// and only development asks for them: APP_MODE must say so, otherwise the process runs in
// production mode and refuses to start on any of them (see README, Production mode).

/** development: `npm start` and local tools; test: the test suite; production: everything else. */
export type AppMode = 'development' | 'test' | 'production';

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEnv } from './config-env.ts';
import type { DatevAccounts, TrustProxy } from './config-parsers.ts';
import { ENV_DEFAULTS, type Env } from './config-schema.ts';

export { parseDatevAccounts, parseTrustProxy, type DatevAccounts, type TrustProxy } from './config-parsers.ts';
export { ConfigError, readEnv } from './config-env.ts';

export interface Config {
  mode: AppMode;
  databaseUrl: string;
  redisUrl: string | null;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  /** Key for the HMAC under which card codes are stored. */
  cardCodeKey: string;
  port: number;
  host: string;
  /** Behind a load balancer: which proxies' X-Forwarded-For entries name the client. */
  trustProxy: TrustProxy;
  maxCardBalance: bigint;
  cardValidityDays: number;
  /** Card lifecycle operations (issue #13): four eyes on large adjustments, deactivation policy. */
  cardLifecycle: CardLifecycleConfig;
  /** Hold lifetime when a store sets none; stores normally carry their own. */
  defaultHoldTtlSeconds: number;
  /**
   * How long the outbox relay holds back a redemption's start (ms), so a capture or void that
   * follows within it is delivered with the start as one signal-with-start. 0: start at once.
   */
  outboxStartGraceMs: number;
  /** Which queues a worker process polls: all of them, all but imports, or only imports. */
  workerRole: 'all' | 'engine' | 'import';
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
  timeouts: TimeoutsConfig;
  ops: OpsConfig;
  /** Fraud limits at the till: code guessing and velocity. */
  fraud: FraudConfig;
  privacy: PrivacyConfig;
  webhooks: WebhooksConfig;
  legacyImport: LegacyImportConfig;
  settlement: SettlementConfig;
}

/** Outbound webhooks (README, Outbound webhooks). */
export interface WebhooksConfig {
  /** Loopback and private targets are called: development and test only. */
  allowPrivateAddresses: boolean;
  /** Endpoints must be https: everywhere but development and test. */
  requireHttps: boolean;
  /** Longest one delivery attempt may take, connect to last byte. */
  timeoutMs: number;
  /** First retry after this, doubling each time up to maxRetryDelayMs. */
  retryBaseMs: number;
  maxRetryDelayMs: number;
  /** A delivery is retried this long, and an endpoint failing this long is disabled. */
  retryWindowSeconds: number;
  /** After a secret rotation the old secret keeps signing this long by default. */
  secretOverlapHours: number;
  /**
   * Events whose deliveries have all ended (delivered, failed or cancelled) are deleted with them
   * this many days after the event, by the daily housekeeping. Longer than the retry window.
   */
  eventRetentionDays: number;
}

export interface CardLifecycleConfig {
  /** Adjustments above this amount (minor units) wait for a second back-office user's approval. */
  adjustmentApprovalThreshold: bigint;
  /** How long such an adjustment waits for its approval before it expires. */
  adjustmentApprovalHours: number;
  /** What happens to a deactivated card's remaining value: breakage, or back to its sale's source. */
  deactivationPolicy: 'breakage' | 'refund';
  /** Scratch-card batches: serial numbers start with this prefix. */
  batchSerialPrefix: string;
  /** Digits of a scratch card's activation code. */
  batchActivationCodeDigits: number;
  /** How long a generated batch waits for the system owner's approval before it is cancelled. */
  batchApprovalHours: number;
  /** Days before expiry a Print@Home buyer is reminded (each once per card), e.g. [30, 7]. */
  expiryReminderDays: number[];
}

export interface LegacyImportConfig {
  /** Where import files live (uploads land here; the command line's files are read where they are). */
  dir: string;
  /** Rows staged per chunk: the unit a resumed import continues from. */
  chunkRows: number;
}

export interface SettlementConfig {
  /** ISO20022_SCHEMA_DIR: the official XSDs the SEPA files and bank statements are checked against. */
  iso20022SchemaDir: string;
  /**
   * The centre's own account (debited by credit transfers, credited by direct debits) and its SEPA
   * creditor identifier; null in production until SEPA_CENTRE_* are set (settling is refused then).
   */
  centre: { name: string; iban: string; bic: string; creditorId: string } | null;
  /** SEPA direct-debit scheme of the mandates: CORE, or B2B for business mandates. */
  directDebitScheme: 'CORE' | 'B2B';
  /** Business days after the file is made at which transfers execute and debits are collected. */
  leadDays: number;
  /** SEPA_PAIN_VERSION: `09` (pain.001.001.09, pain.008.001.08) or `03` (pain.001.001.03, pain.008.001.02). */
  painVersion: '09' | '03';
  /** DATEV chart of accounts: the accounts the party statements are booked on. */
  datev: DatevAccounts;
}

export interface PrivacyConfig {
  /** PII_KEYS: versioned keys that seal personal data at rest; the last one seals new values. */
  piiKeys: string;
  /** A shop order's e-mail address is erased this many days after the order. */
  orderPiiRetentionDays: number;
  /** Orders that expired unpaid are deleted after this many days (Stripe stops retrying webhooks after 3). */
  expiredOrderRetentionDays: number;
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

/** How a deployment watches the processes. */
export interface OpsConfig {
  /** The worker's /metrics and /health endpoint (0 = none). */
  workerPort: number;
  /** host:port of the Temporal SDK's Prometheus exporter, merged into the worker's /metrics (null = off). */
  temporalMetricsBind: string | null;
  /** How long SIGTERM waits for in-flight requests (API) or activities (worker) before stopping anyway. */
  shutdownGraceMs: number;
  /** OpenTelemetry traces, from the standard OTEL_* variables; null = no tracing at all. */
  tracing: TracingConfig | null;
}

export interface TracingConfig {
  /** Full OTLP/HTTP traces URL (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces). */
  tracesUrl: string;
  /** OTLP over HTTP with protobuf (the standard's default) or JSON bodies. */
  protocol: 'http/protobuf' | 'http/json';
}

/**
 * Tracing is on only where an OTLP endpoint is configured, as the OpenTelemetry SDKs read it; the
 * other OTEL_* variables (headers, timeout, sampler, batch sizes, service name, resource
 * attributes) are read by the SDK itself. gRPC is not built in: refused rather than ignored.
 */
export function tracingFromEnv(env: Env = readEnv(process.env, { only: TRACING_VARS })): TracingConfig | null {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true' || env.OTEL_TRACES_EXPORTER?.toLowerCase() === 'none') return null;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const tracesUrl = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!tracesUrl) return null;
  return { tracesUrl, protocol: env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL };
}

const TRACING_VARS = ['OTEL_SDK_DISABLED', 'OTEL_TRACES_EXPORTER', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] as const satisfies readonly (keyof Env)[];

/** Every outbound or inbound wait has an end; values in milliseconds, 0 = none. */
export interface TimeoutsConfig {
  /** Opening a PostgreSQL connection (pg Pool connectionTimeoutMillis). */
  dbConnectMs: number;
  /** One SQL statement (PostgreSQL statement_timeout). */
  dbStatementMs: number;
  /** A transaction left open without work (idle_in_transaction_session_timeout). */
  dbIdleInTransactionMs: number;
  /** Receiving a whole HTTP request from a client (Fastify requestTimeout). */
  httpRequestMs: number;
  /** An HTTP connection without any traffic (Fastify connectionTimeout). */
  httpConnectionMs: number;
  /** An idle keep-alive connection (longer than the load balancer's idle timeout). */
  httpKeepAliveMs: number;
  /** A rate-limit check's wait for Redis; past it the request goes through unlimited (fails open). */
  rateLimitRedisMs: number;
}

export interface PaymentsConfig {
  /** 'stripe' when a Stripe key is configured, else the development provider. */
  provider: 'stripe' | 'dev';
  stripeSecretKey: string;
  stripeWebhookSecret: string;
  /** e.g. http://127.0.0.1:12111 for stripe-mock; null = api.stripe.com. */
  stripeApiBase: string | null;
  /** pk_…: the shop page loads Stripe.js with it; null when Stripe is not configured. */
  stripePublishableKey: string | null;
  /** How long a purchase waits for the payment to be confirmed before cancelling it. */
  confirmationTimeoutSeconds: number;
}

export interface MailConfig {
  /** smtp://host:port; null = no SMTP configured (npm start provides a local catcher). */
  smtpUrl: string | null;
  from: string;
  /**
   * Longest wait for the relay at any step (connect, greeting, each reply), in ms. Below the mail
   * activity's timeout, so an attempt is over before Temporal starts the next one.
   */
  timeoutMs?: number;
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

/** The timeouts' defaults (config-schema.ts), for connections made without a loaded configuration. */
export const DEFAULT_TIMEOUTS: TimeoutsConfig = timeoutsFrom(ENV_DEFAULTS);

/** Public, so refused in production: with it anyone could open the dump's personal data. */
export const DEV_PII_KEYS = 'dev:ZGV2LW9ubHktcGlpLWtleS1jaGFuZ2UtbWUtMzItYnl0ZXMhIQ==';

/** Each SMTP wait ends well inside the mail activities' one-minute start-to-close timeout. */
export const DEFAULT_SMTP_TIMEOUT_MS = ENV_DEFAULTS.SMTP_TIMEOUT_MS;

// Development defaults. They are public (they are in this file), so production refuses them.
const DEV_CARD_CODE_KEY = 'dev-only-card-code-key-change-me';
const DEV_WEBHOOK_SECRET = 'whsec_dev_only';
const DEV_STRIPE_KEY = 'sk_test_123';
const DEV_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/voucher';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Public test account data (a well-known example IBAN and creditor id), for development and tests only. */
const DEV_CENTRE = { name: 'Centre Gift Vouchers GmbH', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX', creditorId: 'DE98ZZZ09999999999' };

function settlementFrom(env: Env, mode: AppMode): SettlementConfig {
  const centre = env.SEPA_CENTRE_IBAN
    ? { name: env.SEPA_CENTRE_NAME, iban: env.SEPA_CENTRE_IBAN, bic: env.SEPA_CENTRE_BIC!, creditorId: env.SEPA_CREDITOR_ID! }
    : mode === 'production' ? null : DEV_CENTRE;
  return {
    iso20022SchemaDir: path.resolve(REPO_ROOT, env.ISO20022_SCHEMA_DIR),
    centre, directDebitScheme: env.SEPA_DIRECT_DEBIT_SCHEME, leadDays: env.SEPA_LEAD_DAYS, painVersion: env.SEPA_PAIN_VERSION,
    datev: env.DATEV_ACCOUNTS,
  };
}

/** APP_MODE; unset means production, so forgetting it can never switch on development defaults. */
export function appModeFromEnv(): AppMode {
  return readEnv(process.env, { only: ['APP_MODE'] }).APP_MODE;
}

/** The database alone, for tools that need nothing else (migrations, the ledger check). */
export function databaseUrlFromEnv(): string {
  const url = readEnv(process.env, { only: ['DATABASE_URL'] }).DATABASE_URL;
  if (url) return url;
  if (appModeFromEnv() === 'production') throw new Error('DATABASE_URL must be set in production mode');
  return DEV_DATABASE_URL;
}

/**
 * Purchases run on a task queue of their own: a shopper waiting for the payment form must not
 * queue behind a backlog of till redemptions (seen in the bank test after faults). Every worker
 * polls both queues.
 */
export function shopTaskQueue(config: Pick<Config, 'taskQueue'>): string {
  return `${config.taskQueue}-shop`;
}

/** Webhook deliveries' own queue: a burst of thousands of deliveries never queues ahead of the tills' redemptions. */
export function webhookTaskQueue(config: Pick<Config, 'taskQueue'>): string {
  return `${config.taskQueue}-webhooks`;
}

/** Legacy imports' queue: a large import's parsing and memory can live in a worker of its own. */
export function importTaskQueue(config: Pick<Config, 'taskQueue'>): string {
  return `${config.taskQueue}-import`;
}

/** Every queue the engine's workflows run on. */
export function engineTaskQueues(config: Pick<Config, 'taskQueue'>): string[] {
  return [config.taskQueue, shopTaskQueue(config), webhookTaskQueue(config), importTaskQueue(config)];
}

/** The queues a worker of this role polls (WORKER_ROLE). */
export function workerTaskQueues(config: Pick<Config, 'taskQueue' | 'workerRole'>): string[] {
  if (config.workerRole === 'import') return [importTaskQueue(config)];
  const queues = engineTaskQueues(config);
  return config.workerRole === 'engine' ? queues.filter((q) => q !== importTaskQueue(config)) : queues;
}

function cardLifecycleFrom(env: Env): CardLifecycleConfig {
  return {
    adjustmentApprovalThreshold: BigInt(env.ADJUSTMENT_APPROVAL_THRESHOLD_MINOR),
    adjustmentApprovalHours: env.ADJUSTMENT_APPROVAL_HOURS,
    deactivationPolicy: env.CARD_DEACTIVATION_POLICY,
    batchSerialPrefix: env.CARD_SERIAL_PREFIX,
    batchActivationCodeDigits: env.CARD_ACTIVATION_CODE_DIGITS,
    batchApprovalHours: env.CARD_BATCH_APPROVAL_HOURS,
    expiryReminderDays: env.EXPIRY_REMINDER_DAYS,
  };
}

function paymentsFrom(env: Env): PaymentsConfig {
  return {
    provider: env.PAYMENT_PROVIDER ?? (env.STRIPE_SECRET_KEY ? 'stripe' : 'dev'),
    stripeSecretKey: env.STRIPE_SECRET_KEY ?? DEV_STRIPE_KEY,
    stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET ?? DEV_WEBHOOK_SECRET,
    stripeApiBase: env.STRIPE_API_BASE ?? null,
    stripePublishableKey: env.STRIPE_PUBLISHABLE_KEY ?? null,
    confirmationTimeoutSeconds: env.PAYMENT_TIMEOUT_SECONDS,
  };
}

function shopFrom(env: Env): ShopConfig {
  return {
    currency: 'EUR',
    ordersPerMinutePerClient: env.SHOP_ORDERS_PER_MINUTE,
    presets: [1_000, 2_500, 5_000, 10_000],
    minAmount: env.SHOP_MIN_AMOUNT_MINOR,
    maxAmount: env.SHOP_MAX_AMOUNT_MINOR,
    schemeName: env.SCHEME_NAME,
    acceptedAt: env.SCHEME_ACCEPTED_AT,
  };
}

function timeoutsFrom(env: Env): TimeoutsConfig {
  return {
    dbConnectMs: env.DB_CONNECT_TIMEOUT_MS,
    dbStatementMs: env.DB_STATEMENT_TIMEOUT_MS,
    dbIdleInTransactionMs: env.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    httpRequestMs: env.HTTP_REQUEST_TIMEOUT_MS,
    httpConnectionMs: env.HTTP_CONNECTION_TIMEOUT_MS,
    httpKeepAliveMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    rateLimitRedisMs: env.RATE_LIMIT_REDIS_TIMEOUT_MS,
  };
}

function fraudFrom(env: Env): FraudConfig {
  return {
    codeGuessing: {
      windowSeconds: env.CODE_GUESS_WINDOW_SECONDS,
      slowAfter: env.CODE_GUESS_SLOW_AFTER,
      slowStepMs: env.CODE_GUESS_SLOW_STEP_MS,
      lockAfter: env.CODE_GUESS_LOCK_AFTER,
      lockSeconds: env.CODE_GUESS_LOCK_SECONDS,
    },
    velocity: {
      cardRedemptionsPerHour: env.VELOCITY_CARD_REDEMPTIONS_PER_HOUR,
      cardAmountPerHour: env.VELOCITY_CARD_AMOUNT_PER_HOUR_MINOR,
      cardRedemptionsPerDay: env.VELOCITY_CARD_REDEMPTIONS_PER_DAY,
      cardAmountPerDay: env.VELOCITY_CARD_AMOUNT_PER_DAY_MINOR,
      terminalSoldPerDay: env.VELOCITY_TERMINAL_SOLD_PER_DAY_MINOR,
      storeSoldPerDay: env.VELOCITY_STORE_SOLD_PER_DAY_MINOR,
      storeRedeemedPerDay: env.VELOCITY_STORE_REDEEMED_PER_DAY_MINOR,
    },
  };
}

function webhooksFrom(env: Env, mode: AppMode): WebhooksConfig {
  return {
    allowPrivateAddresses: mode !== 'production',
    requireHttps: mode === 'production',
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
    retryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
    maxRetryDelayMs: env.WEBHOOK_MAX_RETRY_DELAY_MS,
    retryWindowSeconds: env.WEBHOOK_RETRY_WINDOW_SECONDS,
    secretOverlapHours: env.WEBHOOK_SECRET_OVERLAP_HOURS,
    eventRetentionDays: env.WEBHOOK_EVENT_RETENTION_DAYS,
  };
}

/** Services, listening and the shape of the scheme: everything that is not a section of its own. */
function baseFrom(env: Env, mode: AppMode) {
  return {
    mode,
    databaseUrl: env.DATABASE_URL ?? DEV_DATABASE_URL,
    redisUrl: env.REDIS_URL === 'off' ? null : env.REDIS_URL,
    temporalAddress: env.TEMPORAL_ADDRESS,
    temporalNamespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    cardCodeKey: env.CARD_CODE_KEY ?? DEV_CARD_CODE_KEY,
    port: env.PORT,
    host: env.HOST,
    trustProxy: env.TRUST_PROXY,
    maxCardBalance: BigInt(env.MAX_CARD_BALANCE_MINOR),
    cardValidityDays: env.CARD_VALIDITY_DAYS,
    defaultHoldTtlSeconds: env.HOLD_TTL_SECONDS,
    outboxStartGraceMs: env.OUTBOX_START_GRACE_MS,
    workerRole: env.WORKER_ROLE,
    temporalUiUrl: env.TEMPORAL_UI_URL ?? null,
    idempotencyRetentionHours: env.IDEMPOTENCY_RETENTION_HOURS,
    publicUrl: (env.PUBLIC_URL ?? `http://${env.HOST}:${env.PORT}`).replace(/\/$/, ''),
    clearingTimeZone: env.CLEARING_TIME_ZONE,
  };
}

/**
 * The configuration from the environment, validated as a whole first (config-env.ts: every
 * malformed or unknown variable is named in one error), then `overrides` (tests) on top.
 */
export function loadConfig(overrides: Partial<Config> = {}): Config {
  const env = readEnv(process.env);
  const mode = overrides.mode ?? env.APP_MODE;
  const config: Config = {
    ...baseFrom(env, mode),
    cardLifecycle: cardLifecycleFrom(env),
    payments: paymentsFrom(env),
    mail: { smtpUrl: env.SMTP_URL ?? null, from: env.MAIL_FROM, timeoutMs: env.SMTP_TIMEOUT_MS },
    legacyImport: { dir: env.IMPORT_DIR, chunkRows: env.IMPORT_CHUNK_ROWS },
    shop: shopFrom(env),
    timeouts: timeoutsFrom(env),
    ops: { workerPort: env.WORKER_OPS_PORT, temporalMetricsBind: env.TEMPORAL_METRICS_BIND ?? null, shutdownGraceMs: env.SHUTDOWN_GRACE_MS, tracing: tracingFromEnv(env) },
    fraud: fraudFrom(env),
    privacy: { piiKeys: env.PII_KEYS ?? DEV_PII_KEYS, orderPiiRetentionDays: env.ORDER_PII_RETENTION_DAYS, expiredOrderRetentionDays: env.EXPIRED_ORDER_RETENTION_DAYS },
    webhooks: webhooksFrom(env, mode),
    settlement: settlementFrom(env, mode),
    ...overrides,
  };
  assertNoPublicSecrets(config, { publicUrlSet: Boolean(env.PUBLIC_URL || overrides.publicUrl) });
  return config;
}

/**
 * Refuses configurations whose secrets are public. A Stripe account needs its own webhook secret
 * in every mode: with the development one anyone could sign `payment_intent.succeeded` for their
 * own order and get a voucher for free. Production refuses every development default: with the
 * card-code key anyone could derive card codes, order tokens, download links and TOTP seals.
 */
export function assertNoPublicSecrets(config: Config, { publicUrlSet = true } = {}): void {
  const { payments } = config;
  if (payments.provider === 'stripe' && (payments.stripeWebhookSecret === DEV_WEBHOOK_SECRET || !payments.stripeWebhookSecret.startsWith('whsec_'))) {
    throw new Error('STRIPE_WEBHOOK_SECRET (whsec_…, the signing secret of the webhook endpoint) must be set with a Stripe key');
  }
  if (config.mode !== 'production') return;
  const refused: string[] = [];
  if (config.cardCodeKey === DEV_CARD_CODE_KEY) refused.push('CARD_CODE_KEY is the development key');
  if (payments.provider === 'dev') refused.push('the development payment provider (set PAYMENT_PROVIDER=stripe and STRIPE_SECRET_KEY)');
  if (payments.provider === 'stripe' && payments.stripeSecretKey === DEV_STRIPE_KEY) refused.push('STRIPE_SECRET_KEY is the development key');
  if (config.databaseUrl === DEV_DATABASE_URL) refused.push('DATABASE_URL is the development database');
  if (config.privacy.piiKeys === DEV_PII_KEYS) refused.push('PII_KEYS is the development key (personal data in a dump could be opened)');
  // Mailed voucher links would point at this machine's loopback address.
  if (!publicUrlSet) refused.push('PUBLIC_URL (where shoppers reach the API) is unset');
  if (refused.length > 0) {
    throw new Error(`production mode refuses development defaults: ${refused.join('; ')}. `
      + 'Set them (README, Production mode), or run with APP_MODE=development on a development machine.');
  }
}
