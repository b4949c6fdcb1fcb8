// When PostgreSQL or Temporal cannot be reached, clients get 503 service_unavailable (retry
// later, same key), never a 500, and a refused call leaves nothing behind. The API process
// starts and serves tills while Temporal is down; the outbox keeps the workflow work.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { createDeps } from '../../api/app.ts';
import { buildServer } from '../../api/server.ts';
import { createApiClient } from '../../services/directory.ts';
import { call, posRef, processEnv, startHarness, startWorker, waitFor, type Harness } from '../helpers/harness.ts';
import { unusedPort } from '../helpers/net.ts';
import { trpc } from '../helpers/portal.ts';
import { redemptionWorkflowId } from '../../workflows/names/redemption.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

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

  it('starts the API process with Temporal down: tills authorize and capture, the outbox keeps the workflow work', async () => {
    const temporalPort = await unusedPort();
    const apiPort = await unusedPort();
    const api = startApiProcess({
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`, TEMPORAL_NAMESPACE: h.config.temporalNamespace, TEMPORAL_TASK_QUEUE: h.config.taskQueue,
      PORT: String(apiPort),
    });
    const baseUrl = `http://127.0.0.1:${apiPort}`;
    const health = await waitFor(async () => {
      const res = await fetch(`${baseUrl}/health`).catch(() => null);
      return res?.ok ? res.json() : null;
    }, 60_000, 200).catch((err) => { throw new Error(`${err.message}; API output:\n${api.output()}`); });
    expect(health).toMatchObject({ status: 'ok', temporal: 'connecting' });

    const at = { ...h, baseUrl };
    const sold = await call(at, 'POST', '/v1/cards', { body: { amount: 5_000, currency: 'EUR' }, idempotencyKey: randomUUID() });
    expect(sold.status).toBe(200);
    const ref = posRef();
    const authorized = await call(at, 'POST', '/v1/redemptions', { body: { code: sold.body.code, amount: 1_200, currency: 'EUR', posReference: ref } });
    expect(authorized.status).toBe(200);
    expect(authorized.body.status).toBe('authorized');
    const captured = await call(at, 'POST', `/v1/redemptions/${authorized.body.id}/capture`, { body: { amount: 1_000 } });
    expect(captured.status).toBe(200);
    expect(captured.body).toMatchObject({ status: 'captured', capturedAmount: 1_000, card: { available: 4_000, held: 0 } });

    // The redemption's workflow start and its capture wait in the outbox for Temporal.
    const workflowId = redemptionWorkflowId(h.terminalA.id, ref);
    const queued = await h.deps.db.pool.query<{ kind: string }>('SELECT kind FROM workflow_outbox WHERE workflow_id = $1 ORDER BY id', [workflowId]);
    expect(queued.rows.length).toBeGreaterThanOrEqual(1);

    // What needs Temporal answers 503 meanwhile, and changes nothing.
    const orders = await h.deps.db.prisma.order.count();
    const order = await call(at, 'POST', '/v1/orders', {
      key: null, body: { amount: 2_500, currency: 'EUR', email: 'shopper@example.test' }, idempotencyKey: randomUUID() });
    expect([order.status, order.body.error?.code]).toEqual([503, 'service_unavailable']);
    expect(await h.deps.db.prisma.order.count()).toBe(orders);
    const admin = await createApiClient(h.deps.db.prisma, { name: `support-${randomUUID().slice(0, 6)}`, role: 'admin' });
    const before = await trpc(at, 'query', 'support.stuck', { thresholdMinutes: 10 }, { key: admin.apiKey });
    expect([before.status, before.code]).toEqual([503, 'service_unavailable']);

    // Temporal comes back at that address: the API connects by itself, and the worker's relay
    // delivers what the outbox kept.
    const [temporalHost, temporalRealPort] = h.config.temporalAddress.split(':');
    forward(temporalPort, temporalHost!, Number(temporalRealPort));
    await waitFor(async () => (await (await fetch(`${baseUrl}/health`)).json()).temporal === 'connected', 45_000, 250)
      .catch((err) => { throw new Error(`${err.message}; API output:\n${api.output()}`); });
    const after = await trpc(at, 'query', 'support.stuck', { thresholdMinutes: 10 }, { key: admin.apiKey });
    expect(after.status).toBe(200);

    const worker = await startWorker(h.deps, h.client);
    closers.push(() => worker.stop());
    await waitFor(async () => (await h.deps.db.pool.query('SELECT 1 FROM workflow_outbox WHERE workflow_id = $1', [workflowId])).rowCount === 0, 30_000);
    const described = await h.client.workflow.getHandle(workflowId).describe();
    expect(described.type).toBe('redemptionWorkflow');
  }, 120_000);

  it('the API and worker processes refuse to start on development defaults unless told it is development', async () => {
    const port = String(await unusedPort());
    await Promise.all(['scripts/api.ts', 'scripts/worker.ts'].map(async (script) => {
      const proc = startApiProcess({ APP_MODE: undefined, CARD_CODE_KEY: undefined, PORT: port }, script);
      expect(await proc.exited, script).not.toBe(0);
      expect(proc.output(), script).toMatch(/production mode refuses development defaults: CARD_CODE_KEY is the development key/);
    }));
  }, 60_000);
});

/** Runs an entry point as its own process, as in production. */
function startApiProcess(env: Record<string, string | undefined>, script = 'scripts/api.ts') {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...processEnv(h) };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  closers.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  });
  return { exited, output: () => output };
}

/** A TCP forwarder: `port` starts to lead to host:targetPort (Temporal coming back up). */
function forward(port: number, host: string, targetPort: number): void {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(targetPort, host);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => { inbound.destroy(); outbound.destroy(); });
    }
    inbound.pipe(outbound).pipe(inbound);
  }).listen(port, '127.0.0.1');
  closers.push(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
}
