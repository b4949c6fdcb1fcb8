// Every wait has an end: PostgreSQL connections and statements, HTTP clients that send slowly,
// SMTP relays that stop answering, and Temporal when the support console asks it something.

import http2 from 'node:http2';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { SMTPServer } from 'smtp-server';
import type { FastifyInstance } from 'fastify';
import { createDeps } from '../../api/app.ts';
import { buildServer } from '../../api/server.ts';
import { connectDatabase } from '../../infra/db.ts';
import { createMailer } from '../../services/mailer.ts';
import { createApiClient } from '../../services/directory.ts';
import { call, startHarness, type Harness } from '../helpers/harness.ts';
import { trpc } from '../helpers/portal.ts';

let h: Harness;
const cleanups: (() => Promise<unknown> | void)[] = [];

beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await h?.close();
});

/** A server that accepts connections and never says a word (a hung database or relay). */
async function silentServer(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  }));
  return (server.address() as net.AddressInfo).port;
}

async function serve(deps: Parameters<typeof buildServer>[0]): Promise<{ app: FastifyInstance; baseUrl: string }> {
  const app = await buildServer(deps);
  cleanups.push(async () => {
    const closing = app.close();
    app.server.closeAllConnections();
    await closing;
  });
  return { app, baseUrl: await app.listen({ host: '127.0.0.1', port: 0 }) };
}

async function elapsed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T | null; error: unknown }> {
  const t0 = Date.now();
  try {
    const result = await fn();
    return { ms: Date.now() - t0, result, error: null };
  } catch (error) {
    return { ms: Date.now() - t0, result: null, error };
  }
}

describe('PostgreSQL timeouts', () => {
  it('gives every connection, Prisma\'s included, a statement and idle-transaction timeout', async () => {
    const db = connectDatabase(h.config.databaseUrl, { timeouts: { dbConnectMs: 2_000, dbStatementMs: 700, dbIdleInTransactionMs: 1_500 } });
    cleanups.push(() => db.close());
    const [{ statement_timeout }] = await db.prisma.$queryRawUnsafe<[{ statement_timeout: string }]>('SHOW statement_timeout');
    expect(statement_timeout).toBe('700ms');
    const [{ idle_in_transaction_session_timeout }] = await db.prisma.$queryRawUnsafe<[{ idle_in_transaction_session_timeout: string }]>(
      'SHOW idle_in_transaction_session_timeout');
    expect(idle_in_transaction_session_timeout).toBe('1500ms');
    const slow = await elapsed(() => db.pool.query('SELECT pg_sleep(5)'));
    expect(slow.error).toMatchObject({ code: '57014' }); // canceling statement due to statement timeout
    expect(slow.ms).toBeLessThan(3_000);
  });

  it('ends a transaction left idle, so its locks are not held for ever', async () => {
    const db = connectDatabase(h.config.databaseUrl, { timeouts: { dbConnectMs: 2_000, dbStatementMs: 5_000, dbIdleInTransactionMs: 500 } });
    cleanups.push(() => db.close());
    const client = await db.pool.connect();
    client.on('error', () => {});
    try {
      await client.query('BEGIN');
      await client.query('SELECT 1');
      await new Promise((r) => setTimeout(r, 1_500));
      await expect(client.query('SELECT 1')).rejects.toThrow();
    } finally {
      client.release(true);
    }
  });

  it('gives up connecting to a server that never answers, and the API answers 503', async () => {
    const port = await silentServer();
    const config = { ...h.config, databaseUrl: `postgresql://postgres@127.0.0.1:${port}/none`, timeouts: { ...h.config.timeouts, dbConnectMs: 800 } };
    const deps = createDeps(config, () => {});
    cleanups.push(() => deps.close());
    const hung = await elapsed(() => deps.db.pool.query('SELECT 1'));
    expect(hung.error).toBeTruthy();
    expect(hung.ms).toBeLessThan(3_000);
    const { baseUrl } = await serve(deps);
    const t0 = Date.now();
    const res = await call({ ...h, baseUrl }, 'POST', '/v1/cards/lookup', { body: { code: '0000-0000-0000-0000' } });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('service_unavailable');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});

describe('HTTP server timeouts', () => {
  it('answers 408 and closes the connection of a client that does not finish its request', async () => {
    const { baseUrl } = await serve({ ...h.deps, config: { ...h.config, timeouts: { ...h.config.timeouts, httpRequestMs: 1_000 } } });
    const { port } = new URL(baseUrl);
    const t0 = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        // Promises 100 bytes of body and sends one.
        socket.write('POST /v1/cards/lookup HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
      });
      let data = '';
      socket.on('data', (d) => (data += d));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      setTimeout(() => { socket.destroy(); resolve(`still open: ${data}`); }, 8_000).unref();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - t0).toBeLessThan(4_000);
  });

  it('keeps idle keep-alive connections longer than a load balancer does, and bounds them', async () => {
    const { app } = await serve(h.deps);
    expect(app.server.keepAliveTimeout).toBe(h.config.timeouts.httpKeepAliveMs);
    expect(app.server.keepAliveTimeout).toBeGreaterThan(60_000);
    expect(app.server.timeout).toBe(h.config.timeouts.httpConnectionMs);
    expect(app.server.requestTimeout).toBe(h.config.timeouts.httpRequestMs);
  });
});

