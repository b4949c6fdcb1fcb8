// All configuration comes from the environment. Development defaults (public secrets, the
// development payment provider, a local database) exist so `npm start` works on a fresh machine,
// and only development asks for them: APP_MODE must say so, otherwise the process runs in
// production mode and refuses to start on any of them (see README, Production mode).

/** development: `npm start` and local tools; test: the test suite; production: everything else. */
export type AppMode = 'development' | 'test' | 'production';

/**
 * Whom to believe about the client's address: nobody (false), the nearest N proxies (a hop
 * count), or proxies at these addresses/CIDRs. Never "anyone": that lets a client choose its own
 * address with X-Forwarded-For and walk around per-address limits.
 */
export type TrustProxy = false | number | string[];

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePiiKeys } from '../domain/pii-crypto.ts';
import { normaliseBic, normaliseCreditorId, normaliseIban } from '../domain/sepa.ts';

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
  /** DATEV chart of accounts: the accounts the party statements are booked on. */
  datev: DatevAccounts;
}

export interface DatevAccounts {
  /** Clearing account of the voucher scheme (vouchers sold are a liability until redeemed). */
  voucherClearing: string;
  /** Contra account per billing party: its debtor/creditor account, else this default. */
  partyDefault: string;
  /** Per party id: its own DATEV personal account. */
  parties: Record<string, string>;
  /** DATEV consultant and client numbers of the centre's bookkeeping. */
  consultant: string;
  client: string;
  /** First month of the fiscal year (1-12). */
  fiscalYearStartMonth: number;
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
export function tracingFromEnv(): TracingConfig | null {
  if (fromEnv('OTEL_SDK_DISABLED')?.toLowerCase() === 'true' || fromEnv('OTEL_TRACES_EXPORTER')?.toLowerCase() === 'none') return null;
  const base = fromEnv('OTEL_EXPORTER_OTLP_ENDPOINT');
  const tracesUrl = fromEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!tracesUrl) return null;
  if (!/^https?:\/\//.test(tracesUrl)) throw new Error('OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL');
  const protocol = fromEnv('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? fromEnv('OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: use http/protobuf or http/json`);
  }
  return { tracesUrl, protocol };
}

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

export const DEFAULT_TIMEOUTS: TimeoutsConfig = {
  dbConnectMs: 5_000,
  // Clearing a month of a million redemptions takes seconds, not a minute.
  dbStatementMs: 60_000,
  dbIdleInTransactionMs: 60_000,
  httpRequestMs: 30_000,
  // Longer than the longest answer that sends nothing meanwhile (a support cancel waits ~30 s).
  httpConnectionMs: 120_000,
  // Above the usual 60 s idle timeout of load balancers, so they, not we, close idle connections.
  httpKeepAliveMs: 65_000,
};

/** Public, so refused in production: with it anyone could open the dump's personal data. */
export const DEV_PII_KEYS = 'dev:ZGV2LW9ubHktcGlpLWtleS1jaGFuZ2UtbWUtMzItYnl0ZXMhIQ==';

/** Each SMTP wait ends well inside the mail activities' one-minute start-to-close timeout. */
export const DEFAULT_SMTP_TIMEOUT_MS = 15_000;

// Development defaults. They are public (they are in this file), so production refuses them.
const DEV_CARD_CODE_KEY = 'dev-only-card-code-key-change-me';
const DEV_WEBHOOK_SECRET = 'whsec_dev_only';
const DEV_STRIPE_KEY = 'sk_test_123';
const DEV_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/voucher';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Public test account data (a well-known example IBAN and creditor id), for development and tests only. */
const DEV_CENTRE = { name: 'Centre Gift Vouchers GmbH', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX', creditorId: 'DE98ZZZ09999999999' };

/** DATEV_ACCOUNTS: `voucherClearing=1590,partyDefault=1600,party:<uuid>=70001,…` (all optional). */
export function parseDatevAccounts(raw: string | undefined): DatevAccounts {
  const accounts: DatevAccounts = { voucherClearing: '1590', partyDefault: '1600', parties: {}, consultant: '1001', client: '1', fiscalYearStartMonth: 1 };
  for (const part of (raw ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^(voucherClearing|partyDefault|consultant|client|fiscalYearStartMonth|party:[0-9a-f-]{36})=(\d{1,9})$/.exec(part);
    if (!m) throw new Error(`DATEV_ACCOUNTS: ${JSON.stringify(part)} is not name=digits (voucherClearing, partyDefault, consultant, client, fiscalYearStartMonth, party:<uuid>)`);
    const [, key, value] = m;
    if (key!.startsWith('party:')) accounts.parties[key!.slice('party:'.length)] = value!;
    else if (key === 'fiscalYearStartMonth') accounts.fiscalYearStartMonth = Number(value);
    else (accounts as unknown as Record<string, string>)[key!] = value!;
  }
  if (accounts.fiscalYearStartMonth < 1 || accounts.fiscalYearStartMonth > 12) throw new Error('DATEV_ACCOUNTS: fiscalYearStartMonth is 1-12');
  return accounts;
}

/** The centre's account as configured; refuses to start with a bad IBAN, BIC or creditor id. */
function centreFromEnv(iban: string): NonNullable<SettlementConfig['centre']> {
  try {
    return {
      name: fromEnv('SEPA_CENTRE_NAME') ?? 'Shopping centre', iban: normaliseIban(iban),
      bic: normaliseBic(fromEnv('SEPA_CENTRE_BIC') ?? ''), creditorId: normaliseCreditorId(fromEnv('SEPA_CREDITOR_ID') ?? ''),
    };
  } catch (err) {
    throw new Error(`SEPA_CENTRE_IBAN, SEPA_CENTRE_BIC, SEPA_CREDITOR_ID: ${(err as Error).message}`);
  }
}

function settlementFromEnv(mode: AppMode): SettlementConfig {
  const iban = fromEnv('SEPA_CENTRE_IBAN');
  const centre = iban
    ? centreFromEnv(iban)
    : mode === 'production' ? null : DEV_CENTRE;
  const scheme = fromEnv('SEPA_DIRECT_DEBIT_SCHEME') ?? 'CORE';
  if (scheme !== 'CORE' && scheme !== 'B2B') throw new Error('SEPA_DIRECT_DEBIT_SCHEME must be CORE or B2B');
  return {
    iso20022SchemaDir: path.resolve(REPO_ROOT, fromEnv('ISO20022_SCHEMA_DIR') ?? '../shared/iso20022'),
    centre, directDebitScheme: scheme, leadDays: intFromEnv('SEPA_LEAD_DAYS', 2),
    datev: parseDatevAccounts(fromEnv('DATEV_ACCOUNTS')),
  };
}

const MODES: readonly AppMode[] = ['development', 'test', 'production'];

/** An unset or empty variable is "not configured" (compose passes `${VAR:-}` as ''). */
function fromEnv(name: string): string | undefined {
  const raw = process.env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function intFromEnv(name: string, fallback: number, { allowZero = false } = {}): number {
  const raw = fromEnv(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0 || (value === 0 && !allowZero)) {
    throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer`);
  }
  return value;
}

