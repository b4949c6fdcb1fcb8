// Balances are served from Redis while it is up, and from PostgreSQL when it is not.

import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, issueCard, posRef, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { unusedPort } from '../helpers/net.ts';

let h: Harness;
let redis: ChildProcess | null = null;
let port = 0;

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor(async () => {
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null }).on('error', () => {});
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  });
}

async function stopRedis(): Promise<void> {
  if (!redis) return;
  const exited = new Promise((resolve) => redis!.once('exit', resolve));
  redis.kill('SIGKILL');
  await exited;
  redis = null;
}

beforeAll(async () => {
  port = await unusedPort();
  await startRedis();
  h = await startHarness({ worker: false, redisUrl: `redis://127.0.0.1:${port}/0` });
});
afterAll(async () => {
  await h?.close();
  await stopRedis();
});

describe('balance cache', () => {
  it('serves lookups from Redis, refreshed on every change', async () => {
    const card = await issueCard(h, 4_000);
    const probe = new Redis({ port, host: '127.0.0.1' }).on('error', () => {});
    expect(await probe.keys('vc:bal:*')).toHaveLength(1);
    // A change made behind the engine's back is invisible while the cache holds the card...
    await h.deps.db.pool.query('UPDATE cards SET available = 1 WHERE id = $1', [card.id]);
    const cached = await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } });
    await h.deps.db.pool.query('UPDATE cards SET available = 4000 WHERE id = $1', [card.id]);
    expect(cached.body.card.available).toBe(4_000);
    // ...and every change through the engine refreshes it.
    await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 1_000, currency: 'EUR', posReference: posRef() } });
    const [entry] = await probe.keys('vc:bal:*');
    expect(JSON.parse((await probe.hget(entry!, 'b'))!)).toMatchObject({ available: '3000', held: '1000' });
    probe.disconnect();
  });

  it('keeps answering from PostgreSQL when Redis is stopped, and recovers when it is back', async () => {
    const card = await issueCard(h, 2_500);
    await stopRedis();
    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } });
    expect(lookup.status).toBe(200);
    expect(lookup.body.card).toMatchObject({ available: 2_500, held: 0 });

    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 500, currency: 'EUR', posReference: posRef() } });
    expect(auth.status).toBe(200);
    const after = await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } });
    expect(after.body.card).toMatchObject({ available: 2_000, held: 500 });
    const health = await fetch(`${h.baseUrl}/health`);
    expect(health.status).toBe(200);

    await startRedis();
    await waitFor(async () => {
      const res = await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } });
      const probe = new Redis({ port, host: '127.0.0.1' }).on('error', () => {});
      const keys = await probe.keys('vc:bal:*');
      probe.disconnect();
      return res.body.card.available === 2_000 && keys.length > 0;
    }, 15_000, 250);
  });
});
