// A worker killed while it delivers a webhook: another worker makes the attempt again once the
// lost one times out, so the receiver sees the event at most once more, and the delivery ends
// succeeded.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrate, resetDatabase } from '../../infra/migrate.ts';
import { createApiClient } from '../../services/directory.ts';
import { call, issueCard, processEnv, startHarness, startWorker, waitFor, type Harness } from '../helpers/harness.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let h: Harness;
let receiver: WebhookReceiver;
let child: ChildProcess | null = null;

/**
 * A database of this test's own: every worker's webhook relay serves every recorded event, so in
 * the shared test database another file's worker could make (and count) this test's attempts.
 */
async function ownDatabase(): Promise<string> {
  const url = new URL(inject('databaseUrl'));
  const name = `${url.pathname.slice(1)}_webhook_crash`;
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  await resetDatabase(url.toString());
  await migrate(url.toString());
  return url.toString();
}

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  h = await startHarness({ worker: false, config: { databaseUrl: await ownDatabase() } });
}, 120_000);
afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await h?.deps.db.pool.query(`UPDATE webhook_endpoints SET enabled = false WHERE url LIKE $1`, [`${receiver.url}%`]);
  await h?.close();
  await receiver?.close();
});

describe('a worker killed mid-delivery', () => {
  it('delivers the event at most once more, then the delivery succeeds', async () => {
    let output = '';
    child = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...processEnv(h), TEMPORAL_TASK_QUEUE: h.config.taskQueue, WORKER_OPS_PORT: '0', WEBHOOK_TIMEOUT_MS: '5000', WEBHOOK_RETRY_BASE_MS: '500' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise((resolve) => child!.once('exit', resolve));

    const admin = await createApiClient(h.deps.db.prisma, { name: 'crash admin', role: 'admin' });
    const res = await call(h, 'POST', '/v1/webhook-endpoints', { key: admin.apiKey, idempotencyKey: randomUUID(), body: { url: `${receiver.url}/crash`, eventTypes: ['card.created'] } });
    expect(res.status).toBe(200);
    // The first request is never answered: the worker making it is killed while it waits.
    receiver.answer = (_path, n) => (n === 1 ? 'hang' : { status: 200 });
    const card = await issueCard(h, 1_200);
    const mine = () => receiver.on('/crash').filter((r) => r.event.data.object.card?.id === card.id);
    await waitFor(async () => mine().length === 1, 90_000, 100).catch((err) => { throw new Error(`${err.message}; worker output: ${output.slice(-2_000)}`); });
    child.kill('SIGKILL');
    await exited;

    const worker = await startWorker(h.deps, h.client);
    h.worker = worker;
    const delivery = await waitFor(async () => {
      const { rows } = await h.deps.db.pool.query(`SELECT status, attempts FROM webhook_deliveries WHERE endpoint_id = $1`, [res.body.endpoint.id]);
      return rows[0]?.status === 'succeeded' ? rows[0] : undefined;
    }, 60_000, 250);
    expect(delivery.attempts).toBe(1);
    await new Promise((r) => setTimeout(r, 2_000));
    const got = mine();
    expect(got).toHaveLength(2);
    expect(got[1]!.event).toEqual(got[0]!.event);
  }, 150_000);
});
