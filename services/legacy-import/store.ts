// The legacy import's tables (imports, import_chunks, import_rejections, the staging tables) and
// the set-based steps over them: cross-row checks, the report, publishing into the ledger with its
// reconciliation, and cleaning up. The one module that reads and writes them.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse';
import type pg from 'pg';
import { DomainError } from '../../domain/errors.ts';
import { headerProblem, STORE_COLUMNS, type Rejection } from '../../domain/legacy-import.ts';
import type { LegacyCodeFormat } from '../../domain/legacy-code.ts';
import { inTransaction } from '../../infra/db.ts';
import { asWindows1252 } from './windows-1252.ts';

export type ImportStatus = 'staging' | 'checking' | 'awaiting_acceptance' | 'rejected' | 'loading' | 'completed'
  | 'dry_run_completed' | 'failed';

export interface ImportRecord {
  id: string;
  filesSha256: string;
  vouchersPath: string;
  historyPath: string;
  storesPath: string;
  vouchersBytes: number;
  historyBytes: number;
  encoding: 'utf8' | 'latin1';
  codeFormat: LegacyCodeFormat;
  dryRun: boolean;
  acceptedPath: string | null;
  waitForAcceptance: boolean;
  status: ImportStatus;
  requestedBy: string;
  summary: ImportSummary | null;
  reconciliation: Reconciliation | null;
  error: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

export interface ImportSummary {
  vouchers: number;
  history: number;
  rejections: number;
  byReason: Record<string, number>;
  reportSha256: string;
}

export interface ReconciliationLine {
  currency: string;
  storeId: string | null;
  fileVouchers: number;
  fileBalance: string;
  fileHistory: number;
  fileHistoryTotal: string;
  ledgerVouchers: number;
  ledgerBalance: string;
  ledgerHistory: number;
  ledgerHistoryTotal: string;
  ok: boolean;
}

export interface Reconciliation {
  ok: boolean;
  byCurrency: ReconciliationLine[];
  byStore: ReconciliationLine[];
  /** Per currency, what the migration equity account was credited: minus the opening balances. */
  migrationAccount: { currency: string; total: string }[];
}

interface ImportRow {
  id: string; files_sha256: string; vouchers_path: string; history_path: string; stores_path: string;
  vouchers_bytes: string; history_bytes: string; encoding: 'utf8' | 'latin1'; code_format: LegacyCodeFormat;
  dry_run: boolean; accepted_path: string | null; wait_for_acceptance: boolean; status: ImportStatus; requested_by: string;
  summary: ImportSummary | null; reconciliation: Reconciliation | null; error: string | null; created_at: Date; completed_at: Date | null;
}

function recordOf(r: ImportRow): ImportRecord {
  return {
    id: r.id, filesSha256: r.files_sha256, vouchersPath: r.vouchers_path, historyPath: r.history_path, storesPath: r.stores_path,
    vouchersBytes: Number(r.vouchers_bytes), historyBytes: Number(r.history_bytes), encoding: r.encoding, codeFormat: r.code_format,
    dryRun: r.dry_run, acceptedPath: r.accepted_path, waitForAcceptance: r.wait_for_acceptance, status: r.status,
    requestedBy: r.requested_by, summary: r.summary, reconciliation: r.reconciliation, error: r.error,
    createdAt: r.created_at, completedAt: r.completed_at,
  };
}

/** Where the portal's uploads are kept: inside the configured import directory. */
export function importUploadsDir(importDir: string): string {
  return path.resolve(importDir, 'uploads');
}

export async function fileSha256(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex'), bytes: (await stat(path)).size };
}

export interface NewImport {
  vouchersPath: string;
  historyPath: string;
  storesPath: string;
  encoding: 'utf8' | 'latin1';
  codeFormat: LegacyCodeFormat;
  dryRun: boolean;
  acceptedPath: string | null;
  waitForAcceptance: boolean;
  requestedBy: string;
}

/**
 * Registers an import of these files, or returns the completed import of the very same files (and
 * options that change the outcome): importing them again changes nothing.
 */
export async function createImport(pool: pg.Pool, n: NewImport): Promise<{ record: ImportRecord; existing: boolean }> {
  const [v, h, s] = await Promise.all([fileSha256(n.vouchersPath), fileSha256(n.historyPath), fileSha256(n.storesPath)]);
  const filesSha256 = createHash('sha256').update([v.sha256, h.sha256, s.sha256, n.encoding, n.codeFormat].join('|')).digest('hex');
  // Done already, or running now with the same intent: a repeated start joins it.
  const { rows: [done] } = await pool.query<ImportRow>(
    `SELECT * FROM imports WHERE files_sha256 = $1
        AND (status = 'completed' OR (status IN ('staging', 'checking', 'awaiting_acceptance', 'loading') AND dry_run = $2
             AND accepted_path IS NOT DISTINCT FROM $3))
      ORDER BY status = 'completed' DESC, created_at DESC LIMIT 1`, [filesSha256, n.dryRun, n.acceptedPath]);
  if (done) return { record: recordOf(done), existing: true };
  const { rows: [created] } = await pool.query<ImportRow>(
    `INSERT INTO imports (files_sha256, vouchers_sha256, history_sha256, stores_sha256, vouchers_path, history_path, stores_path,
                          vouchers_bytes, history_bytes, encoding, code_format, dry_run, accepted_path, wait_for_acceptance, requested_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING *`,
    [filesSha256, v.sha256, h.sha256, s.sha256, n.vouchersPath, n.historyPath, n.storesPath, v.bytes, h.bytes,
      n.encoding, n.codeFormat, n.dryRun, n.acceptedPath, n.waitForAcceptance, n.requestedBy]);
  return { record: recordOf(created!), existing: false };
}

export async function getImport(pool: pg.Pool, id: string): Promise<ImportRecord | null> {
  const { rows } = await pool.query<ImportRow>('SELECT * FROM imports WHERE id = $1', [id]);
  return rows[0] ? recordOf(rows[0]) : null;
}

export async function listImports(pool: pg.Pool, limit: number): Promise<ImportRecord[]> {
  const { rows } = await pool.query<ImportRow>('SELECT * FROM imports ORDER BY created_at DESC LIMIT $1', [limit]);
  return rows.map(recordOf);
}

export async function setStatus(pool: pg.Pool | pg.PoolClient, id: string, status: ImportStatus, fields: { error?: string; summary?: ImportSummary } = {}): Promise<void> {
  await pool.query(
    `UPDATE imports SET status = $2, error = coalesce($3, error), summary = coalesce($4, summary), updated_at = now(),
            completed_at = CASE WHEN $2 IN ('completed', 'dry_run_completed', 'rejected', 'failed') THEN now() ELSE completed_at END
      WHERE id = $1 AND status NOT IN ('completed')`,
    [id, status, fields.error ?? null, fields.summary ? JSON.stringify(fields.summary) : null]);
}

/**
 * The store mapping file: legacy store id -> one of our stores, named by its id or its exact name.
 * Rows that name no store are refused (and every voucher of that legacy store with them).
 */
export async function readStoreMapping(pool: pg.Pool, imp: ImportRecord): Promise<{ stores: Map<string, string>; rejections: Rejection[] }> {
  const { rows: known } = await pool.query<{ id: string; name: string }>('SELECT id::text, name FROM stores');
  const byId = new Map(known.map((s) => [s.id, s.id]));
  const byName = new Map<string, string | null>();
  for (const s of known) byName.set(s.name, byName.has(s.name) ? null : s.id);
  const stores = new Map<string, string>();
  const rejections: Rejection[] = [];
  const parser = createReadStream(imp.storesPath).pipe(parse({
    bom: true, info: true, relax_column_count: true, skip_empty_lines: true, encoding: imp.encoding === 'latin1' ? 'latin1' : 'utf8',
  }));
  let header = true;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (header) {
        header = false;
        const problem = headerProblem(record, STORE_COLUMNS);
        if (problem) {
          rejections.push({ file: 'stores', line: info.lines, reason: 'malformed', detail: problem });
          break;
        }
        continue;
      }
      if (record.length !== 2) {
        rejections.push({ file: 'stores', line: info.lines, reason: 'malformed', detail: `${record.length} columns, 2 expected` });
        continue;
      }
      const [legacy, ours] = (imp.encoding === 'latin1' ? asWindows1252(record) : record).map((c) => c.trim()) as [string, string];
      const storeId = byId.get(ours.toLowerCase()) ?? byName.get(ours) ?? null;
      if (!legacy || !storeId) {
        rejections.push({ file: 'stores', line: info.lines, reason: 'unknown_store',
          detail: legacy ? `"${ours.slice(0, 60)}" is no store's id nor exactly one store's name` : 'the legacy store id is empty' });
        continue;
      }
      if (stores.has(legacy)) {
        rejections.push({ file: 'stores', line: info.lines, reason: 'malformed', detail: `legacy store "${legacy.slice(0, 40)}" is mapped twice` });
        stores.delete(legacy);
        continue;
      }
      stores.set(legacy, storeId);
    }
  } catch (err) {
    const e = err as { code?: string; message?: string; lines?: number };
    if (!e.code?.startsWith('CSV_')) throw err;
    rejections.push({ file: 'stores', line: e.lines ?? 0, reason: 'malformed', detail: String(e.message).slice(0, 300) });
  } finally {
    parser.destroy();
  }
  return { stores, rejections };
}