/** APP_MODE; unset means production, so forgetting it can never switch on development defaults. */
export function appModeFromEnv(): AppMode {
  const raw = fromEnv('APP_MODE') ?? 'production';
  if (!MODES.includes(raw as AppMode)) throw new Error(`APP_MODE must be one of ${MODES.join(', ')}, not ${JSON.stringify(raw)}`);
  return raw as AppMode;
}

/** The database alone, for tools that need nothing else (migrations, the ledger check). */
export function databaseUrlFromEnv(): string {
  const url = fromEnv('DATABASE_URL');
  if (url) return url;
  if (appModeFromEnv() === 'production') throw new Error('DATABASE_URL must be set in production mode');
  return DEV_DATABASE_URL;
}

/**
 * TRUST_PROXY: unset/0/false = off; a number = that many proxies in front of the API (the client
 * is the address the outermost of them saw); otherwise a comma-separated list of proxy addresses
 * or CIDRs. `true` (trust every sender) is refused.
 */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  if (raw === undefined || raw === '0' || raw.toLowerCase() === 'false' || raw.toLowerCase() === 'off') return false;
  if (/^\d+$/.test(raw)) return Number(raw);
  if (raw.toLowerCase() === 'true') {
    throw new Error('TRUST_PROXY=true would believe any X-Forwarded-For; give the number of proxies in front of the API, or their addresses/CIDRs');
  }
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const address = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)(\/\d{1,3})?$/i;
  const bad = list.find((entry) => !address.test(entry));
  if (bad !== undefined || list.length === 0) {
    throw new Error(`TRUST_PROXY must be a number of proxies or a comma-separated list of addresses/CIDRs; ${JSON.stringify(bad ?? raw)} is neither`);
  }
  return list;
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

/**
 * Purchases run on a task queue of their own: a shopper waiting for the payment form must not
 * queue behind a backlog of till redemptions (seen in the bank test after faults). Every worker
 * polls both queues.
 */
export function shopTaskQueue(config: Pick<Config, 'taskQueue'>): string {
  return `${config.taskQueue}-shop`;
}

