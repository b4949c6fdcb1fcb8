import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, parseTrustProxy, workerTaskQueues } from '../../infra/config.ts';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

/** The environment a production operator sets (README, Production mode). */
const PRODUCTION = {
  APP_MODE: undefined, NODE_ENV: undefined,
  CARD_CODE_KEY: 'a-real-secret-of-enough-length', STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_real',
  DATABASE_URL: 'postgresql://app:pw@db.internal:5432/voucher', PUBLIC_URL: 'https://vouchers.centre.example',
  PAYMENT_PROVIDER: undefined, STRIPE_API_BASE: undefined, TRUST_PROXY: undefined,
  PII_KEYS: `p1:${Buffer.alloc(32, 7).toString('base64')}`,
};

function withEnv(env: Record<string, string | undefined>) {
  process.env = { ...saved, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
}

describe('configuration', () => {
  it('runs in development on defaults, with the development payment provider, only when told to', () => {
    withEnv({ APP_MODE: 'development', STRIPE_SECRET_KEY: undefined, PAYMENT_PROVIDER: undefined, CARD_CODE_KEY: undefined, DATABASE_URL: undefined });
    const config = loadConfig();
    expect(config.mode).toBe('development');
    expect(config.payments.provider).toBe('dev');
  });

  it('is in production mode unless APP_MODE says otherwise, whatever NODE_ENV is', () => {
    withEnv({ ...PRODUCTION });
    expect(loadConfig().mode).toBe('production');
    // The image used to run on development defaults because NODE_ENV was not set: no default now.
    withEnv({ APP_MODE: undefined, NODE_ENV: undefined, CARD_CODE_KEY: undefined, STRIPE_SECRET_KEY: undefined, STRIPE_WEBHOOK_SECRET: undefined, PAYMENT_PROVIDER: undefined });
    expect(() => loadConfig()).toThrow(/production mode refuses development defaults/);
    withEnv({ APP_MODE: 'prod' });
    expect(() => loadConfig()).toThrow(/APP_MODE must be one of development, test, production/);
  });

  it('refuses each development default in production mode', () => {
    withEnv({ ...PRODUCTION, CARD_CODE_KEY: undefined });
    expect(() => loadConfig()).toThrow(/CARD_CODE_KEY is the development key/);
    withEnv({ ...PRODUCTION, STRIPE_SECRET_KEY: undefined, STRIPE_WEBHOOK_SECRET: undefined });
    expect(() => loadConfig()).toThrow(/development payment provider/);
    withEnv({ ...PRODUCTION, PAYMENT_PROVIDER: 'dev' });
    expect(() => loadConfig()).toThrow(/development payment provider/);
    withEnv({ ...PRODUCTION, STRIPE_SECRET_KEY: 'sk_test_123' });
    expect(() => loadConfig()).toThrow(/STRIPE_SECRET_KEY is the development key/);
    withEnv({ ...PRODUCTION, STRIPE_WEBHOOK_SECRET: 'whsec_dev_only' });
    expect(() => loadConfig()).toThrow(/STRIPE_WEBHOOK_SECRET/);
    withEnv({ ...PRODUCTION, DATABASE_URL: undefined });
    expect(() => loadConfig()).toThrow(/DATABASE_URL is the development database/);
    withEnv({ ...PRODUCTION, PUBLIC_URL: undefined });
    expect(() => loadConfig()).toThrow(/PUBLIC_URL/);
  });

  it('refuses a Stripe key without its webhook secret in every mode', () => {
    for (const mode of ['development', 'test', 'production']) {
      withEnv({ ...PRODUCTION, APP_MODE: mode, STRIPE_WEBHOOK_SECRET: undefined });
      expect(() => loadConfig(), mode).toThrow(/STRIPE_WEBHOOK_SECRET .* must be set with a Stripe key/);
      withEnv({ ...PRODUCTION, APP_MODE: mode, STRIPE_WEBHOOK_SECRET: '' });
      expect(() => loadConfig(), mode).toThrow(/STRIPE_WEBHOOK_SECRET/);
    }
    withEnv({ APP_MODE: 'development', STRIPE_SECRET_KEY: undefined, STRIPE_WEBHOOK_SECRET: undefined, PAYMENT_PROVIDER: 'stripe' });
    expect(() => loadConfig()).toThrow(/STRIPE_WEBHOOK_SECRET/);
  });

  it('refuses unknown providers and short keys', () => {
    withEnv({ APP_MODE: 'development', PAYMENT_PROVIDER: 'Stripe' });
    expect(() => loadConfig()).toThrow(/PAYMENT_PROVIDER/);
    withEnv({ APP_MODE: 'development', CARD_CODE_KEY: 'short' });
    expect(() => loadConfig()).toThrow(/CARD_CODE_KEY/);
  });

  it('accepts a production configuration with real secrets', () => {
    withEnv({ ...PRODUCTION });
    const config = loadConfig();
    expect(config.payments).toMatchObject({ provider: 'stripe', stripeSecretKey: 'sk_live_x', stripeWebhookSecret: 'whsec_real' });
    expect(config.publicUrl).toBe('https://vouchers.centre.example');
  });

  it('trusts a number of proxies or a list of addresses, never everyone', () => {
    expect(parseTrustProxy(undefined)).toBe(false);
    expect(parseTrustProxy('0')).toBe(false);
    expect(parseTrustProxy('1')).toBe(1);
    expect(parseTrustProxy('2')).toBe(2);
    expect(parseTrustProxy('10.0.0.0/8, 192.168.1.7,::1')).toEqual(['10.0.0.0/8', '192.168.1.7', '::1']);
    expect(() => parseTrustProxy('true')).toThrow(/TRUST_PROXY=true would believe any X-Forwarded-For/);
    expect(() => parseTrustProxy('loadbalancer.internal')).toThrow(/TRUST_PROXY/);
    withEnv({ APP_MODE: 'development', TRUST_PROXY: '1' });
    expect(loadConfig().trustProxy).toBe(1);
  });

  it('bounds every wait by default and takes the bounds from the environment', () => {
    withEnv({ APP_MODE: 'development', DB_STATEMENT_TIMEOUT_MS: undefined, SMTP_TIMEOUT_MS: undefined, HTTP_REQUEST_TIMEOUT_MS: undefined });
    const { timeouts, mail } = loadConfig();
    for (const value of Object.values(timeouts)) expect(value).toBeGreaterThan(0);
    // A mail attempt must be over before the mail activity's one-minute timeout retries it.
    expect(mail.timeoutMs).toBeLessThanOrEqual(20_000);
    withEnv({ APP_MODE: 'development', DB_STATEMENT_TIMEOUT_MS: '1500', SMTP_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '3000' });
    const configured = loadConfig();
    expect(configured.timeouts).toMatchObject({ dbStatementMs: 1500, httpRequestMs: 3000 });
    expect(configured.mail.timeoutMs).toBe(2000);
    withEnv({ APP_MODE: 'development', DB_CONNECT_TIMEOUT_MS: 'soon' });
    expect(() => loadConfig()).toThrow(/DB_CONNECT_TIMEOUT_MS must be a positive integer/);
  });

  it('gives each worker role its task queues: all of them, all but imports, or imports alone', () => {
    withEnv({ APP_MODE: 'development', TEMPORAL_TASK_QUEUE: 'q', WORKER_ROLE: undefined });
    expect(workerTaskQueues(loadConfig())).toEqual(['q', 'q-shop', 'q-webhooks', 'q-import']);
    withEnv({ APP_MODE: 'development', TEMPORAL_TASK_QUEUE: 'q', WORKER_ROLE: 'engine' });
    expect(workerTaskQueues(loadConfig())).toEqual(['q', 'q-shop', 'q-webhooks']);
    withEnv({ APP_MODE: 'development', TEMPORAL_TASK_QUEUE: 'q', WORKER_ROLE: 'import' });
    expect(workerTaskQueues(loadConfig())).toEqual(['q-import']);
    withEnv({ APP_MODE: 'development', WORKER_ROLE: 'imports' });
    expect(() => loadConfig()).toThrow(/WORKER_ROLE/);
  });
});
