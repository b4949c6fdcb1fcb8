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
