// Every environment variable the engine reads, with its default and meaning: the README's
// configuration table lists exactly these (test/unit/config-schema.test.ts compares them).
// Amounts carry their unit in the name (_MINOR: integer minor units, cents for EUR); the names
// they had before are still read, with a warning (`formerly`).

import { parsePiiKeys } from '../domain/pii-crypto.ts';
import { normaliseBic, normaliseCreditorId, normaliseIban } from '../domain/sepa.ts';
import {
  envVar, hostPort, intBetween, limit, nonNegativeInt, oneOf, parseDatevAccounts, parseReminderDays, parseTrustProxy,
  positiveInt, text, timeZone, url, INVALID,
} from './config-parsers.ts';

const HTTP = ['http:', 'https:'];
const POSTGRES = ['postgresql:', 'postgres:'];

const core = {
  APP_MODE: oneOf(['development', 'test', 'production'], 'production', 'development, test or production; unset means production'),
  DATABASE_URL: url(POSTGRES, undefined, 'PostgreSQL connection string (development: a local database)', { secret: true }),
  REDIS_URL: url(['redis:', 'rediss:'], 'redis://127.0.0.1:6379/0', 'balance cache and rate limits; off disables them', { secret: true, also: ['off'] }),
  TEMPORAL_ADDRESS: hostPort('127.0.0.1:7233', 'Temporal frontend'),
  TEMPORAL_NAMESPACE: text('default', 'Temporal namespace'),
  TEMPORAL_TASK_QUEUE: text('voucher-engine', 'task queue of the worker; purchases run on <queue>-shop'),
  TEMPORAL_UI_URL: url(HTTP, undefined, 'Temporal UI, linked from the support console'),
  TEMPORAL_LOG_LEVEL: oneOf(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'], 'WARN', 'Temporal SDK log level in the worker'),
  TEMPORAL_METRICS_BIND: hostPort(undefined, "host:port of the Temporal SDK's Prometheus exporter"),
  CARD_CODE_KEY: envVar('at least 16 characters', (raw) => (raw.length >= 16 ? raw : INVALID), undefined as string | undefined,
    'secret the card-code HMAC, order tokens, download links and TOTP seals derive from', { secret: true }),
  HOST: text('127.0.0.1', 'API listen address'),
  PORT: intBetween(1, 65_535, 3000, 'API listen port'),
  PUBLIC_URL: url(HTTP, undefined, 'where people reach the API and pages (default http://HOST:PORT)'),
  TRUST_PROXY: envVar('a number of proxies or addresses/CIDRs', parseTrustProxy, false, 'proxies whose X-Forwarded-For is believed'),
  IDEMPOTENCY_RETENTION_HOURS: positiveInt(72, 'how long an Idempotency-Key replays its first answer'),
  CLEARING_TIME_ZONE: timeZone('Europe/Berlin', 'clearing periods are calendar months in this zone'),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'JSON log level of API and worker'),
  API_LOG: oneOf(['0', '1'], '1', "0 turns the API's request lines off"),
};

const cards = {
  MAX_CARD_BALANCE_MINOR: positiveInt(250_000_00, 'most a card may hold, minor units', { formerly: 'MAX_CARD_BALANCE' }),
  CARD_VALIDITY_DAYS: positiveInt(3 * 365, 'validity of a newly sold card'),
  HOLD_TTL_SECONDS: positiveInt(900, 'hold lifetime when a store sets none'),
  OUTBOX_START_GRACE_MS: nonNegativeInt(1000, 'how long the outbox relay holds a redemption start back so a settle within it goes as one signal-with-start; 0 = at once'),
  ADJUSTMENT_APPROVAL_THRESHOLD_MINOR: positiveInt(100_00, "adjustments above this (minor units) wait for a second user's approval",
    { formerly: 'ADJUSTMENT_APPROVAL_THRESHOLD' }),
  ADJUSTMENT_APPROVAL_HOURS: positiveInt(24, 'how long such an adjustment waits before it expires'),
  CARD_DEACTIVATION_POLICY: oneOf(['breakage', 'refund'], 'breakage', "what a deactivated card's remaining value becomes"),
  CARD_SERIAL_PREFIX: envVar('up to 8 capital letters or digits', (raw) => (/^[A-Z0-9]{0,8}$/.test(raw) ? raw : INVALID), 'SC', 'scratch-card serial prefix'),
  CARD_ACTIVATION_CODE_DIGITS: intBetween(6, 20, 10, "digits of a scratch card's activation code"),
  CARD_BATCH_APPROVAL_HOURS: positiveInt(72, "how long a generated batch waits for the system owner's approval"),
  EXPIRY_REMINDER_DAYS: envVar('a comma-separated list of days (1-365), or "off"', parseReminderDays, [30, 7], 'days before expiry a Print@Home buyer is reminded'),
};

