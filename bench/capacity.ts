// `npm run bench -- capacity [--rates 25,50,100,200,400] [--step-seconds 30] [--temporal server|dev] …`
//
// How many redemptions per second the engine sustains as users run it: the production build on
// the cluster launcher (scripts/cluster: compiled dist/, two APIs behind the load balancer, two
// workers, Temporal Server on PostgreSQL, a Redis of its own). Tills arrive open-loop, on a
// schedule that does not wait for answers, at stepped rates; each arrival authorizes and then
// captures. A step is sustained when authorize p99 <= 50 ms, the lag from capture to the
// redemption workflow's close is <= 5 s at p99, errors stay under 0.1%, and neither the outbox's
// oldest row nor that lag keeps growing over the step. capacity_per_s is the highest sustained
// step. In the same run, the baseline: the guarded SQL of bench/redeem.ts through `pg`,
// closed-loop. The last line of output is one JSON object with every step and the ratio.

import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { connectClient } from '../infra/temporal.ts';
import { startCluster, type Cluster } from '../scripts/cluster/index.ts';
import { baselineOp, cardPicker, seedBaseline } from './lib/baseline.ts';
import { cpuByGroup, cpuSnapshot } from './lib/cpu.ts';
import { ROOT } from './lib/engine.ts';
import { JsonClient } from './lib/http.ts';
import { checkLedger } from './lib/ledger.ts';
import { percentile, round, runLoad } from './lib/load.ts';
import { runOpenLoop, type Arrival, type OpenLoopResult } from './lib/open-loop.ts';
import { createTills, type Till } from './lib/tills.ts';
import { WorkflowLagTracker, type LagSample } from './lib/workflow-lag.ts';

const log = (line: string) => console.log(`[bench] ${line}`);

const AMOUNT = 100; // 1.00 EUR per redemption
const CARD_BALANCE = 1_000_000; // 10,000.00 EUR: 400/s for a minute spreads 2,400 EUR over the cards
const CURRENCY = 'EUR';

