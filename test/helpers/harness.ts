// A running engine for one test file: API server on a free port, a Temporal worker with its
// outbox relay on a task queue of its own, and fixtures (a billing party, stores, terminals).

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import { createDeps } from '../../api/app.ts';
import { startWorkerFor } from '../../infra/worker-app.ts';
import { buildServer } from '../../api/server.ts';
import { loadConfig, type Config } from '../../infra/config.ts';
import { connectClient, ensureSearchAttributes } from '../../infra/temporal.ts';
import type { EngineWorker } from '../../infra/worker.ts';
import { createBillingParty, createStore, createTerminal } from '../../services/directory.ts';
import type { AppDeps } from '../../api/deps.ts';
import { TEST_WEBHOOK_SECRET } from './stripe-webhook.ts';

export interface Terminal {
  id: string;
  storeId: string;
  apiKey: string;
}

export interface Harness {
  deps: AppDeps & { close(): Promise<void> };
  config: Config;
  app: FastifyInstance;
  baseUrl: string;
  client: Client;
  worker: EngineWorker | null;
  billingPartyId: string;
  storeA: string;
  storeB: string;
  terminalA: Terminal;
  terminalA2: Terminal;
  terminalB: Terminal;
  close(): Promise<void>;
}

export interface HarnessOptions {
  worker?: boolean;
  redisUrl?: string | null;
  holdTtlSeconds?: number;
  /** Overrides of the configuration (e.g. SMTP, payment provider, timeouts). */
  config?: Partial<Config>;
  /** A task queue of the caller's, e.g. to restart a worker on it. */
  taskQueue?: string;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const config = loadConfig({
    mode: 'test',
    databaseUrl: inject('databaseUrl'),
    redisUrl: options.redisUrl === undefined ? inject('redisUrl') : options.redisUrl,
    temporalAddress: inject('temporalAddress'),
    temporalNamespace: inject('temporalNamespace'),
    taskQueue: options.taskQueue ?? `test-${randomUUID()}`,
    cardCodeKey: 'test-card-code-key',
    port: 0,
  });
  const stripeMock = new URL(inject('stripeMockUrl'));
  config.payments = { ...config.payments, provider: 'stripe', stripeApiBase: stripeMock.origin, stripeWebhookSecret: 'whsec_test_secret' };
  // Every test's orders come from 127.0.0.1; the rate limit has its own test.
  config.shop = { ...config.shop, ordersPerMinutePerClient: 100_000 };
  // Likewise every till request: the fraud limits have their own tests, which set them.
  config.fraud = {
    codeGuessing: { ...config.fraud.codeGuessing, slowAfter: 100_000, lockAfter: 100_000 },
    velocity: Object.fromEntries(Object.keys(config.fraud.velocity).map((k) => [k, null])) as Config['fraud']['velocity'],
  };
  config.settlement = { ...config.settlement, iso20022SchemaDir: inject('iso20022SchemaDir') };
  Object.assign(config, options.config ?? {});
  const client = await connectClient(config.temporalAddress, config.temporalNamespace);
  await ensureSearchAttributes(client, config.temporalNamespace);
  const deps = createDeps(config, () => {}, client);
  // Every test signs in from 127.0.0.1; the per-address sign-in limit has its own test.
  deps.users.policy.perClientPerMinute = 100_000;
  const app = await buildServer(deps);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  config.publicUrl = address;

  let worker: EngineWorker | null = null;
  if (options.worker !== false) {
    worker = await startWorker(deps, client);
  }

  const prisma = deps.db.prisma;
  const party = await createBillingParty(prisma, deps.pii, { name: `Party ${randomUUID().slice(0, 8)}`, contactEmail: 'finance@example.test' });
  const storeA = await createStore(prisma, { billingPartyId: party.id, name: 'Store A', holdTtlSeconds: options.holdTtlSeconds });
  const storeB = await createStore(prisma, { billingPartyId: party.id, name: 'Store B' });
  const terminalA = await createTerminal(prisma, { storeId: storeA.id, name: 'Till A1' });
  const terminalA2 = await createTerminal(prisma, { storeId: storeA.id, name: 'Till A2' });
  const terminalB = await createTerminal(prisma, { storeId: storeB.id, name: 'Till B1' });

