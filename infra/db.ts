// One pg pool per process, shared by Prisma (through its pg adapter) and by the ledger, whose
// hot-path calls are single SQL-function statements sent as named prepared statements.

import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import { DEFAULT_TIMEOUTS, type TimeoutsConfig } from './config.ts';

// pg's default parsers are kept on purpose: Prisma's adapter expects BIGINT as text and converts
// it to bigint itself, and ledger calls return JSON whose amounts are bounded by
// MAX_OPERATION_AMOUNT and the card balance limit, far below 2^53.

export interface Database {
  pool: pg.Pool;
  prisma: PrismaClient;
  close(): Promise<void>;
}

type DatabaseTimeouts = Pick<TimeoutsConfig, 'dbConnectMs' | 'dbStatementMs' | 'dbIdleInTransactionMs'>;

export function connectDatabase(
  databaseUrl: string, options: { max?: number; timeouts?: DatabaseTimeouts } = {},
): Database {
  const timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
  // Prisma's adapter runs on this same pool, so these bounds hold for its queries too. The server
  // enforces the statement and idle-transaction limits (and frees its locks); the connect
  // timeout covers a server that accepts the connection and never answers.
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 20,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: timeouts.dbConnectMs,
    statement_timeout: timeouts.dbStatementMs,
    idle_in_transaction_session_timeout: timeouts.dbIdleInTransactionMs,
    application_name: 'voucher-engine',
  });
  // An idle client that loses its server connection must not crash the process.
  pool.on('error', (err) => console.error('[db] idle client error', err.message));
  // Nor one that loses it while checked out between two queries (the outbox relay holds its
  // client across Temporal calls): pg emits that on the client, where nobody listens. The holder's
  // next query fails, and the pool drops the dead client when it is released.
  pool.on('connect', (client) => client.on('error', (err) => console.error('[db] client error', err.message)));
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let closed = false;
  return {
    pool,
    prisma,
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/** Runs `work` in one transaction on a pooled client: committed if it returns, rolled back if it throws. */
export async function inTransaction<T>(pool: pg.Pool, work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    const result = await work(db);
    await db.query('COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    db.release();
  }
}
