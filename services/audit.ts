// The audit log: who did what to which subject, from which request. Written in the transaction
// of the change it records (pass the transaction's client), append-only and hash-chained by the
// database (prisma/migrations/*_audit_chain); `npm run check:audit` verifies the chain.

import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';

export interface AuditEvent {
  actor: string;
  action: string;
  subject: string;
  details?: Record<string, unknown>;
  /** Defaults to the request being served (see inRequest). */
  requestId?: string | null;
}

/** A pool (the entry commits on its own) or a client inside the change's transaction. */
export type AuditDb = Pick<pg.Pool, 'query'> | pg.PoolClient;

export interface RequestIds {
  /** The server's own id for the request (also in the Request-Id response header). */
  requestId: string;
  /** What the client sent as X-Request-Id, if anything: kept, never trusted as ours. */
  clientRequestId: string | null;
}

const currentRequestIds = new AsyncLocalStorage<RequestIds>();

/**
 * Runs the rest of a request's handling with its ids in scope, so audit entries written anywhere
 * below (the ledger included) carry them without every call passing them on.
 */
export function inRequest(ids: RequestIds, next: () => void): void {
  currentRequestIds.run(ids, next);
}

export function requestIds(): RequestIds | null {
  return currentRequestIds.getStore() ?? null;
}

export async function audit(db: AuditDb, e: AuditEvent): Promise<void> {
  const ids = requestIds();
  await db.query(
    `INSERT INTO audit_entries (actor, action, subject, details, request_id, client_request_id)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [e.actor, e.action, e.subject, JSON.stringify(e.details ?? {}), e.requestId ?? ids?.requestId ?? null, ids?.clientRequestId ?? null]);
}

/**
 * Makes a change through Prisma and writes its audit entry in the same transaction: both commit
 * or neither does. `entry` describes the change from its result (e.g. the new row's id).
 */
export async function withAudit<T>(
  prisma: PrismaClient, change: (tx: Prisma.TransactionClient) => Promise<T>, entry: (result: T) => AuditEvent,
): Promise<T> {
  const ids = requestIds();
  return prisma.$transaction(async (tx) => {
    const result = await change(tx);
    const e = entry(result);
    await tx.$executeRaw`INSERT INTO audit_entries (actor, action, subject, details, request_id, client_request_id)
      VALUES (${e.actor}, ${e.action}, ${e.subject}, ${JSON.stringify(e.details ?? {})}::jsonb,
        ${e.requestId ?? ids?.requestId ?? null}, ${ids?.clientRequestId ?? null})`;
    return result;
  });
}

export interface AuditChainReport {
  entries: number;
  problems: string[];
}

const GENESIS = '0'.repeat(64);
const PAGE = 5_000;

/**
 * Recomputes every entry's hash from its content and follows each of the chains: every entry
 * names its predecessor's hash, positions run 1..n without a gap and the last one is the chain's
 * head. A changed row fails its own hash; a removed row leaves a gap and a broken link; a removed
 * tail no longer matches the head. Reads one snapshot, so appends while it runs cannot cause a
 * false alarm.
 */
export async function verifyAuditChain(client: pg.ClientBase): Promise<AuditChainReport> {
  const problems: string[] = [];
  let entries = 0;
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const { rows: heads } = await client.query<{ chain: number; seq: string; hash: string }>('SELECT chain, seq::text, hash FROM audit_chain_head ORDER BY chain');
    if (heads.length === 0) return { entries: 0, problems: ['the chain head is missing'] };
    for (const head of heads) entries += await verifyChain(client, head, problems);
    const { rows: [stray] } = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM audit_entries WHERE chain <> ALL ($1::smallint[])', [heads.map((h) => h.chain)]);
    if (stray!.n > 0) problems.push(`${stray!.n} entries are in a chain without a head`);
    return { entries, problems };
  } finally {
    await client.query('COMMIT');
  }
}

/** One chain, from its first entry to its head; returns the entries read, adds what it finds to `problems`. */
async function verifyChain(client: pg.ClientBase, head: { chain: number; seq: string; hash: string }, problems: string[]): Promise<number> {
  const at = (seq: bigint | string) => `entry ${head.chain}/${seq}`;
  let expectedSeq = 1n;
  let prevHash = GENESIS;
  let entries = 0;
  for (;;) {
    const { rows } = await client.query<{ id: string; seq: string; prev_hash: string; hash: string; canonical: string }>(
      `SELECT id::text, seq::text, prev_hash, hash,
              audit_entry_canonical(seq, created_at, actor, action, subject, details, request_id, client_request_id, prev_hash) AS canonical
         FROM audit_entries e WHERE e.chain = $1 AND e.seq >= $2 ORDER BY e.seq LIMIT $3`, [head.chain, expectedSeq.toString(), PAGE]);
    for (const r of rows) {
      const seq = BigInt(r.seq);
      if (seq !== expectedSeq) problems.push(`entries ${head.chain}/${expectedSeq}..${seq - 1n} are missing (before entry id ${r.id})`);
      if (r.prev_hash !== prevHash) problems.push(`${at(r.seq)} (id ${r.id}) does not follow the entry before it: the chain is broken`);
      const hash = createHash('sha256').update(r.canonical, 'utf8').digest('hex');
      if (hash !== r.hash) problems.push(`${at(r.seq)} (id ${r.id}) was changed: its content does not match its hash`);
      prevHash = r.hash;
      expectedSeq = seq + 1n;
      entries++;
    }
    if (rows.length < PAGE) break;
  }
  const last = expectedSeq - 1n;
  if (last.toString() !== head.seq) problems.push(`chain ${head.chain}'s head is at entry ${head.chain}/${head.seq} but the chain ends at ${at(last)}: entries were removed`);
  else if (head.hash !== prevHash) problems.push(`the last ${at(last)} does not match its chain head's hash`);
  return entries;
}

/** Audit entries newest first: up to `limit` older than `before`, matching an ILIKE `pattern` (escaped by the caller) if given. */
export async function auditEntries(pool: pg.Pool, pattern: string | null, before: string | null, limit: number) {
  const { rows } = await pool.query<{ id: string; created_at: Date; actor: string; action: string; subject: string; details: unknown; request_id: string | null }>(
    `SELECT id, created_at, actor, action, subject, details, request_id FROM audit_entries
      WHERE ($1::text IS NULL OR actor ILIKE $1 OR action ILIKE $1 OR subject ILIKE $1 OR details::text ILIKE $1)
        AND ($2::bigint IS NULL OR id < $2)
      ORDER BY id DESC LIMIT $3`, [pattern, before, limit]);
  return rows;
}