/** What a sustained step must meet (issue #16). */
const LIMITS = {
  authorizeP99Ms: 50,
  workflowLagP99Ms: 5_000,
  errorRate: 0.001,
  /** A backlog "grows" when it ends the step above this floor (s) … */
  growthFloorSeconds: 1,
  /** … and rose over the step by more than this many seconds of age per second (least squares). */
  growthSlope: 0.05,
};

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      rates: { type: 'string', default: '25,50,100,200,400' },
      'step-seconds': { type: 'string', default: '30' },
      warmup: { type: 'string', default: '5' },
      'keep-going': { type: 'string', default: '0' },
      arrivals: { type: 'string', default: 'poisson' },
      temporal: { type: 'string', default: 'server' },
      via: { type: 'string', default: 'lb' },
      apis: { type: 'string', default: '2' },
      workers: { type: 'string', default: '2' },
      terminals: { type: 'string', default: '32' },
      'cards-per-terminal': { type: 'string', default: '8' },
      'lag-samples': { type: 'string', default: '20' },
      'settle-seconds': { type: 'string', default: '20' },
      'max-in-flight': { type: 'string', default: '2000' },
      'baseline-seconds': { type: 'string', default: '15' },
      'idle-seconds': { type: 'string', default: '5' },
      'baseline-concurrency': { type: 'string', default: '32' },
      database: { type: 'string', default: 'voucher_capacity' },
    },
  });
  const rates = values.rates.split(',').map(Number);
  const int = (name: keyof typeof values) => Number(values[name]);
  const o = {
    rates,
    stepSeconds: int('step-seconds'),
    warmupSeconds: int('warmup'),
    keepGoing: int('keep-going'),
    arrivals: values.arrivals as 'poisson' | 'fixed',
    temporal: values.temporal as 'server' | 'dev',
    via: values.via as 'lb' | 'direct',
    apis: int('apis'),
    workers: int('workers'),
    terminals: int('terminals'),
    cardsPerTerminal: int('cards-per-terminal'),
    lagSamplesPerSecond: int('lag-samples'),
    settleSeconds: int('settle-seconds'),
    maxInFlight: int('max-in-flight'),
    baselineSeconds: int('baseline-seconds'),
    idleSeconds: int('idle-seconds'),
    baselineConcurrency: int('baseline-concurrency'),
    database: values.database,
  };
  const positive = [o.stepSeconds, o.apis, o.workers, o.terminals, o.cardsPerTerminal, o.lagSamplesPerSecond, o.maxInFlight,
    o.baselineSeconds, o.baselineConcurrency, o.settleSeconds];
  if (!rates.length || !rates.every((r) => r > 0) || !positive.every((n) => Number.isInteger(n) && n > 0)
    || !(o.warmupSeconds >= 0) || !(Number.isInteger(o.keepGoing) && o.keepGoing >= 0)
    || !['poisson', 'fixed'].includes(o.arrivals) || !['server', 'dev'].includes(o.temporal) || !['lb', 'direct'].includes(o.via)
    || !/^[a-z_][a-z0-9_]*$/.test(o.database)) {
    console.error('usage: npm run bench -- capacity [--rates 25,50,100,200,400] [--step-seconds 30] [--warmup 5] [--keep-going 0]\n'
      + '  [--arrivals poisson|fixed] [--temporal server|dev] [--via lb|direct] [--apis 2] [--workers 2] [--terminals 32]\n'
      + '  [--cards-per-terminal 8] [--lag-samples 20] [--settle-seconds 20] [--max-in-flight 2000]\n'
      + '  [--baseline-seconds 15] [--baseline-concurrency 32] [--database voucher_capacity]');
    return 2;
  }

  const dataDir = path.join(ROOT, '.data/capacity');
  const databaseUrl = await freshDatabases(o.database, o.temporal, dataDir);
  // Each card is redeemed many times a minute: velocity limits high enough never to decline, but
  // on, so every authorization pays for its counters as in production (as bench/redeem.ts).
  const high = '1000000000';
  const cluster = await startCluster({
    temporal: o.temporal, apis: o.apis, workers: o.workers, databaseUrl, dataDir, namespace: 'voucher-capacity',
    temporalPort: 17533, log: (line) => log(`cluster: ${line}`),
    env: {
      VELOCITY_CARD_REDEMPTIONS_PER_HOUR: high, VELOCITY_CARD_AMOUNT_PER_HOUR_MINOR: high, VELOCITY_CARD_REDEMPTIONS_PER_DAY: high,
      VELOCITY_CARD_AMOUNT_PER_DAY_MINOR: high, VELOCITY_TERMINAL_SOLD_PER_DAY_MINOR: high,
    },
  });
  const target = `production build on the cluster launcher: ${o.apis} APIs ${o.via === 'lb' ? 'behind the load balancer' : '(tills spread over them directly)'}, `
    + `${o.workers} workers, ${o.temporal === 'server' ? 'Temporal Server on PostgreSQL' : 'Temporal dev server (SQLite)'}, own Redis`;
  log(`target: ${target}`);
  log(cluster.describe().replace(/\n/g, '\n[bench]   '));

  const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const temporal = await connectClient(cluster.temporalAddress, cluster.temporalNamespace);
  const tills: Till[] = [];
  const engineDb = o.database;
  try {
    const socketsPerTill = Math.ceil(o.maxInFlight / o.terminals);
    tills.push(...await createTills({
      databaseUrl, apiUrl: cluster.lbUrl, count: o.terminals, cardsPerTerminal: o.cardsPerTerminal, cardBalance: CARD_BALANCE,
      currency: CURRENCY, log, maxSockets: socketsPerTill,
    }));
    if (o.via === 'direct') {
      tills.forEach((t, i) => {
        t.http.close();
        t.http = new JsonClient(cluster.apiUrls[i % cluster.apiUrls.length]!, { authorization: `Bearer ${t.apiKey}` }, { maxSockets: socketsPerTill });
      });
    }

    // Baseline first, while the engine is idle.
    const baseline = await runBaseline(databaseUrl, o.baselineConcurrency, o.cardsPerTerminal, o.baselineSeconds);

    const pickers = tills.map((_, i) => cardPicker(i, o.cardsPerTerminal, tills.length * o.cardsPerTerminal));
    const lag = new WorkflowLagTracker(temporal);
    const outbox = new OutboxWatch(db);
    const runId = Date.now().toString(36);
    let nextK = 0;
    let sampleEvery = 1;
    let sampledIds: string[] = [];
    const op: Arrival = async (k, scheduledAt) => {
      const t = k % tills.length;
      const till = tills[t]!;
      const posReference = `cap-${runId}-${k}`;
      const auth = await till.http.request('POST', '/v1/redemptions', {
        code: till.cards[pickers[t]!()], amount: AMOUNT, currency: CURRENCY, posReference,
      });
      const authorize = performance.now() - scheduledAt;
      if (auth.status !== 200) throw new Error(`authorize ${auth.status}: ${JSON.stringify(auth.body)}`);
      const c0 = performance.now();
      const cap = await till.http.request('POST', `/v1/redemptions/${auth.body.id}/capture`, {});
      const capture = performance.now() - c0;
      if (cap.status !== 200) throw new Error(`capture ${cap.status}: ${JSON.stringify(cap.body)}`);
      // The workflow id the ledger's outbox row carries (prisma/migrations/*_ledger).
      if (k % sampleEvery === 0) {
        const workflowId = `redemption-${till.terminalId}-${posReference}`;
        lag.add(workflowId, Date.now());
        sampledIds.push(workflowId);
      }
      return { authorize, capture };
    };
    const openLoop = async (rate: number, seconds: number, label: string) => {
      sampleEvery = Math.max(1, Math.round(rate / o.lagSamplesPerSecond));
      const result = await runOpenLoop({
        ratePerSecond: rate, seconds, arrivals: o.arrivals, seed: Math.round(rate * 1000) + nextK, maxInFlight: o.maxInFlight,
        firstK: nextK, op,
        onSecond: (s) => {
          void lag.poll();
          const ob = outbox.latest;
          log(`${label} t=${s.t.toFixed(0)}s sent ${s.sent}/s, answered ${s.done}, in flight ${s.inFlight}, errors ${s.errors}; `
            + `outbox ${ob?.rows ?? '?'} rows, oldest ${ob ? ob.oldestSeconds.toFixed(1) : '?'} s; lag samples waiting ${lag.pendingCount}`);
        },
      });
      nextK += result.arrivals;
      return result;
    };

    if (o.warmupSeconds > 0) {
      log(`warm-up: ${o.warmupSeconds} s at ${rates[0]}/s (not measured)`);
      outbox.start();
      await openLoop(rates[0]!, o.warmupSeconds, 'warm-up');
      await lag.settle(o.settleSeconds * 1000);
      outbox.stop();
      await waitForEmptyOutbox(db, o.settleSeconds * 1000);
    }

    // What the cluster does with no load (Temporal's shard and queue bookkeeping, the relays' empty
    // polls, health checks), to read the per-redemption figures against.
    log(`idle: ${o.idleSeconds} s without load`);
    const idleDbBefore = await databaseCounters(db);
    const idleCpuBefore = cpuSnapshot();
    const idleStarted = performance.now();
    await new Promise((r) => setTimeout(r, o.idleSeconds * 1000));
    const idleSeconds = (performance.now() - idleStarted) / 1000;
    const idleCpu = cpuByGroup(idleCpuBefore, cpuSnapshot(), idleSeconds, groupProcesses(cluster, databaseUrl, await backendDatabases(db)));
    const idleDb = perSecond(idleDbBefore, await databaseCounters(db), idleSeconds, engineDb);
    const idle = {
      cpu_pct: Object.fromEntries([...idleCpu].filter(([, v]) => v >= 0.5).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v, 0)])),
      db_per_s: idleDb,
    };
    log(`idle: CPU ${Object.entries(idle.cpu_pct).map(([k, v]) => `${k} ${v}%`).join(', ')}; `
      + `commits/s ${Object.entries(idleDb).map(([k, v]) => `${k} ${v.commits}`).join(', ')}`);

    const steps: StepReport[] = [];
    let failures = 0;
    let histories: HistoryStats | null = null;
    for (const rate of rates) {
      sampledIds = [];
      log(`step ${rate}/s for ${o.stepSeconds} s (${o.arrivals} arrivals; lag sampled on 1 in ${Math.max(1, Math.round(rate / o.lagSamplesPerSecond))})`);
      const pgDatabases = await backendDatabases(db);
      const dbBefore = await databaseCounters(db);
      const before = cpuSnapshot();
      const t0 = performance.now();
      outbox.start();
      const load = await openLoop(rate, o.stepSeconds, `${rate}/s`);
      const loadSeconds = (performance.now() - t0) / 1000;
      const after = cpuSnapshot();
      const dbAfter = await databaseCounters(db);
      const outboxSeries = outbox.stop();
      for (const [pid, name] of await backendDatabases(db)) pgDatabases.set(pid, name);
      log(`${rate}/s: load done; waiting up to ${o.settleSeconds} s for ${lag.pendingCount} sampled workflows to close`);
      const lagSamples = await lag.settle(o.settleSeconds * 1000);
      if (lag.lastError) log(`${rate}/s: a visibility query failed (last error: ${lag.lastError})`);
      const cpu = cpuByGroup(before, after, loadSeconds, groupProcesses(cluster, databaseUrl, pgDatabases));
      const step = stepReport(rate, o.stepSeconds, load, lagSamples, outboxSeries, cpu);
      // Not net of the idle figures: an idle relay's empty polls and Temporal's idle bookkeeping give
      // way to real work under load, so subtracting them would undercount. The idle rates are beside.
      step.db_per_redemption = perRedemption(dbBefore, dbAfter, load.completed, engineDb);
      step.cpu_ms_per_redemption = Object.fromEntries(Object.entries(step.cpu_pct)
        .map(([g, pct]) => [g, round(pct * 10 * loadSeconds / Math.max(load.completed, 1), 2)]));
      steps.push(step);
      printStep(step);
      // The workflows of the highest sustained step (else the first step) show what one redemption costs Temporal.
      if (step.sustained || !histories) histories = await historyStats(temporal, sampledIds.slice(0, 40));
      if (!step.sustained) {
        failures++;
        if (failures > o.keepGoing) {
          log(`stopping after the failed step at ${rate}/s (--keep-going ${o.keepGoing})`);
          break;
        }
      }
      const drained = await waitForEmptyOutbox(db, o.settleSeconds * 1000);
      if (!drained) log(`${rate}/s: the outbox is not empty ${o.settleSeconds} s after the step; the next step starts with a backlog`);
    }

    log('after the steps: draining the outbox (up to 120 s), then the ledger check');
    const drainStarted = performance.now();
    const drained = await waitForEmptyOutbox(db, 120_000);
    const outboxDrainSeconds = drained ? round((performance.now() - drainStarted) / 1000, 1) : null;
    const ledger = await checkLedger(databaseUrl);
    log(`ledger check: ${ledger.ok ? 'OK' : 'FAILED'} — ${ledger.output.split('\n').filter(Boolean).at(ledger.ok ? -1 : 0)}`);
    log(`load balancer: forwarded ${JSON.stringify(cluster.lb.stats().forwarded)} per API`);

    const sustained = steps.filter((s) => s.sustained).map((s) => s.rate_per_s);
    const capacity = sustained.length ? Math.max(...sustained) : 0;
    printSummary(steps, capacity, baseline.opsPerSecond);
    if (histories) {
      log(`per redemption workflow (${histories.workflows} sampled): history events p50 ${histories.events_p50} (max ${histories.events_max}), `
        + `workflow tasks p50 ${histories.workflow_tasks_p50}, started by signal-with-start ${Math.round(histories.signal_with_start_share * 100)}%`);
    }
    const summary = {
      bench: 'capacity',
      target,
      machine: `${availableParallelism()} cores`,
      arrivals: o.arrivals,
      step_seconds: o.stepSeconds,
      limits: { authorize_p99_ms: LIMITS.authorizeP99Ms, workflow_lag_p99_ms: LIMITS.workflowLagP99Ms, error_rate: LIMITS.errorRate },
      steps,
      capacity_per_s: capacity,
      baseline_ops_per_s: round(baseline.opsPerSecond, 1),
      baseline_p99_ms: round(baseline.p99Ms, 2),
      ratio: round(capacity / baseline.opsPerSecond, 3),
      idle,
      workflow_history: histories,
      outbox_drain_s: outboxDrainSeconds,
      ledger_ok: ledger.ok,
    };
    const healthy = ledger.ok && drained && baseline.errors === 0;
    if (!healthy) log('RUN FLAGGED: a failed ledger check, an undrained outbox or baseline errors (see above); do not trust these numbers');
    console.log(JSON.stringify(summary));
    return healthy ? 0 : 1;
  } finally {
    tills.forEach((t) => t.http.close());
    await temporal.connection.close().catch(() => {});
    await db.end();
    await cluster.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Setup

/** A fresh engine database and fresh Temporal databases, so no earlier run's workflows or rows count. */
async function freshDatabases(name: string, temporal: 'server' | 'dev', dataDir: string): Promise<string> {
  const url = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
  const named = (db: string) => Object.assign(new URL(url.href), { pathname: `/${db}` }).href;
  // The names scripts/cluster/index.ts gives Temporal's databases for this engine database.
  const temporalDb = `temporal_${name.replace(/^voucher_?/, '') || 'cluster'}`;
  const admin = new pg.Client({ connectionString: named('postgres') });
  await admin.connect();
  try {
    for (const db of [name, temporalDb, `${temporalDb}_visibility`]) {
      await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
  if (temporal === 'dev') rmSync(path.join(dataDir, 'temporal-dev.sqlite'), { force: true });
  return named(name);
}

async function runBaseline(databaseUrl: string, concurrency: number, cardsPerTerminal: number, seconds: number) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: concurrency });
  try {
    await seedBaseline(pool, concurrency * cardsPerTerminal, CARD_BALANCE);
    const pickers = Array.from({ length: concurrency }, (_, i) => cardPicker(i, cardsPerTerminal, concurrency * cardsPerTerminal));
    log(`baseline: ${concurrency} pg clients closed-loop, guarded UPDATE + hold row, then capture, ${seconds} s`);
    const r = await runLoad({ name: 'baseline', concurrency, warmupSeconds: 2, seconds, op: baselineOp(pool, pickers, AMOUNT), log });
    const p99Ms = percentile(r.latencies.op!, 99);
    log(`baseline: ${r.opsPerSecond.toFixed(1)} ops/s, p99 ${p99Ms.toFixed(1)} ms, errors ${r.errors}`);
    if (r.errors) log(`baseline errors, first ones:\n${r.errorSamples.map((e) => `  ${e.slice(0, 300)}`).join('\n')}`);
    return { opsPerSecond: r.opsPerSecond, p99Ms, errors: r.errors };
  } finally {
    await pool.end();
  }
}

