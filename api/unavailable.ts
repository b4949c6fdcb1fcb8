// Failures of what the API depends on (PostgreSQL, Temporal) are not the client's fault and go
// away: they answer 503 service_unavailable, so clients retry with their idempotency key.

import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);
// PostgreSQL: connection exceptions (08xxx), shutdown in progress (57P0x), too many connections,
// a statement cancelled by statement_timeout (57014), a deadlock victim (40P01): each passes.
const POSTGRES_CODES = /^(08...|57P0[1-3]|53300|57014|40P01)$/;
// gRPC: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED.
const GRPC_CODES = new Set([14, 4, 8]);
// pg's answer on a client whose connection the server ended (pg_terminate_backend, a failover).
const CONNECTION_LOST = /Connection terminated|timeout exceeded when trying to connect|not queryable/i;
// Prisma's own codes for a database it cannot reach or a pool that gave no connection in time
// (P2028: "Unable to start a transaction in the given time", seen in the bank test while
// PostgreSQL dropped every connection).
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028']);
// Prisma (driver adapter) reports PostgreSQL's SQLSTATE only in its message: "Database error. Code:
// `57P01`" for model queries, "Raw query failed. Code: `57P01`" (P2010) for $queryRaw/$executeRaw
// (the bank test's one 500: an order's audit insert while PostgreSQL ended its connection).
const PRISMA_SQLSTATE = /(?:Database error|Raw query failed)\. Code: `([0-9A-Z]{5})`/;

export function isDependencyUnavailable(err: unknown): boolean {
  // An update call past its deadline: depending on the race inside the client, its cause is
  // DEADLINE_EXCEEDED or CANCELLED ("Call cancelled"); either way Temporal did not answer in time.
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  for (let e = err as { code?: unknown; cause?: unknown; message?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || POSTGRES_CODES.test(e.code) || PRISMA_CODES.has(e.code))) return true;
    if (typeof e.code === 'number' && GRPC_CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && CONNECTION_LOST.test(e.message)) return true;
    const sqlstate = typeof e.message === 'string' ? PRISMA_SQLSTATE.exec(e.message)?.[1] : undefined;
    if (sqlstate && POSTGRES_CODES.test(sqlstate)) return true;
    // An update (update-with-start) whose RPC timed out or was cancelled, e.g. while Temporal
    // restarts: its outcome is unknown, and a retry with the same key joins the same workflow.
    if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
    e = e.cause as typeof e;
  }
  return false;
}