const payments = {
  PAYMENT_PROVIDER: oneOf(['stripe', 'dev'], undefined, 'stripe if STRIPE_SECRET_KEY is set, else dev (development only)'),
  STRIPE_SECRET_KEY: text(undefined, 'Stripe API key', { secret: true }),
  STRIPE_WEBHOOK_SECRET: text(undefined, 'signing secret (whsec_…) of the Stripe webhook endpoint', { secret: true }),
  STRIPE_API_BASE: url(HTTP, undefined, 'Stripe API base URL, e.g. stripe-mock; unset: api.stripe.com'),
  // A secret key here would be handed to every browser: only a publishable key's shape passes.
  STRIPE_PUBLISHABLE_KEY: envVar('a publishable key (pk_test_… or pk_live_…)', (raw) => (/^pk_(test|live)_\w+$/.test(raw) ? raw : INVALID),
    undefined as string | undefined, 'publishable key the shop page loads Stripe.js with (Payment Element)'),
  PAYMENT_TIMEOUT_SECONDS: positiveInt(30 * 60, 'a purchase without confirmed payment by then is cancelled'),
  SHOP_MIN_AMOUNT_MINOR: positiveInt(500, 'smallest voucher the shop sells, minor units', { formerly: 'SHOP_MIN_AMOUNT' }),
  SHOP_MAX_AMOUNT_MINOR: positiveInt(50_000, 'largest voucher the shop sells, minor units', { formerly: 'SHOP_MAX_AMOUNT' }),
  SHOP_ORDERS_PER_MINUTE: positiveInt(10, 'orders one client address may create per minute'),
  SCHEME_NAME: text('Centre Gift Voucher', 'name of the voucher scheme on vouchers and in the shop'),
  SCHEME_ACCEPTED_AT: text('all stores of the shopping centre', 'where the vouchers are accepted, printed on them'),
};

const mail = {
  SMTP_URL: url(['smtp:', 'smtps:'], undefined, 'mail relay; unset: no mail (npm start provides a catcher)', { secret: true }),
  MAIL_FROM: text('Centre Vouchers <vouchers@centre.example>', 'sender of voucher and statement e-mails'),
  SMTP_TIMEOUT_MS: positiveInt(15_000, 'longest wait for the mail relay at each step'),
};

const timeouts = {
  DB_CONNECT_TIMEOUT_MS: positiveInt(5_000, 'longest wait for a PostgreSQL connection'),
  // Clearing a month of a million redemptions takes seconds, not a minute.
  DB_STATEMENT_TIMEOUT_MS: nonNegativeInt(60_000, 'PostgreSQL statement_timeout; 0 = none'),
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: nonNegativeInt(60_000, 'PostgreSQL idle_in_transaction_session_timeout; 0 = none'),
  HTTP_REQUEST_TIMEOUT_MS: positiveInt(30_000, 'a client must have sent its whole request by then'),
  // Longer than the longest answer that sends nothing meanwhile (a support cancel waits ~30 s).
  HTTP_CONNECTION_TIMEOUT_MS: positiveInt(120_000, 'an HTTP connection without traffic is closed'),
  // Above the usual 60 s idle timeout of load balancers, so they, not we, close idle connections.
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt(65_000, 'an idle keep-alive connection is closed'),
  RATE_LIMIT_REDIS_TIMEOUT_MS: positiveInt(100, 'longest wait for Redis on a rate-limit check; past it the request is not limited (fails open)'),
  SHUTDOWN_GRACE_MS: positiveInt(25_000, 'on SIGTERM, how long requests and activities in flight may finish'),
};

