// `npm run bench -- import [--vouchers 1000000] [--history 5000000] [--stores 50] [--heap-mib 256]`
//
// A legacy system's export: N vouchers and M history rows (issue, load, redemptions, refunds that
// add up to each balance) as CSV files, plus the store mapping. Then, in one run:
//   baseline  PostgreSQL COPY of the same three files into plain tables (streamed from the files,
//             as psql's \copy does): what loading the bytes costs with no checks at all;
//   project   `npm run import` as an operator runs it: the import-<id> workflow on the engine's
//             worker process stages, checks, publishes into the ledger and reconciles.
// Peak RSS is the import worker's (WORKER_ROLE=import: the process that parses the files), measured
// from the import's start (its high-water mark is reset first, so start-up does not count).
// Last line: one JSON object.

import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import copyStreams from 'pg-copy-streams';
import type pg from 'pg';
import { connectDatabase } from '../infra/db.ts';
import { ROOT, startEngine, type Engine } from './lib/engine.ts';
import { round } from './lib/load.ts';
import { seedScheme } from './lib/month.ts';

const log = (line: string) => console.log(`[bench] ${line}`);

async function write(file: string, rows: number, line: (i: number) => string, what: string): Promise<void> {
  const out = createWriteStream(file);
  const started = performance.now();
  let next = Math.max(1, Math.floor(rows / 10));
  for (let i = 0; i < rows; i++) {
    if (!out.write(line(i))) await new Promise<void>((r) => out.once('drain', () => r()));
    if (i + 1 >= next) {
      log(`  ${what}: ${(i + 1).toLocaleString('en')} / ${rows.toLocaleString('en')} rows (${((performance.now() - started) / 1000).toFixed(0)} s)`);
      next += Math.max(1, Math.floor(rows / 10));
    }
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** The files: each voucher's history (k rows) adds up to its balance. */
export async function generateFiles(dir: string, vouchers: number, history: number, stores: string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'stores.csv'), `legacy_store,store\n${stores.map((s, i) => `L${i + 1},${s}`).join('\n')}\n`);
  const perVoucher = Math.max(1, Math.floor(history / vouchers));
  const extra = history - perVoucher * vouchers;
  const code = (i: number) => `BENCH-${String(i).padStart(8, '0')}`;
  const rowsOf = (i: number) => perVoucher + (i < extra ? 1 : 0);
  const issued = (i: number) => 5000 + (i % 40) * 250;
  // Row j of voucher i: issue first, then alternately redemptions and loads/refunds.
  const delta = (i: number, j: number) => (j === 0 ? issued(i) : j % 2 === 1 ? -(100 + (j * 37 + i) % 400) : 50 + (i + j) % 100);
  const balance = (i: number) => {
    let b = 0;
    for (let j = 0; j < rowsOf(i); j++) b += delta(i, j);
    return b;
  };
  log(`generating ${vouchers.toLocaleString('en')} vouchers and ${history.toLocaleString('en')} history rows in ${dir}`);
  await write(path.join(dir, 'vouchers.csv'), vouchers + 1, (n) => n === 0
    ? 'code,balance,currency,issued_at,expires_at,store,status,email\n'
    : `${code(n - 1)},${balance(n - 1)},EUR,2024-01-01T10:00:00Z,2029-01-01,L${((n - 1) % stores.length) + 1},active,\n`, 'vouchers.csv');
  // History is written voucher by voucher: the row counter maps to (voucher, row) incrementally.
  let v = 0;
  let j = 0;
  const types = (d: number, jj: number) => (jj === 0 ? 'issue' : d < 0 ? 'redeem' : jj % 4 === 2 ? 'load' : 'refund');
  await write(path.join(dir, 'history.csv'), history + 1, (n) => {
    if (n === 0) return 'code,type,amount,time,store,terminal\n';
    const d = delta(v, j);
    const text = `${code(v)},${types(d, j)},${Math.abs(d)},2024-${String(1 + (j % 12)).padStart(2, '0')}-15T12:00:00Z,L${((v + j) % stores.length) + 1},T${j % 3}\n`;
    if (++j >= rowsOf(v)) { v++; j = 0; }
    return text;
  }, 'history.csv');
}

const BASELINE_TABLES = `
  DROP TABLE IF EXISTS baseline_vouchers, baseline_history, baseline_stores;
  CREATE TABLE baseline_vouchers (code text, balance bigint, currency text, issued_at timestamptz, expires_at timestamptz,
                                  store text, status text, email text);
  CREATE TABLE baseline_history (code text, type text, amount bigint, "time" timestamptz, store text, terminal text);
  CREATE TABLE baseline_stores (legacy_store text, store text);`;

async function copyFile(pool: pg.Pool, table: string, file: string): Promise<void> {
  const client = await pool.connect();
  try {
    await pipeline(createReadStream(file), client.query(copyStreams.from(`COPY ${table} FROM STDIN WITH (FORMAT csv, HEADER true)`)));
  } finally {
    client.release();
  }
}

