// Metrics, liveness and readiness of the API and of the worker's operations endpoint, against
// the real stack.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerBacklogGauges } from '../../infra/metrics.ts';
import { startOpsServer } from '../../infra/ops-server.ts';
import { call, issueCard, startHarness, type Harness } from '../helpers/harness.ts';
import { trpc } from '../helpers/portal.ts';
import { freePort } from '../../scripts/stack/processes.ts';
import prom from 'prom-client';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

/** The value of one series in Prometheus text format, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[4]);
  }
  return undefined;
}

describe('API observability', () => {
  it('counts requests per route pattern and status, and cache lookups', async () => {
    const card = await issueCard(h, 1_000);
    const before = await (await fetch(`${h.baseUrl}/metrics`)).text();
    const base = sample(before, 'voucher_http_requests_total', { route: '/v1/cards/lookup', method: 'POST', status: '200' }) ?? 0;
    for (let i = 0; i < 3; i++) expect((await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } })).status).toBe(200);
    const res = await fetch(`${h.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(sample(text, 'voucher_http_requests_total', { route: '/v1/cards/lookup', method: 'POST', status: '200' })).toBe(base + 3);
    expect(sample(text, 'voucher_http_request_duration_seconds_count', { route: '/v1/cards/lookup', method: 'POST' })).toBeGreaterThanOrEqual(3);
    // No series per card: the code never appears in a label.
    expect(text).not.toContain(card.code);
    expect((sample(text, 'voucher_balance_cache_lookups_total', { result: 'hit' }) ?? 0)
      + (sample(text, 'voucher_balance_cache_lookups_total', { result: 'miss' }) ?? 0)).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('counts authorizations by outcome and times ledger calls by operation', async () => {
    const card = await issueCard(h, 1_000);
    const before = await (await fetch(`${h.baseUrl}/metrics`)).text();
    const approved0 = sample(before, 'voucher_authorizations_total', { outcome: 'approved' }) ?? 0;
    const declined0 = sample(before, 'voucher_authorizations_total', { outcome: 'insufficient_funds' }) ?? 0;
    const ledger0 = sample(before, 'voucher_ledger_call_duration_seconds_count', { operation: 'ledger_authorize', outcome: 'ok' }) ?? 0;
    const authorize = (amount: number) => call(h, 'POST', '/v1/redemptions', {
      body: { code: card.code, amount, currency: 'EUR', posReference: `obs-${randomUUID()}` } });
    expect((await authorize(400)).status).toBe(200);
    expect((await authorize(5_000)).status).toBe(402);
    const text = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(sample(text, 'voucher_authorizations_total', { outcome: 'approved' })).toBe(approved0 + 1);
    expect(sample(text, 'voucher_authorizations_total', { outcome: 'insufficient_funds' })).toBe(declined0 + 1);
    expect(sample(text, 'voucher_ledger_call_duration_seconds_count', { operation: 'ledger_authorize', outcome: 'ok' })).toBe(ledger0 + 1);
    expect(sample(text, 'voucher_ledger_call_duration_seconds_count', { operation: 'ledger_authorize', outcome: 'insufficient_funds' })).toBeGreaterThanOrEqual(1);
  });

  it('counts rate-limit refusals by limit, and sign-in refusals and the delays they start', async () => {
    const metrics = async () => (await fetch(`${h.baseUrl}/metrics`)).text();
    const before = await metrics();
    const orders0 = sample(before, 'voucher_rate_limit_refusals_total', { limit: 'orders' }) ?? 0;
    const signIns0 = sample(before, 'voucher_rate_limit_refusals_total', { limit: 'sign_in' }) ?? 0;
    const refused0 = sample(before, 'voucher_sign_in_refusals_total') ?? 0;
    const client0 = sample(before, 'voucher_sign_in_lockouts_total', { scope: 'client' }) ?? 0;
    const account0 = sample(before, 'voucher_sign_in_lockouts_total', { scope: 'account' }) ?? 0;

    // Shop orders per client address: one a minute here. The limit is checked before the amount,
    // so an out-of-range amount spends a hit without starting a purchase.
    const shop = h.deps.config.shop;
    const limits = { orders: shop.ordersPerMinutePerClient, signIns: h.deps.users.policy.perClientPerMinute };
    shop.ordersPerMinutePerClient = 1;
    const order = () => call(h, 'POST', '/v1/orders', { key: null, idempotencyKey: randomUUID(),
      body: { amount: 1, currency: 'EUR', email: 'limits@example.test' } });
    const orderStatuses = [(await order()).status, (await order()).status, (await order()).status];
    shop.ordersPerMinutePerClient = limits.orders;
    expect(orderStatuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);

    // Sign-in: 5 free wrong passwords per address, then a delay starts; attempts meanwhile are refused.
    const email = `nobody-${randomUUID()}@example.test`;
    const statuses: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await trpc(h, 'mutation', 'auth.signIn', { email, password: 'wrong-password' });
      statuses.push(`${res.status} ${res.code}`);
    }
    expect(statuses).toEqual([...Array(5).fill('401 invalid_credentials'), '429 account_locked', '429 account_locked']);
    // The per-address request limit of sign-ins (Redis), like the shop's.
    h.deps.users.policy.perClientPerMinute = 1;
    const limited = await trpc(h, 'mutation', 'auth.signIn', { email: `other-${randomUUID()}@example.test`, password: 'x' });
    h.deps.users.policy.perClientPerMinute = limits.signIns;
    expect([limited.status, limited.code]).toEqual([429, 'rate_limited']);

    const after = await metrics();
    expect(sample(after, 'voucher_rate_limit_refusals_total', { limit: 'orders' })).toBe(orders0 + orderStatuses.filter((s) => s === 429).length);
    expect(sample(after, 'voucher_rate_limit_refusals_total', { limit: 'sign_in' })).toBe(signIns0 + 1);
    expect(sample(after, 'voucher_sign_in_refusals_total')).toBe(refused0 + 2);
    expect(sample(after, 'voucher_sign_in_lockouts_total', { scope: 'client' })).toBe(client0 + 1);
    // The account-wide budget (20) is not reached from one address.
    expect(sample(after, 'voucher_sign_in_lockouts_total', { scope: 'account' }) ?? 0).toBe(account0);
  });

  it('is live, and ready with each dependency reported on its own', async () => {
    const live = await fetch(`${h.baseUrl}/health/live`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${h.baseUrl}/health/ready`);
    const body = await ready.json();
    expect(ready.status).toBe(200);
    expect(body).toMatchObject({
      status: 'ready',
      checks: {
        postgres: { status: 'up', required: true },
        redis: { status: 'up', required: false },
        temporal: { status: 'up', required: false },
      },
    });
  });

  it('stays ready without Redis and Temporal, and is unready without PostgreSQL', async () => {
    const port = await freePort();
    const degraded = await startHarness({ worker: false, redisUrl: `redis://127.0.0.1:${port}/0` });
    try {
      const temporal = degraded.deps.temporal;
      degraded.deps.temporal = null;
      const res = await fetch(`${degraded.baseUrl}/health/ready`);
      const body = await res.json();
      expect(res.status).toBe(200);
      expect(body.checks.redis.status).toBe('down');
      expect(body.checks.temporal).toMatchObject({ status: 'down', error: 'not connected' });
      degraded.deps.temporal = temporal;

      await degraded.deps.db.pool.end();
      const unready = await fetch(`${degraded.baseUrl}/health/ready`);
      expect(unready.status).toBe(503);
      expect((await unready.json()).checks.postgres.status).toBe('down');
      expect((await fetch(`${degraded.baseUrl}/health/live`)).status).toBe(200);
    } finally {
      // Its pool is ended already: closing it again is the one step that may throw.
      await degraded.close().catch(() => {});
    }
  });
});

describe('worker operations endpoint', () => {
  it('serves backlog gauges from the database and reports readiness', async () => {
    const registry = new prom.Registry();
    registerBacklogGauges(h.deps.db.pool, registry);
    const pool = h.deps.db.pool;
    await pool.query(`INSERT INTO workflow_outbox (workflow_id, kind, payload, created_at)
                      VALUES ('observability-test', 'redemption_started', '{}', now() - interval '90 seconds')`);
    try {
      const text = await registry.metrics();
      expect(sample(text, 'voucher_outbox_rows')).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'voucher_outbox_oldest_age_seconds')).toBeGreaterThanOrEqual(90);
      expect(sample(text, 'voucher_holds_past_expiry')).toBeGreaterThanOrEqual(0);
      expect([0, 1]).toContain(sample(text, 'voucher_clearing_previous_month_closed'));
      expect(sample(text, 'voucher_statements_bounced')).toBeGreaterThanOrEqual(0);
    } finally {
      await pool.query(`DELETE FROM workflow_outbox WHERE workflow_id = 'observability-test'`);
    }

    let alive = true;
    const ops = await startOpsServer({
      host: '127.0.0.1', port: 0, alive: () => alive,
      checks: {
        postgres: { required: true, check: async () => { await pool.query('SELECT 1'); } },
        temporal: { required: true, check: async () => { throw new Error('unreachable'); } },
      },
    });
    try {
      expect((await fetch(`${ops.url}/health/live`)).status).toBe(200);
      const ready = await fetch(`${ops.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect((await ready.json()).checks).toMatchObject({ postgres: { status: 'up' }, temporal: { status: 'down', error: 'unreachable' } });
      alive = false;
      expect((await fetch(`${ops.url}/health/live`)).status).toBe(503);
      const metrics = await fetch(`${ops.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('voucher_http_requests_total');
    } finally {
      await ops.close();
    }
  });
});