describe('SMTP timeouts', () => {
  it('gives up on a relay that never greets, well inside the mail activity timeout', async () => {
    const port = await silentServer();
    const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'Vouchers <v@centre.test>', timeoutMs: 1_000 });
    cleanups.push(() => mailer.close());
    const sent = await elapsed(() => mailer.send({ to: 'a@example.test', subject: 's', text: 't', messageId: `<${randomUUID()}@test>` }));
    expect(sent.error).toBeTruthy();
    expect(sent.ms).toBeLessThan(4_000);
  });

  it('gives up on a relay that stops answering in the middle of a message', async () => {
    const server = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onData(stream) {
        stream.resume(); // takes the message and never answers it
      },
    });
    server.on('error', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.server.address() as net.AddressInfo;
    const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'Vouchers <v@centre.test>', timeoutMs: 1_000 });
    cleanups.push(() => mailer.close());
    const sent = await elapsed(() => mailer.send({ to: 'a@example.test', subject: 's', text: 't', messageId: `<${randomUUID()}@test>` }));
    expect(sent.error).toBeTruthy();
    expect(sent.ms).toBeLessThan(4_000);
  });
});

describe('support console deadlines', () => {
  it('answers 503 when Temporal accepts the connection and never answers, instead of hanging', async () => {
    // An HTTP/2 server that takes every call and never replies: a hung Temporal frontend.
    const server = http2.createServer();
    server.on('stream', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as net.AddressInfo;
    const connection = Connection.lazy({ address: `127.0.0.1:${port}` });
    cleanups.push(() => connection.close());
    const deps = { ...h.deps, temporal: new Client({ connection, namespace: h.config.temporalNamespace }) };
    const { baseUrl } = await serve(deps);
    const admin = await createApiClient(h.deps.db.prisma, { name: `support-${randomUUID().slice(0, 6)}`, role: 'admin' });
    const t0 = Date.now();
    const [stuck, retry] = await Promise.all([
      trpc({ ...h, baseUrl }, 'query', 'support.stuck', { thresholdMinutes: 10 }, { key: admin.apiKey }),
      trpc({ ...h, baseUrl }, 'mutation', 'support.retryNow', { workflowId: `purchase-${randomUUID()}` }, { key: admin.apiKey }),
    ]);
    expect([stuck.status, stuck.code]).toEqual([503, 'service_unavailable']);
    expect([retry.status, retry.code]).toEqual([503, 'service_unavailable']);
    expect(Date.now() - t0).toBeLessThan(35_000);
  }, 60_000);
});