/**
 * Staging tables are unlogged, and a database crash empties them while the committed chunks stay.
 * When a file's chunks staged rows of which none is left, they are forgotten (with the rejections
 * found while staging that file), so that the file is staged again from its start. Returns whether
 * that happened.
 */
export async function forgetLostStaging(pool: pg.Pool, importId: string, file: 'vouchers' | 'history'): Promise<boolean> {
  const table = file === 'vouchers' ? 'import_staged_vouchers' : 'import_staged_history';
  return inTransaction(pool, async (client) => {
    const { rows: [lost] } = await client.query<{ lost: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM import_chunks WHERE import_id = $1 AND file = $2 AND rows > 0)
              AND NOT EXISTS (SELECT 1 FROM ${table} WHERE import_id = $1) AS lost`, [importId, file]);
    if (!lost?.lost) return false;
    await client.query('DELETE FROM import_chunks WHERE import_id = $1 AND file = $2', [importId, file]);
    await client.query('DELETE FROM import_rejections WHERE import_id = $1 AND file = $2', [importId, file]);
    return true;
  });
}

/**
 * Rules over many rows, in SQL over the staged rows, in one transaction (a retry finds them done):
 * duplicate codes (in the file or already a card), history rows without their voucher, and history
 * that does not add up to its voucher's balance. Refused vouchers take their history with them.
 */
export async function checkStaged(pool: pg.Pool, imp: ImportRecord, storeRejections: Rejection[]): Promise<void> {
  return inTransaction(pool, async (client) => {
    await client.query('SET LOCAL statement_timeout = 0');
    const { rows: [row] } = await client.query<{ status: ImportStatus }>('SELECT status FROM imports WHERE id = $1 FOR UPDATE', [imp.id]);
    if (row?.status !== 'staging') {
      return;
    }
    const id = imp.id;
    // Fresh statistics for the staged rows (the tables grew from nothing): the checks group and join them.
    await client.query('ANALYZE import_staged_vouchers, import_staged_history');
    if (storeRejections.length > 0) {
      await client.query(
        `INSERT INTO import_rejections (import_id, file, line, reason, detail)
         SELECT $1, * FROM unnest($2::text[], $3::int[], $4::text[], $5::text[]) ON CONFLICT DO NOTHING`,
        [id, storeRejections.map((r) => r.file), storeRejections.map((r) => r.line), storeRejections.map((r) => r.reason), storeRejections.map((r) => r.detail)]);
    }
    await client.query(`
      WITH dup AS (
        SELECT code_hash, string_agg(line::text, ', ' ORDER BY line) AS lines
          FROM import_staged_vouchers WHERE import_id = $1 GROUP BY code_hash HAVING count(*) > 1
      ), marked AS (
        UPDATE import_staged_vouchers v SET rejected = true FROM dup
         WHERE v.import_id = $1 AND v.code_hash = dup.code_hash RETURNING v.line, v.rejected, dup.lines
      )
      INSERT INTO import_rejections (import_id, file, line, reason, detail)
      SELECT $1, 'vouchers', line, 'duplicate_code', 'the same code is on lines ' || lines FROM marked
      ON CONFLICT DO NOTHING`, [id]);
    await client.query(`
      WITH marked AS (
        UPDATE import_staged_vouchers v SET rejected = true FROM cards c
         WHERE v.import_id = $1 AND NOT v.rejected AND c.code_hash = v.code_hash RETURNING v.line
      )
      INSERT INTO import_rejections (import_id, file, line, reason, detail)
      SELECT $1, 'vouchers', line, 'duplicate_code', 'a card with this code exists already' FROM marked
      ON CONFLICT DO NOTHING`, [id]);
    // History that does not add up to its balance (vouchers without any history are taken at
    // their balance: the old system may have purged old transactions).
    await client.query(`
      WITH sums AS (
        SELECT code_hash, sum(delta) AS total, count(*) AS n FROM import_staged_history WHERE import_id = $1 GROUP BY code_hash
      ), marked AS (
        UPDATE import_staged_vouchers v SET rejected = true FROM sums s
         WHERE v.import_id = $1 AND NOT v.rejected AND s.code_hash = v.code_hash AND s.total <> v.balance
        RETURNING v.line, v.balance, s.total, s.n
      )
      INSERT INTO import_rejections (import_id, file, line, reason, detail)
      SELECT $1, 'vouchers', line, 'history_mismatch',
             format('its %s history rows add up to %s, the balance is %s', n, total, balance) FROM marked
      ON CONFLICT DO NOTHING`, [id]);
    await client.query(`
      WITH gone AS (
        DELETE FROM import_staged_history h
         WHERE h.import_id = $1 AND NOT EXISTS (
           SELECT 1 FROM import_staged_vouchers v WHERE v.import_id = $1 AND v.code_hash = h.code_hash AND NOT v.rejected)
        RETURNING h.line, EXISTS (SELECT 1 FROM import_staged_vouchers v WHERE v.import_id = $1 AND v.code_hash = h.code_hash) AS refused
      )
      INSERT INTO import_rejections (import_id, file, line, reason, detail)
      SELECT $1, 'history', line,
             CASE WHEN refused THEN 'voucher_rejected' ELSE 'unknown_voucher' END,
             CASE WHEN refused THEN 'its voucher is refused' ELSE 'no voucher in the file has this code' END FROM gone
      ON CONFLICT DO NOTHING`, [id]);
    const summary = await summarize(client, id);
    await client.query(`UPDATE imports SET status = 'checking', summary = $2, updated_at = now() WHERE id = $1`, [id, JSON.stringify(summary)]);
  });
}

const FILE_ORDER = `CASE file WHEN 'stores' THEN 0 WHEN 'vouchers' THEN 1 ELSE 2 END`;

async function summarize(client: pg.PoolClient, id: string): Promise<ImportSummary> {
  const { rows: [counts] } = await client.query<{ vouchers: string; history: string }>(
    `SELECT (SELECT count(*) FROM import_staged_vouchers WHERE import_id = $1 AND NOT rejected) AS vouchers,
            (SELECT count(*) FROM import_staged_history WHERE import_id = $1) AS history`, [id]);
  const { rows: reasons } = await client.query<{ reason: string; n: string }>(
    'SELECT reason, count(*) AS n FROM import_rejections WHERE import_id = $1 GROUP BY reason ORDER BY reason', [id]);
  const hash = createHash('sha256');
  for await (const line of reportLines(client, id)) hash.update(line);
  return {
    vouchers: Number(counts!.vouchers), history: Number(counts!.history),
    rejections: reasons.reduce((n, r) => n + Number(r.n), 0),
    byReason: Object.fromEntries(reasons.map((r) => [r.reason, Number(r.n)])),
    reportSha256: hash.digest('hex'),
  };
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const REPORT_HEADER = 'file,line,reason,detail\n';

/** The rejection report as CSV lines (header first), in file and line order, read in pages. */
export async function* reportLines(db: pg.Pool | pg.PoolClient, id: string): AsyncGenerator<string> {
  yield REPORT_HEADER;
  let after: [number, number, string] = [-1, 0, ''];
  for (;;) {
    const { rows } = await db.query<{ ord: number; file: string; line: number; reason: string; detail: string }>(
      `SELECT ${FILE_ORDER} AS ord, file, line, reason, detail FROM import_rejections
        WHERE import_id = $1 AND (${FILE_ORDER}, line, reason) > ($2, $3, $4)
        ORDER BY 1, line, reason LIMIT 5000`, [id, ...after]);
    for (const r of rows) yield `${r.file},${r.line},${r.reason},${csvField(r.detail)}\n`;
    if (rows.length < 5000) return;
    const l = rows[rows.length - 1]!;
    after = [l.ord, l.line, l.reason];
  }
}

/**
 * Whether an operator accepted exactly these rejections: every one of them (file, line, reason) is
 * in the accepted list, which has the report's format (so the report itself, reviewed, is one).
 */
export async function rejectionsAccepted(pool: pg.Pool, imp: ImportRecord): Promise<boolean> {
  if (!imp.acceptedPath) return false;
  const accepted = new Set<string>();
  const parser = createReadStream(imp.acceptedPath).pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, from_line: 2 }));
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (record.length >= 3) accepted.add(`${record[0]!.trim()}|${record[1]!.trim()}|${record[2]!.trim()}`);
    }
  } catch (err) {
    if (String((err as { code?: string }).code).startsWith('CSV_')) return false;
    throw err;
  }
  const { rows } = await pool.query<{ file: string; line: number; reason: string }>(
    'SELECT file, line, reason FROM import_rejections WHERE import_id = $1', [imp.id]);
  return rows.every((r) => accepted.has(`${r.file}|${r.line}|${r.reason}`));
}

/** The first rejections in report order, for a page; the whole report is reportLines. */
export async function firstRejections(pool: pg.Pool, id: string, limit: number): Promise<Rejection[]> {
  const { rows } = await pool.query<Rejection>(
    `SELECT file, line, reason, detail FROM import_rejections WHERE import_id = $1 ORDER BY ${FILE_ORDER}, line, reason LIMIT $2`, [id, limit]);
  return rows;
}

/** Staging rows are scratch: gone once the import is done (or was a dry run). */
export async function dropStaging(pool: pg.Pool, id: string): Promise<void> {
  const client = await pool.connect();
  try {
    // Millions of rows for a large import: longer than the pool's statement timeout allows.
    await client.query('SET statement_timeout = 0');
    await client.query('DELETE FROM import_staged_vouchers WHERE import_id = $1', [id]);
    await client.query('DELETE FROM import_staged_history WHERE import_id = $1', [id]);
  } finally {
    await client.query('RESET statement_timeout').catch(() => {});
    client.release();
  }
}

/** Vouchers (by staged line) published per statement inside the one transaction. */
const PUBLISH_LINES = 50_000;

/**
 * Publishes the checked rows into the ledger in ONE transaction: cards with their opening balances
 * (migration -> card_available) and the history as memo entries with their original times, then
 * reconciles the file's accepted rows against what the ledger now holds for this import, per
 * currency and per store. Any difference rolls everything back (import_reconciliation_failed); a
 * crash rolls it back too, and the retried activity publishes again from the staged rows.
 */
export async function publish(pool: pg.Pool, imp: ImportRecord, beat: (what: string) => void): Promise<Reconciliation> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL statement_timeout = 0');
    const { rows: [row] } = await client.query<ImportRow>('SELECT * FROM imports WHERE id = $1 FOR UPDATE', [imp.id]);
    if (row?.status === 'completed') {
      await client.query('ROLLBACK');
      return row.reconciliation!;
    }
    if (row?.status !== 'loading') throw new DomainError('validation_error', `import ${imp.id} is ${row?.status}, not loading`);
    const id = imp.id;
    await requireCheckedRowsStaged(client, row);
    await publishVouchers(client, id, beat);
    await publishHistory(client, id, beat);
    await client.query(`INSERT INTO legacy_code_formats (format, first_import_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [imp.codeFormat, id]);
    const reconciliation = await reconcile(client, id);
    if (!reconciliation.ok) {
      await client.query('ROLLBACK');
      await pool.query(`UPDATE imports SET reconciliation = $2, updated_at = now() WHERE id = $1`, [id, JSON.stringify(reconciliation)]);
      throw new DomainError('import_reconciliation_failed', 'the ledger does not match the files after loading; nothing was imported');
    }
    await client.query(
      `UPDATE imports SET status = 'completed', reconciliation = $2, updated_at = now(), completed_at = now() WHERE id = $1`,
      [id, JSON.stringify(reconciliation)]);
    await client.query('COMMIT');
    return reconciliation;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** The staged counts still equal the checked summary (the staging tables are unlogged). */
async function requireCheckedRowsStaged(client: pg.PoolClient, row: ImportRow): Promise<void> {
  const id = row.id;
  // Staging tables are unlogged: a database crash since the check empties them, and publishing
  // the empty rest would reconcile (nothing against nothing). The checked counts must be there.
  const { rows: [staged] } = await client.query<{ vouchers: string; history: string }>(
    `SELECT (SELECT count(*) FROM import_staged_vouchers WHERE import_id = $1 AND NOT rejected) AS vouchers,
            (SELECT count(*) FROM import_staged_history WHERE import_id = $1) AS history`, [id]);
  if (Number(staged!.vouchers) !== row.summary?.vouchers || Number(staged!.history) !== row.summary.history) {
    throw new DomainError('import_reconciliation_failed',
      `the staged rows (${staged!.vouchers} vouchers, ${staged!.history} history rows) are not the ${row.summary?.vouchers} and `
      + `${row.summary?.history} that were checked (the database restarted?); nothing was imported: start the import again`);
  }
}

/** Cards, their buyers' addresses and opening balances, in slices of PUBLISH_LINES staged lines. */
async function publishVouchers(client: pg.PoolClient, id: string, beat: (what: string) => void): Promise<void> {
  const { rows: [range] } = await client.query<{ lo: number | null; hi: number | null }>(
    'SELECT min(line) AS lo, max(line) AS hi FROM import_staged_vouchers WHERE import_id = $1', [id]);
  for (let from = (range?.lo ?? 1) - 1; range?.hi != null && from < range.hi; from += PUBLISH_LINES) {
    await client.query(`
      WITH v AS (
        SELECT * FROM import_staged_vouchers WHERE import_id = $1 AND NOT rejected AND line > $2 AND line <= $3
      ), c AS (
        INSERT INTO cards (id, code_hash, code_last4, currency, status, available, held, version, expires_at,
                           issuing_store_id, channel, created_at, updated_at)
        SELECT gen_random_uuid(), code_hash, last4, currency, status, balance, 0, 1, expires_at, store_id, 'pos', issued_at, now()
          FROM v
        RETURNING id, code_hash, currency, available, issuing_store_id
      ), b AS (
        INSERT INTO card_buyer_emails (card_id, import_id, email, email_hash)
        SELECT c.id, $1, v.buyer_email, v.buyer_email_hash FROM c JOIN v ON v.code_hash = c.code_hash WHERE v.buyer_email IS NOT NULL
      ), e AS (
        INSERT INTO journal_entries (kind, currency, card_id, store_id, amount, import_id)
        SELECT 'import_opening', currency, id, issuing_store_id, available, $1 FROM c
        RETURNING id, card_id, currency, amount
      )
      INSERT INTO postings (entry_id, account_kind, account_ref, amount, currency)
      SELECT id, 'migration'::account_kind, 'import:' || $1::uuid::text, -amount, currency FROM e WHERE amount > 0
      UNION ALL
      SELECT id, 'card_available'::account_kind, card_id::text, amount, currency FROM e WHERE amount > 0`,
    [id, from, from + PUBLISH_LINES]);
    beat(`vouchers to line ${from + PUBLISH_LINES}`);
  }
}

/** The history as memo entries with their original times: they never move a balance. */
async function publishHistory(client: pg.PoolClient, id: string, beat: (what: string) => void): Promise<void> {
  const { rows: [hrange] } = await client.query<{ lo: number | null; hi: number | null }>(
    'SELECT min(line) AS lo, max(line) AS hi FROM import_staged_history WHERE import_id = $1', [id]);
  for (let from = (hrange?.lo ?? 1) - 1; hrange?.hi != null && from < hrange.hi; from += PUBLISH_LINES * 4) {
    await client.query(`
      INSERT INTO journal_entries (kind, currency, card_id, store_id, booked_at, amount, import_id, legacy_type, legacy_terminal)
      SELECT 'legacy_history', c.currency, c.id, h.store_id, h.booked_at, abs(h.delta), $1, h.legacy_type, h.legacy_terminal
        FROM import_staged_history h JOIN cards c ON c.code_hash = h.code_hash
       WHERE h.import_id = $1 AND h.line > $2 AND h.line <= $3`, [id, from, from + PUBLISH_LINES * 4]);
    beat(`history to line ${from + PUBLISH_LINES * 4}`);
  }
}

/**
 * The file's accepted rows (staged, each line once) against the ledger's entries of this import,
 * per currency and store: counts and totals of vouchers (opening balances) and of history (signed
 * as the old system booked it). Entries, not card balances: tills may spend the cards at once.
 */
async function reconcile(client: pg.PoolClient, id: string): Promise<Reconciliation> {
  const { rows } = await client.query<{
    currency: string; store_id: string | null; fv: string; fb: string; fh: string; ft: string; lv: string; lb: string; lh: string; lt: string;
  }>(`
    WITH file_v AS (
      SELECT currency, store_id, count(*) AS n, sum(balance) AS total FROM import_staged_vouchers
       WHERE import_id = $1 AND NOT rejected GROUP BY 1, 2
    ), file_h AS (
      SELECT v.currency, h.store_id, count(*) AS n, sum(h.delta) AS total
        FROM import_staged_history h JOIN import_staged_vouchers v ON v.import_id = $1 AND v.code_hash = h.code_hash AND NOT v.rejected
       WHERE h.import_id = $1 GROUP BY 1, 2
    ), ledger_v AS (
      SELECT currency, store_id, count(*) AS n, sum(amount) AS total FROM journal_entries
       WHERE import_id = $1 AND kind = 'import_opening' GROUP BY 1, 2
    ), ledger_h AS (
      SELECT currency, store_id, count(*) AS n,
             sum(CASE WHEN legacy_type IN ('redeem', 'expire', 'adjust_debit') THEN -amount ELSE amount END) AS total
        FROM journal_entries WHERE import_id = $1 AND kind = 'legacy_history' GROUP BY 1, 2
    ), keys AS (
      SELECT currency, store_id FROM file_v UNION SELECT currency, store_id FROM file_h
      UNION SELECT currency, store_id FROM ledger_v UNION SELECT currency, store_id FROM ledger_h
    )
    SELECT k.currency, k.store_id::text,
           coalesce(fv.n, 0) AS fv, coalesce(fv.total, 0) AS fb, coalesce(fh.n, 0) AS fh, coalesce(fh.total, 0) AS ft,
           coalesce(lv.n, 0) AS lv, coalesce(lv.total, 0) AS lb, coalesce(lh.n, 0) AS lh, coalesce(lh.total, 0) AS lt
      FROM keys k
      LEFT JOIN file_v fv ON fv.currency = k.currency AND fv.store_id IS NOT DISTINCT FROM k.store_id
      LEFT JOIN file_h fh ON fh.currency = k.currency AND fh.store_id IS NOT DISTINCT FROM k.store_id
      LEFT JOIN ledger_v lv ON lv.currency = k.currency AND lv.store_id IS NOT DISTINCT FROM k.store_id
      LEFT JOIN ledger_h lh ON lh.currency = k.currency AND lh.store_id IS NOT DISTINCT FROM k.store_id
     ORDER BY 1, 2 NULLS FIRST`, [id]);
  const line = (r: typeof rows[number]): ReconciliationLine => ({
    currency: r.currency, storeId: r.store_id,
    fileVouchers: Number(r.fv), fileBalance: r.fb, fileHistory: Number(r.fh), fileHistoryTotal: r.ft,
    ledgerVouchers: Number(r.lv), ledgerBalance: r.lb, ledgerHistory: Number(r.lh), ledgerHistoryTotal: r.lt,
    ok: r.fv === r.lv && r.fb === r.lb && r.fh === r.lh && r.ft === r.lt,
  });
  const byStore = rows.map(line);
  const byCurrency = new Map<string, ReconciliationLine>();
  for (const s of byStore) {
    const c = byCurrency.get(s.currency) ?? { ...s, storeId: null, fileVouchers: 0, fileBalance: '0', fileHistory: 0, fileHistoryTotal: '0',
      ledgerVouchers: 0, ledgerBalance: '0', ledgerHistory: 0, ledgerHistoryTotal: '0', ok: true };
    const add = (a: string, b: string) => (BigInt(a) + BigInt(b)).toString();
    byCurrency.set(s.currency, {
      ...c, fileVouchers: c.fileVouchers + s.fileVouchers, fileBalance: add(c.fileBalance, s.fileBalance),
      fileHistory: c.fileHistory + s.fileHistory, fileHistoryTotal: add(c.fileHistoryTotal, s.fileHistoryTotal),
      ledgerVouchers: c.ledgerVouchers + s.ledgerVouchers, ledgerBalance: add(c.ledgerBalance, s.ledgerBalance),
      ledgerHistory: c.ledgerHistory + s.ledgerHistory, ledgerHistoryTotal: add(c.ledgerHistoryTotal, s.ledgerHistoryTotal),
      ok: c.ok && s.ok,
    });
  }
  const { rows: migration } = await client.query<{ currency: string; total: string }>(
    `SELECT currency, sum(amount)::text AS total FROM postings p
      WHERE account_kind = 'migration' AND account_ref = 'import:' || $1::uuid::text
        AND entry_id IN (SELECT id FROM journal_entries WHERE import_id = $1 AND kind = 'import_opening')
      GROUP BY currency ORDER BY currency`, [id]);
  const currencies = [...byCurrency.values()];
  const migrationOk = currencies.every((c) =>
    BigInt(migration.find((m) => m.currency === c.currency)?.total ?? '0') === -BigInt(c.fileBalance));
  return { ok: byStore.every((s) => s.ok) && migrationOk, byCurrency: currencies, byStore, migrationAccount: migration };
}
