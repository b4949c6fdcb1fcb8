// Errors that mean "a dependency went away" must answer 503 (retry with the same key), not 500.
// Both cases were found by the chaos test (test/chaos): a pg connection the server ended while a
// Prisma transaction held it, and an update-with-start whose RPC was cancelled as Temporal restarted.

import { afterAll, describe, expect, inject, it } from 'vitest';
import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { isDependencyUnavailable } from '../../api/unavailable.ts';
import { connectDatabase, type Database } from '../../infra/db.ts';

let db: Database | undefined;
afterAll(async () => {
  await db?.close();
});

describe('dependency errors', () => {
  it('counts a query on a connection PostgreSQL ended as unavailable', async () => {
    db = connectDatabase(inject('databaseUrl'), { max: 3 });
    const held = await db.pool.connect();
    const pid = (await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    await new Promise((r) => setTimeout(r, 500));
    const err = await held.query('SELECT 1').then(() => null, (e: unknown) => e);
    held.release();
    expect(String(err)).toMatch(/not queryable|terminat/i);
    expect(isDependencyUnavailable(err)).toBe(true);
  });

  it('counts a Prisma raw statement whose connection PostgreSQL ended mid-query as unavailable', async () => {
    const own = connectDatabase(inject('databaseUrl'), { max: 2 });
    const admin = connectDatabase(inject('databaseUrl'), { max: 1 });
    try {
      const running = own.prisma.$transaction((tx) => tx.$executeRaw`SELECT pg_sleep(5)`).then(() => null, (e: unknown) => e);
      let victims = 0;
      for (let i = 0; i < 50 && victims === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        victims = (await admin.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE query LIKE '%pg_sleep(5)%' AND pid <> pg_backend_pid() AND state = 'active'`)).rowCount ?? 0;
      }
      expect(victims).toBe(1);
      const err = await running;
      expect(String(err)).toMatch(/57P01|terminat|not queryable/);
      expect(isDependencyUnavailable(err)).toBe(true);
    } finally {
      await own.close();
      await admin.close();
    }
  });

  it('counts a Prisma transaction that could not get a connection in time as unavailable', async () => {
    const small = connectDatabase(inject('databaseUrl'), { max: 1 });
    const held = await small.pool.connect();
    const err = await small.prisma.$transaction((tx) => tx.$queryRaw`SELECT 1`, { maxWait: 200 }).then(() => null, (e: unknown) => e);
    held.release();
    await small.close();
    expect(String(err)).toMatch(/Unable to start a transaction in the given time/);
    expect(isDependencyUnavailable(err)).toBe(true);
  });

  it('counts an update RPC that timed out or was cancelled as unavailable', () => {
    const grpc = Object.assign(new Error('1 CANCELLED: Call cancelled'), { code: 1 });
    expect(isDependencyUnavailable(new WorkflowUpdateRPCTimeoutOrCancelledError('Call cancelled', { cause: grpc }))).toBe(true);
  });

  it('does not count a programming error as unavailable', () => {
    expect(isDependencyUnavailable(new TypeError('x is not a function'))).toBe(false);
  });
});