// ---------------------------------------------------------------------------------------------
// The outbox while a step runs

interface OutboxPoint {
  /** Seconds since the step started. */
  t: number;
  rows: number;
  oldestSeconds: number;
}

class OutboxWatch {
  private timer: NodeJS.Timeout | null = null;
  private series: OutboxPoint[] = [];
  private startedAt = 0;
  latest: OutboxPoint | null = null;

  constructor(private readonly db: pg.Pool) {}

  start(): void {
    this.series = [];
    this.startedAt = performance.now();
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const t = (performance.now() - this.startedAt) / 1000;
      this.db.query<{ rows: number; age: number }>(
        `SELECT count(*)::int AS rows, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age FROM workflow_outbox`)
        .then((r) => {
          this.latest = { t, rows: r.rows[0]!.rows, oldestSeconds: r.rows[0]!.age };
          this.series.push(this.latest);
        })
        .catch(() => {})
        .finally(() => (busy = false));
    }, 500);
  }

  stop(): OutboxPoint[] {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.series;
  }
}

async function waitForEmptyOutbox(db: pg.Pool, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_outbox');
    if (rows[0]!.n === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---------------------------------------------------------------------------------------------
// What a redemption costs beyond CPU: database transactions, rows written, workflow history

type Counters = Map<string, { commits: number; rows: number }>;

/**
 * PostgreSQL flushes these counters about once a second: over a 30 s step that is close enough.
 * xact_commit counts read-only transactions too (every autocommitted SELECT), so "commits" is
 * closer to round trips than to writes; rows written are the writes.
 */
async function databaseCounters(db: pg.Pool): Promise<Counters> {
  const { rows } = await db.query<{ datname: string; commits: string; rows: string }>(
    `SELECT datname, xact_commit::text AS commits, (tup_inserted + tup_updated + tup_deleted)::text AS rows
       FROM pg_stat_database WHERE datname IS NOT NULL`);
  return new Map(rows.map((r) => [r.datname, { commits: Number(r.commits), rows: Number(r.rows) }]));
}

function dbLabel(name: string, engineDb: string): string | null {
  if (name === engineDb) return 'engine';
  if (name.startsWith('temporal_')) return name.endsWith('_visibility') ? 'temporal_visibility' : 'temporal';
  return null;
}

type PerDb = Record<string, { commits: number; rows_written: number }>;

function perSecond(before: Counters, after: Counters, seconds: number, engineDb: string): PerDb {
  const out: PerDb = {};
  for (const [name, a] of after) {
    const label = dbLabel(name, engineDb);
    const b = before.get(name);
    if (!label || !b) continue;
    out[label] = { commits: round((a.commits - b.commits) / seconds, 1), rows_written: round((a.rows - b.rows) / seconds, 1) };
  }
  return out;
}

/** Per answered redemption, everything written during the step (the idle rates are reported apart). */
function perRedemption(before: Counters, after: Counters, redemptions: number, engineDb: string): PerDb {
  const out: PerDb = {};
  const n = Math.max(redemptions, 1);
  for (const [label, v] of Object.entries(perSecond(before, after, 1, engineDb))) {
    out[label] = { commits: round(v.commits / n, 1), rows_written: round(v.rows_written / n, 1) };
  }
  return out;
}

interface HistoryStats {
  workflows: number;
  events_p50: number;
  events_max: number;
  workflow_tasks_p50: number;
  /** Started and signalled in one call: the relay found the capture queued beside the start. */
  signal_with_start_share: number;
}

async function historyStats(client: Awaited<ReturnType<typeof connectClient>>, ids: string[]): Promise<HistoryStats | null> {
  const events: number[] = [];
  const tasks: number[] = [];
  let withStart = 0;
  for (const id of ids) {
    try {
      const h = await client.workflow.getHandle(id).fetchHistory();
      const evs = h.events ?? [];
      events.push(evs.length);
      tasks.push(evs.filter((e) => e.workflowTaskCompletedEventAttributes).length);
      if (evs[1]?.workflowExecutionSignaledEventAttributes) withStart++;
    } catch {
      // Not closed or not found: left out.
    }
  }
  if (!events.length) return null;
  return {
    workflows: events.length,
    events_p50: percentile(events, 50),
    events_max: Math.max(...events),
    workflow_tasks_p50: percentile(tasks, 50),
    signal_with_start_share: round(withStart / events.length, 2),
  };
}

// ---------------------------------------------------------------------------------------------
// CPU per process

/** Which database each PostgreSQL backend serves: asked while the step's backends still exist. */
async function backendDatabases(db: pg.Pool): Promise<Map<number, string | null>> {
  const { rows } = await db.query<{ pid: number; datname: string | null }>('SELECT pid, datname FROM pg_stat_activity');
  return new Map(rows.map((r) => [r.pid, r.datname]));
}

function groupProcesses(cluster: Cluster, databaseUrl: string, pgDatabases: Map<number, string | null>) {
  const engineDb = new URL(databaseUrl).pathname.slice(1);
  const apis = new Set(cluster.apis.map((a) => a.current().pid));
  const workers = new Set(cluster.workers.map((w) => w.current().pid));
  const temporalPid = cluster.temporal.process()?.pid;
  const redisPid = cluster.redis.process()?.pid;
  return (pid: number, comm: string): string => {
    if (apis.has(pid)) return 'api';
    if (workers.has(pid)) return 'worker';
    if (pid === temporalPid) return 'temporal';
    if (pid === redisPid) return 'redis';
    if (pid === process.pid) return 'load generator + load balancer';
    if (comm === 'postgres') {
      const datname = pgDatabases.get(pid);
      if (datname === engineDb) return 'postgres: engine db';
      if (datname?.startsWith('temporal_')) return 'postgres: temporal dbs';
      if (datname) return 'postgres: other databases';
      // WAL writer, checkpointer, autovacuum launcher: shared by every database on the server.
      return 'postgres: background';
    }
    return `other: ${comm}`;
  };
}

// ---------------------------------------------------------------------------------------------
// A step's verdict

interface StepReport {
  rate_per_s: number;
  arrivals: number;
  answered_per_s: number;
  errors: number;
  dropped: number;
  authorize_p50_ms: number;
  authorize_p99_ms: number;
  capture_p99_ms: number;
  workflow_lag_p50_ms: number;
  workflow_lag_p99_ms: number;
  lag_samples: number;
  lag_censored: number;
  lag_end_ms: number;
  lag_slope: number;
  outbox_oldest_max_s: number;
  outbox_oldest_end_s: number;
  outbox_rows_max: number;
  outbox_slope: number;
  load_generator_late_p99_ms: number;
  cpu_pct: Record<string, number>;
  /** Transactions and rows written per answered redemption, by database, idle background included. */
  db_per_redemption?: Record<string, { commits: number; rows_written: number }>;
  /** CPU time per answered redemption by process group (ms), idle background included. */
  cpu_ms_per_redemption?: Record<string, number>;
  sustained: boolean;
  failed: string[];
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 3) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
}

function stepReport(rate: number, seconds: number, load: OpenLoopResult, lag: LagSample[], outbox: OutboxPoint[], cpu: Map<string, number>): StepReport {
  const auth = load.latencies.authorize ?? [];
  const cap = load.latencies.capture ?? [];
  const lags = lag.map((s) => s.lagMs);
  // "At the end of the step": its last fifth.
  const tail = <T>(xs: T[]) => xs.slice(Math.floor(xs.length * 0.8));
  const outboxEnd = Math.max(0, ...tail(outbox).map((p) => p.oldestSeconds));
  const outboxSlope = slope(outbox.map((p) => [p.t, p.oldestSeconds]));
  const lagEnd = percentile(tail(lags), 50);
  const lagSlope = lag.length ? slope(lag.map((s) => [(s.capturedAt - lag[0]!.capturedAt) / 1000, s.lagMs / 1000])) : 0;
  const p = (xs: number[], q: number) => (xs.length ? round(percentile(xs, q), 1) : null);
  const r: StepReport = {
    rate_per_s: rate,
    arrivals: load.arrivals,
    answered_per_s: round(load.completed / seconds, 1),
    errors: load.errors,
    dropped: load.dropped,
    authorize_p50_ms: p(auth, 50) ?? NaN,
    authorize_p99_ms: p(auth, 99) ?? NaN,
    capture_p99_ms: p(cap, 99) ?? NaN,
    workflow_lag_p50_ms: p(lags, 50) ?? NaN,
    workflow_lag_p99_ms: p(lags, 99) ?? NaN,
    lag_samples: lag.length,
    lag_censored: lag.filter((s) => s.censored).length,
    lag_end_ms: Number.isNaN(lagEnd) ? NaN : round(lagEnd, 0),
    lag_slope: round(lagSlope, 3),
    outbox_oldest_max_s: round(Math.max(0, ...outbox.map((x) => x.oldestSeconds)), 2),
    outbox_oldest_end_s: round(outboxEnd, 2),
    outbox_rows_max: Math.max(0, ...outbox.map((x) => x.rows)),
    outbox_slope: round(outboxSlope, 3),
    load_generator_late_p99_ms: round(load.sendLagP99Ms, 1),
    cpu_pct: Object.fromEntries([...cpu].filter(([, v]) => v >= 0.5).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v, 0)])),
    sustained: false,
    failed: [],
  };
  const f = r.failed;
  if (!(r.authorize_p99_ms <= LIMITS.authorizeP99Ms)) f.push(`authorize p99 ${r.authorize_p99_ms} ms > ${LIMITS.authorizeP99Ms}`);
  if (!(r.workflow_lag_p99_ms <= LIMITS.workflowLagP99Ms)) f.push(`workflow lag p99 ${r.workflow_lag_p99_ms} ms > ${LIMITS.workflowLagP99Ms}`);
  if (r.errors > LIMITS.errorRate * r.arrivals) f.push(`${r.errors} errors of ${r.arrivals} arrivals`);
  if (r.outbox_oldest_end_s > LIMITS.growthFloorSeconds && r.outbox_slope > LIMITS.growthSlope) {
    f.push(`outbox backlog growing (oldest row ${r.outbox_oldest_end_s} s at the end, +${r.outbox_slope} s/s)`);
  }
  if (r.lag_end_ms > LIMITS.growthFloorSeconds * 1000 && r.lag_slope > LIMITS.growthSlope) {
    f.push(`workflow lag growing (${r.lag_end_ms} ms at the end, +${r.lag_slope} s/s)`);
  }
  if (r.lag_censored > 0) f.push(`${r.lag_censored} sampled workflows not closed within the settle time`);
  r.sustained = f.length === 0;
  if (load.sendLagP99Ms > 20) {
    log(`WARNING: the load generator sent arrivals up to ${load.sendLagP99Ms.toFixed(0)} ms late (p99): it shares the CPU, `
      + 'and its lateness counts in authorize latency');
  }
  if (load.errorSamples.length) log(`errors, first ones:\n${load.errorSamples.map((e) => `  ${e.slice(0, 300)}`).join('\n')}`);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Report

