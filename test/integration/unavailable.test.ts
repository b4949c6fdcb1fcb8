// When PostgreSQL or Temporal cannot be reached, clients get 503 service_unavailable (retry
// later, same key), never a 500, and a refused call leaves nothing behind.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createDeps } from '../../api/app.ts';
import { buildServer } from '../../api/server.ts';
import { call, startHarness, type Harness } from '../helpers/harness.ts';
import { unusedPort } from '../helpers/net.ts';

let h: Harness;
const servers: FastifyInstance[] = [];
const closers: (() => Promise<void>)[] = [];

async function serve(deps: Parameters<typeof buildServer>[0]): Promise<string> {
  const app = await buildServer(deps);
  servers.push(app);
  return app.listen({ host: '127.0.0.1', port: 0 });
}

beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  for (const app of servers) await app.close();
  for (const close of closers) await close();
  await h?.close();
});

describe('dependencies unavailable', () => {
  it('answers 503 when PostgreSQL is unreachable', async () => {
    const deps = createDeps({ ...h.config, databaseUrl: `postgresql://postgres@127.0.0.1:${await unusedPort()}/none` }, () => {});
    closers.push(() => deps.close());
    const baseUrl = await serve(deps);
    const res = await call({ ...h, baseUrl }, 'POST', '/v1/cards/lookup', { body: { code: '0000-0000-0000-0000' } });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'service_unavailable', request_id: expect.stringMatching(/^req_/) });
    expect((await fetch(`${baseUrl}/health`)).status).toBe(503);
  });

  it('answers 503 when Temporal is unreachable, and leaves no order behind', async () => {
    const connection = Connection.lazy({ address: `127.0.0.1:${await unusedPort()}`, connectTimeout: '1s' });
    const temporal = new Client({ connection, namespace: 'default' });
    const deps = createDeps(h.config, () => {}, temporal);
    closers.push(async () => { await deps.close(); await connection.close(); });
    const baseUrl = await serve(deps);
    const before = await h.deps.db.prisma.order.count();
    const res = await call({ ...h, baseUrl }, 'POST', '/v1/orders', {
      key: null, body: { amount: 2_500, currency: 'EUR', email: 'shopper@example.test' }, idempotencyKey: randomUUID() });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('service_unavailable');
    expect(await h.deps.db.prisma.order.count()).toBe(before);
  }, 60_000);
});
