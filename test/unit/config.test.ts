import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../infra/config.ts';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

function withEnv(env: Record<string, string | undefined>) {
  process.env = { ...saved, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
}

describe('configuration', () => {
  it('runs in development on defaults, with the development payment provider', () => {
    withEnv({ NODE_ENV: undefined, STRIPE_SECRET_KEY: undefined, PAYMENT_PROVIDER: undefined });
    expect(loadConfig().payments.provider).toBe('dev');
  });

  it('refuses public defaults and unknown providers', () => {
    withEnv({ PAYMENT_PROVIDER: 'Stripe' });
    expect(() => loadConfig()).toThrow(/PAYMENT_PROVIDER/);
    withEnv({ CARD_CODE_KEY: 'short' });
    expect(() => loadConfig()).toThrow(/CARD_CODE_KEY/);
    withEnv({ NODE_ENV: 'production', CARD_CODE_KEY: undefined, STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_real' });
    expect(() => loadConfig()).toThrow(/CARD_CODE_KEY must be set/);
    withEnv({ NODE_ENV: 'production', CARD_CODE_KEY: 'a-real-secret-of-enough-length', STRIPE_SECRET_KEY: undefined, PAYMENT_PROVIDER: 'stripe' });
    expect(() => loadConfig()).toThrow(/STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET/);
    withEnv({ NODE_ENV: 'production', CARD_CODE_KEY: 'a-real-secret-of-enough-length', STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: undefined });
    expect(() => loadConfig()).toThrow(/STRIPE_WEBHOOK_SECRET/);
  });

  it('accepts a production configuration with real secrets', () => {
    withEnv({ NODE_ENV: 'production', CARD_CODE_KEY: 'a-real-secret-of-enough-length', STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_real',
      PII_KEYS: `p1:${Buffer.alloc(32, 7).toString('base64')}` });
    expect(loadConfig().payments.provider).toBe('stripe');
  });
});