function reminderDaysFromEnv(raw: string | undefined): number[] {
  if (raw === undefined) return [30, 7];
  if (raw === 'off' || raw === '') return [];
  const days = raw.split(',').map((d) => Number(d.trim()));
  if (days.some((d) => !Number.isInteger(d) || d < 1 || d > 365)) throw new Error('EXPIRY_REMINDER_DAYS must be a comma-separated list of days (1-365), or "off"');
  return [...new Set(days)].sort((a, b) => b - a);
}

function serialPrefixFromEnv(raw: string | undefined): string {
  if (raw === undefined) return 'SC';
  if (!/^[A-Z0-9]{0,8}$/.test(raw)) throw new Error('CARD_SERIAL_PREFIX must be up to 8 capital letters or digits');
  return raw;
}

function deactivationPolicyFromEnv(raw: string | undefined): 'breakage' | 'refund' {
  if (raw === undefined || raw === 'breakage' || raw === 'refund') return raw ?? 'breakage';
  throw new Error('CARD_DEACTIVATION_POLICY must be "breakage" or "refund"');
}

export function loadConfig(overrides: Partial<Config> = {}): Config {
  const env = process.env;
  const mode = overrides.mode ?? appModeFromEnv();
  const stripeSecretKey = fromEnv('STRIPE_SECRET_KEY');
  const config: Config = {
    mode,
    databaseUrl: fromEnv('DATABASE_URL') ?? DEV_DATABASE_URL,
    redisUrl: env.REDIS_URL === 'off' ? null : (env.REDIS_URL ?? 'redis://127.0.0.1:6379/0'),
    temporalAddress: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
    temporalNamespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE ?? 'voucher-engine',
    cardCodeKey: fromEnv('CARD_CODE_KEY') ?? DEV_CARD_CODE_KEY,
    port: intFromEnv('PORT', 3000),
    host: env.HOST ?? '127.0.0.1',
    trustProxy: parseTrustProxy(fromEnv('TRUST_PROXY')),
    maxCardBalance: BigInt(intFromEnv('MAX_CARD_BALANCE', 250_000_00)),
    cardValidityDays: intFromEnv('CARD_VALIDITY_DAYS', 3 * 365),
    cardLifecycle: cardLifecycleFromEnv(),
    defaultHoldTtlSeconds: intFromEnv('HOLD_TTL_SECONDS', 900),
    temporalUiUrl: env.TEMPORAL_UI_URL ?? null,
    idempotencyRetentionHours: intFromEnv('IDEMPOTENCY_RETENTION_HOURS', 72),
    publicUrl: (fromEnv('PUBLIC_URL') ?? `http://${env.HOST ?? '127.0.0.1'}:${env.PORT ?? 3000}`).replace(/\/$/, ''),
    payments: {
      provider: (fromEnv('PAYMENT_PROVIDER') as 'stripe' | 'dev' | undefined) ?? (stripeSecretKey ? 'stripe' : 'dev'),
      stripeSecretKey: stripeSecretKey ?? DEV_STRIPE_KEY,
      stripeWebhookSecret: fromEnv('STRIPE_WEBHOOK_SECRET') ?? DEV_WEBHOOK_SECRET,
      stripeApiBase: fromEnv('STRIPE_API_BASE') ?? null,
      confirmationTimeoutSeconds: intFromEnv('PAYMENT_TIMEOUT_SECONDS', 30 * 60),
    },
    mail: {
      smtpUrl: fromEnv('SMTP_URL') ?? null,
      from: fromEnv('MAIL_FROM') ?? 'Centre Vouchers <vouchers@centre.example>',
      timeoutMs: intFromEnv('SMTP_TIMEOUT_MS', DEFAULT_SMTP_TIMEOUT_MS),
    },
    clearingTimeZone: env.CLEARING_TIME_ZONE ?? 'Europe/Berlin',
    legacyImport: {
      dir: fromEnv('IMPORT_DIR') ?? '.data/imports',
      chunkRows: intFromEnv('IMPORT_CHUNK_ROWS', 50_000),
    },
    shop: {
      currency: 'EUR',
      ordersPerMinutePerClient: intFromEnv('SHOP_ORDERS_PER_MINUTE', 10),
      presets: [1_000, 2_500, 5_000, 10_000],
      minAmount: intFromEnv('SHOP_MIN_AMOUNT', 500),
      maxAmount: intFromEnv('SHOP_MAX_AMOUNT', 50_000),
      schemeName: env.SCHEME_NAME ?? 'Centre Gift Voucher',
      acceptedAt: env.SCHEME_ACCEPTED_AT ?? 'all stores of the shopping centre',
    },
    timeouts: timeoutsFromEnv(),
    ops: {
      workerPort: intFromEnv('WORKER_OPS_PORT', 9091, { allowZero: true }),
      temporalMetricsBind: fromEnv('TEMPORAL_METRICS_BIND') ?? null,
      shutdownGraceMs: intFromEnv('SHUTDOWN_GRACE_MS', 25_000),
      tracing: tracingFromEnv(),
    },
    fraud: fraudFromEnv(),
    privacy: privacyFromEnv(),
    webhooks: webhooksFromEnv(mode),
    settlement: settlementFromEnv(mode),
    ...overrides,
  };
  parsePiiKeys(config.privacy.piiKeys);
  if (config.payments.provider !== 'stripe' && config.payments.provider !== 'dev') {
    throw new Error(`PAYMENT_PROVIDER must be "stripe" or "dev", not ${JSON.stringify(config.payments.provider)}`);
  }
  if (config.cardCodeKey.length < 16) throw new Error('CARD_CODE_KEY must be at least 16 characters');
  assertNoPublicSecrets(config, { publicUrlSet: Boolean(fromEnv('PUBLIC_URL') || overrides.publicUrl) });
  return config;
}

