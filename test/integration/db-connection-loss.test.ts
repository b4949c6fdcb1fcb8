// A database connection that the server ends (pg_terminate_backend, a failover, a restart) while
// the code holds it between two queries must not take the process down: found by the chaos test,
// where the worker's outbox relay held a client across its Temporal calls and crashed.

import { afterAll, describe, expect, inject, it } from 'vitest';
import { connectDatabase, type Database } from '../../infra/db.ts';

let db: Database | undefined;
afterAll(async () => {
  await db?.close();
});

describe('database connection loss', () => {
  it('survives the server ending a checked-out connection, and the pool keeps serving', async () => {
    db = connectDatabase(inject('databaseUrl'), { max: 3 });
    const held = await db.pool.connect();
    const pid = (await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const terminate = await db.pool.query<{ terminated: boolean }>('SELECT pg_terminate_backend($1) AS terminated', [pid]);
    expect(terminate.rows[0]!.terminated).toBe(true);
    // The server's goodbye arrives while no query runs on `held`: before the fix pg emitted it as an
    // unhandled 'error' event, which ended the process (vitest reports it as an uncaught error).
    await new Promise((r) => setTimeout(r, 500));
    await expect(held.query('SELECT 1')).rejects.toThrow();
    held.release();
    expect((await db.pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
  });
});