const fraud = {
  CODE_GUESS_WINDOW_SECONDS: positiveInt(900, 'window in which failed card codes are counted'),
  CODE_GUESS_SLOW_AFTER: positiveInt(5, 'failures after which answers are slowed'),
  CODE_GUESS_SLOW_STEP_MS: positiveInt(500, 'delay per failure beyond that'),
  CODE_GUESS_LOCK_AFTER: positiveInt(20, 'failures after which the terminal or address is locked'),
  CODE_GUESS_LOCK_SECONDS: positiveInt(900, 'how long the lock lasts'),
  VELOCITY_CARD_REDEMPTIONS_PER_HOUR: limit(10, 'authorizations per card and hour; off for none'),
  VELOCITY_CARD_AMOUNT_PER_HOUR_MINOR: limit(2_500_00, 'value authorized per card and hour, minor units', { formerly: 'VELOCITY_CARD_AMOUNT_PER_HOUR' }),
  VELOCITY_CARD_REDEMPTIONS_PER_DAY: limit(30, 'authorizations per card and day'),
  VELOCITY_CARD_AMOUNT_PER_DAY_MINOR: limit(10_000_00, 'value authorized per card and day, minor units', { formerly: 'VELOCITY_CARD_AMOUNT_PER_DAY' }),
  VELOCITY_TERMINAL_SOLD_PER_DAY_MINOR: limit(50_000_00, 'value one terminal may sell and load per day, minor units',
    { formerly: 'VELOCITY_TERMINAL_SOLD_PER_DAY' }),
  VELOCITY_STORE_SOLD_PER_DAY_MINOR: limit(null, 'value one store may sell and load per day, minor units', { formerly: 'VELOCITY_STORE_SOLD_PER_DAY' }),
  VELOCITY_STORE_REDEEMED_PER_DAY_MINOR: limit(null, 'value one store may authorize per day, minor units', { formerly: 'VELOCITY_STORE_REDEEMED_PER_DAY' }),
  SIGN_IN_FREE_ATTEMPTS: positiveInt(5, 'sign-in attempts per client address and account before delays start'),
  SIGN_IN_FREE_ATTEMPTS_PER_ACCOUNT: positiveInt(20, 'sign-in attempts per account from all addresses before delays start'),
  SIGN_IN_FIRST_DELAY_SECONDS: positiveInt(30, 'first sign-in delay; each further failure doubles it'),
  SIGN_IN_MAX_DELAY_SECONDS: positiveInt(900, 'longest sign-in delay'),
  SIGN_IN_PER_ADDRESS_PER_MINUTE: positiveInt(30, 'sign-in requests one client address may send per minute'),
};