function privacyFromEnv(): Config['privacy'] {
  return {
    piiKeys: fromEnv('PII_KEYS') ?? DEV_PII_KEYS,
    orderPiiRetentionDays: intFromEnv('ORDER_PII_RETENTION_DAYS', 365),
    expiredOrderRetentionDays: intFromEnv('EXPIRED_ORDER_RETENTION_DAYS', 30),
  };
}

function cardLifecycleFromEnv(): Config['cardLifecycle'] {
  return {
    adjustmentApprovalThreshold: BigInt(intFromEnv('ADJUSTMENT_APPROVAL_THRESHOLD', 100_00)),
    adjustmentApprovalHours: intFromEnv('ADJUSTMENT_APPROVAL_HOURS', 24),
    deactivationPolicy: deactivationPolicyFromEnv(fromEnv('CARD_DEACTIVATION_POLICY')),
    batchSerialPrefix: serialPrefixFromEnv(fromEnv('CARD_SERIAL_PREFIX')),
    batchActivationCodeDigits: Math.min(20, Math.max(6, intFromEnv('CARD_ACTIVATION_CODE_DIGITS', 10))),
    batchApprovalHours: intFromEnv('CARD_BATCH_APPROVAL_HOURS', 72),
    expiryReminderDays: reminderDaysFromEnv(fromEnv('EXPIRY_REMINDER_DAYS')),
  };
}

function timeoutsFromEnv(): Config['timeouts'] {
  return {
    dbConnectMs: intFromEnv('DB_CONNECT_TIMEOUT_MS', DEFAULT_TIMEOUTS.dbConnectMs),
    dbStatementMs: intFromEnv('DB_STATEMENT_TIMEOUT_MS', DEFAULT_TIMEOUTS.dbStatementMs, { allowZero: true }),
    dbIdleInTransactionMs: intFromEnv('DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', DEFAULT_TIMEOUTS.dbIdleInTransactionMs, { allowZero: true }),
    httpRequestMs: intFromEnv('HTTP_REQUEST_TIMEOUT_MS', DEFAULT_TIMEOUTS.httpRequestMs),
    httpConnectionMs: intFromEnv('HTTP_CONNECTION_TIMEOUT_MS', DEFAULT_TIMEOUTS.httpConnectionMs),
    httpKeepAliveMs: intFromEnv('HTTP_KEEP_ALIVE_TIMEOUT_MS', DEFAULT_TIMEOUTS.httpKeepAliveMs),
  };
}

function fraudFromEnv(): Config['fraud'] {
  return {
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
  };
}

function webhooksFromEnv(mode: Config['mode']): Config['webhooks'] {
  return {
    allowPrivateAddresses: mode !== 'production',
    requireHttps: mode === 'production',
    timeoutMs: intFromEnv('WEBHOOK_TIMEOUT_MS', 10_000),
    retryBaseMs: intFromEnv('WEBHOOK_RETRY_BASE_MS', 30_000),
    maxRetryDelayMs: intFromEnv('WEBHOOK_MAX_RETRY_DELAY_MS', 6 * 3_600_000),
    retryWindowSeconds: intFromEnv('WEBHOOK_RETRY_WINDOW_SECONDS', 3 * 86_400),
    secretOverlapHours: intFromEnv('WEBHOOK_SECRET_OVERLAP_HOURS', 24),
  };
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