  return {
    deps, config, app, baseUrl: address, client, worker,
    billingPartyId: party.id, storeA: storeA.id, storeB: storeB.id, terminalA, terminalA2, terminalB,
    async close() {
      await worker?.stop();
      // Tests leave keep-alive and half-read (413) connections behind; don't wait them out.
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
      await client.connection.close();
      await deps.close();
    },
  };
}

/** The shop with the development payment provider ("Pay with test card") and mail to `smtpUrl`. */
export function devShopConfig(smtpUrl: string): Partial<Config> {
  return {
    payments: { ...loadConfig().payments, provider: 'dev' },
    mail: { smtpUrl, from: 'Vouchers <vouchers@centre.test>' },
  };
}

/**
 * The shop with Stripe as the provider, through `stripeApiBase` (stripe-mock or a proxy in front
 * of it), webhooks signed with the test secret, and mail to `smtpUrl`.
 */
export function stripeShopConfig(smtpUrl: string, stripeApiBase: string, stripePublishableKey: string): Partial<Config> {
  return {
    payments: { ...loadConfig().payments, provider: 'stripe', stripeApiBase, stripeWebhookSecret: TEST_WEBHOOK_SECRET, stripePublishableKey },
    mail: { smtpUrl, from: 'Vouchers <vouchers@centre.test>' },
  };
}

/** Starts a worker (with its outbox relay) on the harness's task queue. */
export async function startWorker(deps: AppDeps, client: Client): Promise<EngineWorker> {
  return startWorkerFor(deps, client, { workflowBundle: { code: readFileSync(inject('workflowBundlePath'), 'utf8') } });
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls the REST API over real HTTP. */
export async function call<T = any>(
  h: Harness, method: string, path: string,
  opts: { body?: unknown; rawBody?: string; key?: string | null; idempotencyKey?: string; contentType?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? h.terminalA.apiKey : opts.key;
  if (key) headers.authorization = `Bearer ${key}`;
  if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
  let payload: string | undefined;
  if (opts.rawBody !== undefined) payload = opts.rawBody;
  else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
  if (payload !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(h.baseUrl + path, { method, headers, body: payload });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** Sells a card at terminal A and returns its code and id. */
export async function issueCard(h: Harness, amount: number, currency = 'EUR'): Promise<{ code: string; id: string }> {
  const res = await call(h, 'POST', '/v1/cards', { body: { amount, currency }, idempotencyKey: randomUUID() });
  if (res.status !== 200) throw new Error(`issue failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { code: res.body.code, id: res.body.card.id };
}

export function posRef(): string {
  return `pos-${randomUUID()}`;
}

export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * Environment for an API or worker started as its own process on the harness's database: the
 * limits other test files may have used up from this address are lifted, as the harness lifts
 * them in-process (their own tests set them), and the development secrets are accepted.
 */
export function processEnv(h: Harness): Record<string, string> {
  return {
    APP_MODE: 'test', DATABASE_URL: h.config.databaseUrl, REDIS_URL: h.config.redisUrl ?? 'off',
    TEMPORAL_ADDRESS: h.config.temporalAddress, TEMPORAL_NAMESPACE: h.config.temporalNamespace,
    CARD_CODE_KEY: 'test-card-code-key', HOST: '127.0.0.1', PAYMENT_PROVIDER: 'dev', STRIPE_SECRET_KEY: '', STRIPE_WEBHOOK_SECRET: '',
    SHOP_ORDERS_PER_MINUTE: '100000', CODE_GUESS_SLOW_AFTER: '100000', CODE_GUESS_LOCK_AFTER: '100000',
    VELOCITY_CARD_REDEMPTIONS_PER_HOUR: 'off', VELOCITY_CARD_AMOUNT_PER_HOUR_MINOR: 'off', VELOCITY_CARD_REDEMPTIONS_PER_DAY: 'off',
    VELOCITY_CARD_AMOUNT_PER_DAY_MINOR: 'off', VELOCITY_TERMINAL_SOLD_PER_DAY_MINOR: 'off', VELOCITY_STORE_SOLD_PER_DAY_MINOR: 'off',
    VELOCITY_STORE_REDEEMED_PER_DAY_MINOR: 'off',
  };
}
