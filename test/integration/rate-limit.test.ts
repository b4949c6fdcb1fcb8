// Public order creation is rate-limited per client address in Redis, and fails open without it.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: false, config: { trustProxy: true } });
  h.config.shop.ordersPerMinutePerClient = 3;
});
afterAll(async () => {
  await h?.close();
});

function order(clientIp: string) {
  return call(h, 'POST', '/v1/orders', {
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
});