const ops = {
  WORKER_ROLE: oneOf(['all', 'engine', 'import'], 'all', 'queues a worker polls: all; engine (all but legacy imports); import (only imports, no relays)'),
  WORKER_OPS_PORT: intBetween(0, 65_535, 9091, "the worker's /metrics and /health (0: none)"),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(HTTP, undefined, 'OTLP/HTTP collector base URL (/v1/traces is appended)'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url(HTTP, undefined, 'full OTLP/HTTP traces URL'),
  OTEL_EXPORTER_OTLP_PROTOCOL: envVar('http/protobuf or http/json', otlpProtocol, 'http/protobuf', 'OTLP protocol (gRPC is not built in)'),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: envVar('http/protobuf or http/json', otlpProtocol, undefined, 'OTLP protocol of traces'),
  OTEL_SDK_DISABLED: text(undefined, 'true turns tracing off'),
  OTEL_TRACES_EXPORTER: text(undefined, 'none turns tracing off'),
};

const privacy = {
  PII_KEYS: envVar('v1:<base64>,…', (raw) => { parsePiiKeys(raw); return raw; }, undefined as string | undefined,
    'keys that seal personal data at rest; the last one seals new data', { secret: true }),
  ORDER_PII_RETENTION_DAYS: positiveInt(365, "a shop order's e-mail address is erased this many days after the order"),
  EXPIRED_ORDER_RETENTION_DAYS: positiveInt(30, 'orders that expired unpaid are deleted after this many days'),
};

const webhooks = {
  WEBHOOK_TIMEOUT_MS: positiveInt(10_000, 'longest one webhook delivery attempt may take'),
  WEBHOOK_RETRY_BASE_MS: positiveInt(30_000, 'first retry of a failed delivery after this, doubling'),
  WEBHOOK_MAX_RETRY_DELAY_MS: positiveInt(6 * 3_600_000, 'longest delay between retries'),
  WEBHOOK_RETRY_WINDOW_SECONDS: positiveInt(3 * 86_400, 'a delivery is retried this long'),
  WEBHOOK_SECRET_OVERLAP_HOURS: positiveInt(24, 'after a rotation the old secret keeps signing this long'),
  WEBHOOK_EVENT_RETENTION_DAYS: positiveInt(30, 'events whose deliveries all ended are deleted this many days after the event'),
};

const settlement = {
  IMPORT_DIR: text('.data/imports', 'where the legacy import keeps its files'),
  IMPORT_CHUNK_ROWS: positiveInt(50_000, 'rows staged per chunk by the legacy import'),
  ISO20022_SCHEMA_DIR: text('../shared/iso20022', 'folder with the ISO 20022 XSDs, relative to the repository root'),
  SEPA_CENTRE_NAME: text('Shopping centre', "name on the centre's account"),
  SEPA_CENTRE_IBAN: envVar('an IBAN', normaliseIban, undefined as string | undefined, "the centre's settlement account"),
  SEPA_CENTRE_BIC: envVar('a BIC', normaliseBic, undefined as string | undefined, "the centre's bank"),
  SEPA_CREDITOR_ID: envVar('a SEPA creditor identifier', normaliseCreditorId, undefined as string | undefined, "the centre's SEPA creditor identifier"),
  SEPA_DIRECT_DEBIT_SCHEME: oneOf(['CORE', 'B2B'], 'CORE', "direct-debit scheme of the parties' mandates"),
  SEPA_PAIN_VERSION: oneOf(['09', '03'], '09', 'SEPA file versions: 09 = pain.001.001.09 and pain.008.001.08, 03 = pain.001.001.03 and pain.008.001.02'),
  SEPA_LEAD_DAYS: positiveInt(2, 'business days after the run at which transfers execute'),
  DATEV_ACCOUNTS: envVar('name=digits pairs', parseDatevAccounts, parseDatevAccounts(undefined), 'chart-of-accounts mapping of the DATEV export'),
};

/** Read by the launcher (npm start, cluster, bench) and the operator scripts, not by API or worker. */
const tools = {
  TEMPORAL_CLI: text(undefined, 'temporal CLI binary the launcher uses'),
  TEMPORAL_SERVER_BIN: text(undefined, 'Temporal Server binary the cluster launcher uses'),
  TEMPORAL_SQL_TOOL_BIN: text(undefined, "Temporal's SQL schema tool the cluster launcher uses"),
  STRIPE_MOCK_BIN: text(undefined, 'stripe-mock binary the launcher uses'),
  STRIPE_MOCK_URL: url(HTTP, undefined, 'a running stripe-mock the launcher uses instead of starting one'),
  VOUCHER_PG_PROBE_URL: url(POSTGRES, undefined, 'where the launcher looks for a running PostgreSQL', { secret: true }),
  PORTAL_USER_PASSWORD: text(undefined, 'password npm run user:create sets (else one is generated)', { secret: true }),
};

function otlpProtocol(raw: string): 'http/protobuf' | 'http/json' {
  if (raw !== 'http/protobuf' && raw !== 'http/json') throw new Error(`${raw} is not supported: use http/protobuf or http/json`);
  return raw;
}

export const ENV_VARS = { ...core, ...cards, ...payments, ...mail, ...timeouts, ...fraud, ...ops, ...privacy, ...webhooks, ...settlement, ...tools };

export type EnvName = keyof typeof ENV_VARS;
export type Env = { [K in EnvName]: (typeof ENV_VARS)[K]['fallback'] };

/** Every variable's value when unset. */
export const ENV_DEFAULTS = Object.fromEntries(Object.entries(ENV_VARS).map(([name, v]) => [name, v.fallback])) as Env;

/**
 * Read by the OpenTelemetry SDK itself, not by this code: documented, passed through unchecked
 * (the SDK has more of them than we list: any OTEL_* name is left to it).
 */
export const OTEL_SDK_VARS = ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TIMEOUT', 'OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG', 'OTEL_BSP_*'];
