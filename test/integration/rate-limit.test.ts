// Public order creation is rate-limited per client address in Redis, and fails open without it.
// The address is the peer's, or what trusted proxies say it is: never what a client claims.

import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../api/server.ts';
import { loadConfig } from '../../infra/config.ts';
import { call, startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
const servers: FastifyInstance[] = [];
beforeAll(async () => {
  // The test process is the load balancer: one trusted proxy in front of the API.
  // A loaded test machine can take longer than the production default (100 ms) to answer, and a
  // check that times out lets the request through (fails open), which is not what this file tests.
  const config = loadConfig();
  h = await startHarness({ worker: false, config: { trustProxy: 1, timeouts: { ...config.timeouts, rateLimitRedisMs: 5_000 } } });
  h.config.shop.ordersPerMinutePerClient = 3;
});
afterAll(async () => {
  for (const app of servers) await app.close();
  await h?.close();
});

function order(clientIp: string, baseUrl = h.baseUrl) {
  return call({ ...h, baseUrl }, 'POST', '/v1/orders', {
    key: null, idempotencyKey: randomUUID(), headers: { 'x-forwarded-for': clientIp },
    body: { amount: 100, currency: 'EUR', email: 'a@example.test' }, // out of range: refused after the limit check
  });
}

describe('order rate limit', () => {
  it('answers 429 with Retry-After once an address exceeds its orders per minute, and changes nothing', async () => {
    const before = await h.deps.db.prisma.order.count();
    const statuses: number[] = [];
    // A fresh address each run: the window outlives a run by up to a minute.
    const client = `2001:db8::${randomUUID().slice(0, 4)}:${randomUUID().slice(0, 4)}`;
    for (let i = 0; i < 5; i++) statuses.push((await order(client)).status);
    expect(statuses).toEqual([422, 422, 422, 429, 429]);
    expect((await order('2001:db8::1:' + randomUUID().slice(0, 4))).status).toBe(422);
    const limited = await order(client);
    expect(limited.body.error).toMatchObject({ code: 'rate_limited', details: { retry_after_seconds: expect.any(Number) } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await h.deps.db.prisma.order.count()).toBe(before);
  });

  it('takes the address the trusted proxy saw, not one the client put in front of it', async () => {
    const client = `2001:db8::${randomUUID().slice(0, 4)}:${randomUUID().slice(0, 4)}`;
    const statuses: number[] = [];
    // The client sends its own X-Forwarded-For; the proxy appends the address it really saw.
    for (let i = 0; i < 5; i++) statuses.push((await order(`198.51.100.${i}, ${client}`)).status);
    expect(statuses).toEqual([422, 422, 422, 429, 429]);
  });

  it('ignores X-Forwarded-For from a peer that is not a configured proxy', async () => {
    // Only 10.0.0.0/8 is a proxy here; the test connects from 127.0.0.1, so it is the client.
    const app = await buildServer({ ...h.deps, config: { ...h.config, trustProxy: ['10.0.0.0/8'] } });
    servers.push(app);
    const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    const statuses: number[] = [];
    // A fresh spoofed address every time: with everyone trusted, each would get a fresh limit.
    for (let i = 0; i < 5; i++) statuses.push((await order(`2001:db8::${randomUUID().slice(0, 4)}`, baseUrl)).status);
    // 127.0.0.1 may have used its orders already (other tests); either way the last two are over.
    expect(statuses.slice(3)).toEqual([429, 429]);
  });
});