function printStep(s: StepReport): void {
  const cpu = Object.entries(s.cpu_pct).map(([k, v]) => `${k} ${v}%`).join(', ');
  log(`${s.rate_per_s}/s ${s.sustained ? 'SUSTAINED' : 'NOT SUSTAINED'}: authorize p50/p99 ${s.authorize_p50_ms}/${s.authorize_p99_ms} ms, `
    + `capture p99 ${s.capture_p99_ms} ms, workflow lag p50/p99 ${s.workflow_lag_p50_ms}/${s.workflow_lag_p99_ms} ms `
    + `(${s.lag_samples} samples), outbox oldest max ${s.outbox_oldest_max_s} s, errors ${s.errors}`
    + (s.failed.length ? `\n[bench]   failed: ${s.failed.join('; ')}` : ''));
  log(`${s.rate_per_s}/s CPU (% of one core, ${availableParallelism()} cores): ${cpu}`);
  if (s.cpu_ms_per_redemption) {
    log(`${s.rate_per_s}/s per redemption (idle background included): CPU ms ${Object.entries(s.cpu_ms_per_redemption).filter(([g]) => !g.startsWith('other'))
      .map(([g, v]) => `${g} ${v}`).join(', ')}; database commits (rows written) ${Object.entries(s.db_per_redemption ?? {})
      .map(([g, v]) => `${g} ${v.commits} (${v.rows_written})`).join(', ')}`);
  }
}

