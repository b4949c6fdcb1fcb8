// The environment schema (infra/config-schema.ts) against the README's configuration table, and
// what readEnv refuses: malformed values, unknown lookalike names, conflicting former names.

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfig, readEnv } from '../../infra/config.ts';
import { documentedNames } from '../../infra/config-env.ts';
import { ENV_DEFAULTS, ENV_VARS } from '../../infra/config-schema.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** Rows of the table under "## Configuration": [names, default column]. */
function readmeRows(): { names: string[]; defaults: string }[] {
  const section = README.slice(README.indexOf('## Configuration'), README.indexOf('### Production mode'));
  return section.split('\n').filter((line) => line.startsWith('| `')).map((line) => {
    const [names, defaults] = line.split(' | ').map((cell) => cell.replace(/^\| /, ''));
    return { names: [...names!.matchAll(/`([A-Z0-9_*]+)`/g)].map((m) => m[1]!), defaults: defaults! };
  });
}

function refusal(env: Record<string, string>): string {
  try {
    readEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('configuration schema', () => {
  it('documents exactly the variables it reads: README table names == schema names', () => {
    const documented = readmeRows().flatMap((row) => row.names);
    expect(new Set(documented).size, 'a name listed twice in the README').toBe(documented.length);
    expect([...documented].sort()).toEqual([...documentedNames()].sort());
  });

  it('has the defaults the README states, and gives them on an empty environment', () => {
    const env = readEnv({});
    expect(env).toEqual(ENV_DEFAULTS);
    let compared = 0;
    for (const { names, defaults } of readmeRows()) {
      const stated = defaults.split(', ').map((d) => /^`([^`]+)`/.exec(d.trim())?.[1]);
      if (stated.length !== names.length || stated.some((d) => d === undefined)) continue;
      names.forEach((name, i) => {
        const fallback = ENV_VARS[name as keyof typeof ENV_VARS]?.fallback;
        if (fallback === undefined) return;
        // The stated default, read as if it were set, is what an unset variable gives.
        expect(readEnv({ [name]: stated[i]! })[name as keyof typeof ENV_VARS], name).toEqual(fallback);
        compared++;
      });
    }
    // Most rows state their defaults as plain values; the rest say them in words.
    expect(compared).toBeGreaterThan(60);
  });

  it('builds the configuration from those defaults', () => {
    process.env = { APP_MODE: 'test', PATH: saved.PATH };
    const config = loadConfig();
    expect(config).toMatchObject({
      redisUrl: 'redis://127.0.0.1:6379/0', temporalAddress: '127.0.0.1:7233', temporalNamespace: 'default', taskQueue: 'voucher-engine',
      port: 3000, host: '127.0.0.1', trustProxy: false, maxCardBalance: 25_000_000n, cardValidityDays: 1095, defaultHoldTtlSeconds: 900,
      temporalUiUrl: null, idempotencyRetentionHours: 72, publicUrl: 'http://127.0.0.1:3000', clearingTimeZone: 'Europe/Berlin',
      cardLifecycle: { adjustmentApprovalThreshold: 10_000n, adjustmentApprovalHours: 24, deactivationPolicy: 'breakage', batchSerialPrefix: 'SC',
        batchActivationCodeDigits: 10, batchApprovalHours: 72, expiryReminderDays: [30, 7] },
      payments: { provider: 'dev', stripeApiBase: null, confirmationTimeoutSeconds: 1800 },
      mail: { smtpUrl: null, from: 'Centre Vouchers <vouchers@centre.example>', timeoutMs: 15_000 },
      shop: { ordersPerMinutePerClient: 10, minAmount: 500, maxAmount: 50_000, schemeName: 'Centre Gift Voucher' },
      legacyImport: { dir: '.data/imports', chunkRows: 50_000 },
      ops: { workerPort: 9091, temporalMetricsBind: null, shutdownGraceMs: 25_000, tracing: null },
      privacy: { orderPiiRetentionDays: 365, expiredOrderRetentionDays: 30 },
      webhooks: { timeoutMs: 10_000, retryBaseMs: 30_000, maxRetryDelayMs: 21_600_000, retryWindowSeconds: 259_200, secretOverlapHours: 24 },
      settlement: { directDebitScheme: 'CORE', leadDays: 2, datev: { voucherClearing: '1590', partyDefault: '1600' } },
    });
  });

  it('takes an empty value as unset', () => {
    expect(readEnv({ PORT: '', SHOP_MIN_AMOUNT_MINOR: '  ', REDIS_URL: '' })).toMatchObject({ PORT: 3000, SHOP_MIN_AMOUNT_MINOR: 500, REDIS_URL: 'redis://127.0.0.1:6379/0' });
  });

  it('refuses a malformed value of each kind, naming the variable and what it expects', () => {
    const cases: [string, string, RegExp][] = [
      ['HOLD_TTL_SECONDS', '15m', /HOLD_TTL_SECONDS must be a positive integer, not "15m"/],
      ['MAX_CARD_BALANCE_MINOR', '12.5', /MAX_CARD_BALANCE_MINOR must be a positive integer/],
      ['CARD_VALIDITY_DAYS', '-1', /CARD_VALIDITY_DAYS must be a positive integer/],
      ['SHOP_ORDERS_PER_MINUTE', '0', /SHOP_ORDERS_PER_MINUTE must be a positive integer/],
      ['DB_STATEMENT_TIMEOUT_MS', '-5', /DB_STATEMENT_TIMEOUT_MS must be a non-negative integer/],
      ['PORT', '70000', /PORT must be an integer 1-65535/],
      ['CARD_ACTIVATION_CODE_DIGITS', '4', /CARD_ACTIVATION_CODE_DIGITS must be an integer 6-20/],
      ['VELOCITY_STORE_SOLD_PER_DAY_MINOR', 'none', /VELOCITY_STORE_SOLD_PER_DAY_MINOR must be a non-negative integer or "off"/],
      ['CARD_DEACTIVATION_POLICY', 'Refund', /CARD_DEACTIVATION_POLICY must be one of breakage, refund/],
      ['LOG_LEVEL', 'verbose', /LOG_LEVEL must be one of fatal, error/],
      ['STRIPE_API_BASE', 'ftp://stripe.example', /STRIPE_API_BASE must be a http:\/\/ or https:\/\/ URL/],
      ['PUBLIC_URL', 'vouchers.centre.example', /PUBLIC_URL must be a http:\/\/ or https:\/\/ URL/],
      ['TEMPORAL_ADDRESS', 'http://temporal:7233', /TEMPORAL_ADDRESS must be host:port/],
      ['CLEARING_TIME_ZONE', 'Berlin', /CLEARING_TIME_ZONE must be an IANA time zone/],
      ['EXPIRY_REMINDER_DAYS', '30,0', /EXPIRY_REMINDER_DAYS must be a comma-separated list of days/],
      ['CARD_SERIAL_PREFIX', 'sc', /CARD_SERIAL_PREFIX must be up to 8 capital letters or digits/],
      ['SEPA_CENTRE_IBAN', 'DE00123', /SEPA_CENTRE_IBAN: the IBAN is not valid/],
      ['DATEV_ACCOUNTS', 'bank=1200', /DATEV_ACCOUNTS: "bank=1200" is not name=digits/],
      ['TRUST_PROXY', 'true', /TRUST_PROXY=true would believe any X-Forwarded-For/],
      ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc', /OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported/],
      ['PII_KEYS', 'v1:short', /PII_KEYS: key v1 must be at least 32 bytes/],
    ];
    for (const [name, value, message] of cases) expect(refusal({ [name]: value }), name).toMatch(message);
  });

  it('names every bad variable at once, not the first', () => {
    const message = refusal({ PORT: 'http', WEBHOOK_TIMEOUT_MS: '10s', SEPA_DIRECT_DEBIT_SCHEME: 'COR', SMTP_URL: 'mail.example:25', SHOP_MAX_AMUONT_MINOR: '1' });
    expect(message).toMatch(/configuration refused \(5 problems\)/);
    for (const name of ['PORT', 'WEBHOOK_TIMEOUT_MS', 'SEPA_DIRECT_DEBIT_SCHEME', 'SMTP_URL', 'SHOP_MAX_AMUONT_MINOR']) expect(message).toContain(`- ${name}`);
  });

  it('never repeats a secret or a URL that may hold a password', () => {
    expect(refusal({ CARD_CODE_KEY: 'short-secret' })).not.toContain('short-secret');
    expect(refusal({ DATABASE_URL: 'mysql://app:hunter2@db/voucher' })).not.toContain('hunter2');
    expect(refusal({ REDIS_URL: 'http://:hunter2@redis' })).not.toContain('hunter2');
  });

  it('refuses an unknown variable that looks like ours, suggesting the one meant', () => {
    expect(refusal({ VELOCITY_CARD_AMOUNT_PER_HOUR_MINR: '5' })).toMatch(/VELOCITY_CARD_AMOUNT_PER_HOUR_MINR is not a known variable \(did you mean VELOCITY_CARD_AMOUNT_PER_HOUR_MINOR\?\)/);
    expect(refusal({ CODE_GUESS_LOCK_SECOND: '5' })).toMatch(/did you mean CODE_GUESS_LOCK_SECONDS\?/);
    expect(refusal({ WEBHOOK_RETRIES: '5' })).toMatch(/WEBHOOK_RETRIES is not a known variable; see README/);
    // Not one of our prefixes, but a near-miss of a known name.
    expect(refusal({ PUBLC_URL: 'https://x.example' })).toMatch(/PUBLC_URL is not a known variable \(did you mean PUBLIC_URL\?\)/);
    expect(refusal({ APP_MDOE: 'development' })).toMatch(/APP_MDOE is not a known variable \(did you mean APP_MODE\?\)/);
  });

  it("lets through what belongs to tools, the OpenTelemetry SDK, Temporal's CLI and Kubernetes", () => {
    expect(() => readEnv({
      CI: 'true', NODE_ENV: 'production', HTTP_PROXY: 'http://proxy:3128', OTEL_BSP_MAX_QUEUE_SIZE: '4096', OTEL_SERVICE_NAME: 'x',
      TEMPORAL_TLS_CERT: '/certs/client.pem', TEMPORAL_API_KEY: 'k', TEMPORAL_PROFILE: 'prod', TEMPORAL_CORS_ORIGINS: 'http://localhost:3000',
      REDIS_PORT: 'tcp://10.0.0.7:6379', REDIS_SERVICE_HOST: '10.0.0.7', REDIS_PORT_6379_TCP_ADDR: '10.0.0.7',
      HOME: '/root', HOSTNAME: 'api-1', MAIL: '/var/mail/root', npm_config_cache: '/tmp', APP_NAME: 'vouchers',
    })).not.toThrow();
  });

  it('reads a former name with its new meaning, and refuses two names for one setting', () => {
    expect(readEnv({ MAX_CARD_BALANCE: '100000', SHOP_MIN_AMOUNT: '100' })).toMatchObject({ MAX_CARD_BALANCE_MINOR: 100_000, SHOP_MIN_AMOUNT_MINOR: 100 });
    expect(readEnv({ SHOP_MAX_AMOUNT: '900', SHOP_MAX_AMOUNT_MINOR: '900' }).SHOP_MAX_AMOUNT_MINOR).toBe(900);
    expect(refusal({ SHOP_MAX_AMOUNT: '900', SHOP_MAX_AMOUNT_MINOR: '800' })).toMatch(/SHOP_MAX_AMOUNT \(the former name of SHOP_MAX_AMOUNT_MINOR\) and SHOP_MAX_AMOUNT_MINOR are both set/);
    expect(refusal({ MAX_CARD_BALANCE: 'lots' })).toMatch(/MAX_CARD_BALANCE must be a positive integer/);
    process.env = { APP_MODE: 'test', VELOCITY_STORE_REDEEMED_PER_DAY: '7', ADJUSTMENT_APPROVAL_THRESHOLD: '5000' };
    const config = loadConfig();
    expect([config.fraud.velocity.storeRedeemedPerDay, config.cardLifecycle.adjustmentApprovalThreshold]).toEqual([7, 5000n]);
  });

  it('wants the whole centre account once its IBAN is set', () => {
    expect(refusal({ SEPA_CENTRE_IBAN: 'DE89370400440532013000' })).toMatch(/SEPA_CENTRE_BIC must be set with SEPA_CENTRE_IBAN[\s\S]*SEPA_CREDITOR_ID must be set/);
  });

  it('loadConfig refuses to start on a bad environment', () => {
    process.env = { APP_MODE: 'test', SHOP_MIN_AMOUNT_MINOR: 'five', CARD_SERAIL_PREFIX: 'X' };
    expect(() => loadConfig()).toThrow(/SHOP_MIN_AMOUNT_MINOR must be a positive integer[\s\S]*CARD_SERAIL_PREFIX is not a known variable \(did you mean CARD_SERIAL_PREFIX\?\)/);
  });

  it('knows every variable docker-compose.yml and the Kubernetes manifests give the API, worker and migration', () => {
    const compose = parseYaml(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true });
    const configMap = parseYaml(readFileSync(new URL('../../deploy/k8s/config.yaml', import.meta.url), 'utf8'));
    const given = [
      ...['migrate', 'api', 'worker'].flatMap((service) => Object.keys(compose.services[service].environment)),
      ...Object.keys(configMap.data),
    ];
    expect(given.length).toBeGreaterThan(25);
    expect(given.filter((name) => !documentedNames().includes(name))).toEqual([]);
  });
});