function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function rssMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      vouchers: { type: 'string', default: '1000000' }, history: { type: 'string' }, stores: { type: 'string', default: '50' },
      // The import worker's V8 heap limit, as deploy/k8s/import-worker.yaml and docker-compose.yml set it (0: Node's default).
      'heap-mib': { type: 'string', default: '256' },
    },
  });
  const vouchers = Number(values.vouchers);
  const history = Number(values.history ?? vouchers * 5);
  const storeCount = Number(values.stores);
  const heapMib = Number(values['heap-mib']);
  if (![vouchers, history, storeCount].every((n) => Number.isInteger(n) && n > 0) || history < vouchers || !(Number.isInteger(heapMib) && heapMib >= 0)) {
    console.error('--vouchers, --history and --stores take positive integers, with at least one history row per voucher; --heap-mib an integer >= 0');
    return 2;
  }

  const dataDir = path.join(ROOT, '.data/bench');
  const filesDir = path.join(dataDir, 'import');
  let engine: Engine | undefined;
  try {
    // As deployed: the import runs in a worker of its own (WORKER_ROLE=import), whose memory is measured.
    engine = await startEngine({
      dataDir, log, env: () => ({ IMPORT_DIR: filesDir, DB_STATEMENT_TIMEOUT_MS: '0' }),
      importWorker: { env: heapMib > 0 ? { NODE_OPTIONS: `--max-old-space-size=${heapMib}` } : {} },
    });
    const db = connectDatabase(engine.databaseUrl, { max: 4 });
    try {
      await seedScheme(db.prisma, storeCount, Math.max(1, Math.floor(storeCount / 5)), log);
      const { rows: stores } = await db.pool.query<{ id: string }>('SELECT id::text FROM stores ORDER BY name');
      await generateFiles(filesDir, vouchers, history, stores.map((s) => s.id));
      const files = ['vouchers', 'history', 'stores'].map((f) => path.join(filesDir, `${f}.csv`)) as [string, string, string];

      log('baseline: COPY of the three files into plain tables');
      await db.pool.query(BASELINE_TABLES);
      const t0 = performance.now();
      await Promise.all([copyFile(db.pool, 'baseline_vouchers', files[0]), copyFile(db.pool, 'baseline_history', files[1]),
        copyFile(db.pool, 'baseline_stores', files[2])]);
      const baselineS = (performance.now() - t0) / 1000;
      log(`baseline: ${baselineS.toFixed(2)} s`);
      await db.pool.query('DROP TABLE baseline_vouchers, baseline_history, baseline_stores');
      await db.pool.query('CHECKPOINT').catch(() => {});

      const workerPid = engine.importWorker!.pid!;
      const peakReset = resetPeakRss(workerPid);
      // What the worker holds before the import begins (its code, Temporal's runtime, pools).
      const rssBefore = rssMiB(workerPid, 'VmRSS');
      log(`project: npm run import (worker pid ${workerPid}${peakReset ? ', peak RSS reset' : ', peak RSS not resettable: includes start-up'})`);
      const t1 = performance.now();
      const code = await new Promise<number>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/import.ts', '--vouchers', files[0], '--history', files[1], '--stores', files[2]], {
          cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, DATABASE_URL: engine!.databaseUrl, TEMPORAL_ADDRESS: engine!.stack.temporalAddress,
            TEMPORAL_NAMESPACE: engine!.stack.temporalNamespace, TEMPORAL_TASK_QUEUE: engine!.taskQueue, IMPORT_DIR: filesDir },
        });
        let buffered = '';
        child.stdout.on('data', (d: Buffer) => {
          buffered += d.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const l of lines) log(`  ${((performance.now() - t1) / 1000).toFixed(1)} s ${l}`);
        });
        child.on('close', (c) => resolve(c ?? 1));
      });
      const projectS = (performance.now() - t1) / 1000;
      const peak = rssMiB(workerPid, 'VmHWM');
      const { rows: [imp] } = await db.pool.query<{ status: string; ok: boolean | null }>(
        `SELECT status, (reconciliation->>'ok')::boolean AS ok FROM imports ORDER BY created_at DESC LIMIT 1`);
      const { rows: [counts] } = await db.pool.query<{ cards: string; history: string }>(
        `SELECT (SELECT count(*) FROM cards WHERE code_last4 IS NOT NULL AND channel = 'pos') AS cards,
                (SELECT count(*) FROM journal_entries WHERE kind = 'legacy_history') AS history`);
      log(`project: ${projectS.toFixed(2)} s, import ${imp?.status}, ${counts?.cards} cards, ${counts?.history} history entries`);
      const summary = {
        bench: 'import', vouchers, history_rows: history, stores: storeCount,
        project_s: round(projectS, 2), baseline_s: round(baselineS, 2), ratio: round(baselineS / projectS, 3),
        peak_rss_mib: round(peak, 1), peak_rss_from_import_start: peakReset, rss_at_import_start_mib: round(rssBefore, 1),
        import_worker_heap_limit_mib: heapMib || null,
        reconciled: code === 0 && imp?.status === 'completed' && imp.ok === true,
      };
      console.log(JSON.stringify(summary));
      return summary.reconciled ? 0 : 1;
    } finally {
      await db.close();
    }
  } finally {
    await engine?.stop();
  }
}