function printSummary(steps: StepReport[], capacity: number, baselineOps: number): void {
  const cols = ['rate/s', 'answered/s', 'auth p50', 'auth p99', 'capt p99', 'lag p50', 'lag p99', 'outbox max', 'errors', 'verdict'];
  const lines = ['', cols.map((c) => c.padStart(10)).join(' ')];
  for (const s of steps) {
    lines.push([s.rate_per_s, s.answered_per_s, s.authorize_p50_ms, s.authorize_p99_ms, s.capture_p99_ms, s.workflow_lag_p50_ms,
      s.workflow_lag_p99_ms, `${s.outbox_oldest_max_s} s`, s.errors, s.sustained ? 'sustained' : 'FAILED']
      .map((v) => String(v).padStart(10)).join(' '));
  }
  lines.push('(latencies in ms; lag = capture answered -> redemption workflow closed)');
  const groups = [...new Set(steps.flatMap((s) => Object.keys(s.cpu_pct)))];
  lines.push('', `CPU per process group, % of one core (${availableParallelism()} cores):`,
    `${'process'.padEnd(32)} ${steps.map((s) => `${s.rate_per_s}/s`.padStart(8)).join(' ')}`);
  for (const g of groups) lines.push(`${g.padEnd(32)} ${steps.map((s) => `${s.cpu_pct[g] ?? 0}%`.padStart(8)).join(' ')}`);
  const foreign = steps.map((s) => Object.entries(s.cpu_pct).filter(([g]) => g.startsWith('other') || g.includes('other databases'))
    .reduce((a, [, v]) => a + v, 0));
  if (foreign.some((v) => v > 20)) lines.push('WARNING: other processes took more than 20% of a core during a step; rerun on a quiet machine');
  lines.push('', `capacity: ${capacity}/s sustained; baseline ${baselineOps.toFixed(1)} ops/s; ratio ${(capacity / baselineOps).toFixed(3)} (goal >= 0.15)`);
  console.log(lines.join('\n'));
}
