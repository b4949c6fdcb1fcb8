// `npm run bench -- redeem [--seconds 15] [--warmup 2] [--concurrency 32] [--subscribers 0] [--temporal dev|server]`
//
// Two-phase redemptions (authorize, then capture) from 32 tills against the engine as it runs
// in production (API and worker processes, Temporal, Redis, PostgreSQL), next to a baseline:
// the same guarded balance update in plain SQL through `pg`, at the same concurrency. The ratio
// says how much of the database's raw capacity reaches the tills; the outbox drain and the
// ledger check after the run belong to the honest cost of the engine's throughput.
//
// With `--subscribers N`, N webhook endpoints subscribed to every event (a receiver in this
// process) are registered before the project run, and every event of the run must reach each of
// them: the tills' figures with and without subscribers show what delivery costs them.
//
// The last line of output is one JSON object with the results.

import { availableParallelism } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { connectClient } from '../infra/temporal.ts';
import { cpuByGroup, cpuSnapshot, type CpuSnapshot, isTemporalProcess } from './lib/cpu.ts';
import { type Engine, ROOT, startEngine, TEMPORAL_OPTION, temporalKind } from './lib/engine.ts';
import { JsonClient } from './lib/http.ts';
import { baselineOp, cardPicker, seedBaseline } from './lib/baseline.ts';
import { createTills } from './lib/tills.ts';
import { checkLedger } from './lib/ledger.ts';
import { percentile, round, runLoad, type LoadResult, type Operation } from './lib/load.ts';
import { startSubscribers, type Subscribers, type WebhookDrain } from './lib/webhooks.ts';

const log = (line: string) => console.log(`[bench] ${line}`);

const AMOUNT = 100; // 1.00 EUR per redemption
const CARD_BALANCE = 1_000_000; // 10,000.00 EUR: no card runs dry, even at baseline speed
const CURRENCY = 'EUR';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...TEMPORAL_OPTION,
      seconds: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '32' },
      'cards-per-terminal': { type: 'string', default: '8' },
      subscribers: { type: 'string', default: '0' },
    },
  });
  const seconds = Number(values.seconds);
  const warmupSeconds = Number(values.warmup);
  const concurrency = Number(values.concurrency);
  const cardsPerTerminal = Number(values['cards-per-terminal']);
  const subscriberCount = Number(values.subscribers);
  if (![seconds, concurrency, cardsPerTerminal].every((n) => Number.isInteger(n) && n > 0) || !(warmupSeconds >= 0)) {
    console.error('--seconds, --concurrency and --cards-per-terminal take positive integers, --warmup a number >= 0');
    return 2;
  }
  const temporal = temporalKind(values.temporal);
  if (!temporal) return 2;

  // Each card is redeemed hundreds of times a minute here: velocity limits high enough never to
  // decline, but on, so every authorization pays for its counters as in production.
  const high = '1000000000';
  const engine = await startEngine({
    dataDir: path.join(ROOT, '.data/bench'), log, temporal,
    env: () => ({
      VELOCITY_CARD_REDEMPTIONS_PER_HOUR: high, VELOCITY_CARD_AMOUNT_PER_HOUR_MINOR: high, VELOCITY_CARD_REDEMPTIONS_PER_DAY: high,
      VELOCITY_CARD_AMOUNT_PER_DAY_MINOR: high, VELOCITY_TERMINAL_SOLD_PER_DAY_MINOR: high,
    }),
  });
  const clients: JsonClient[] = [];
  let subscribers: Subscribers | null = null;
  try {
    const tills = await createTills({ databaseUrl: engine.databaseUrl, apiUrl: engine.apiUrl, count: concurrency, cardsPerTerminal, cardBalance: CARD_BALANCE, currency: CURRENCY, log });
    clients.push(...tills.map((t) => t.http));
    const pickers = tills.map((_, i) => cardPicker(i, cardsPerTerminal, concurrency * cardsPerTerminal));
    const load = { concurrency, warmupSeconds, seconds, log };

    // Baseline first: the engine is idle then, whereas after the project run the worker would
    // still be relaying and running workflows.
    const baselinePool = new pg.Pool({ connectionString: engine.databaseUrl, max: concurrency });
    let baseline: LoadResult;
    let baselineUsage: Usage;
    try {
      await seedBaseline(baselinePool, concurrency * cardsPerTerminal, CARD_BALANCE);
      log(`baseline: ${concurrency} pg clients, guarded UPDATE + hold row, then capture`);
      ({ result: baseline, usage: baselineUsage } = await withUsage(engine, { ...load, name: 'baseline', op: baselineOp(baselinePool, pickers, AMOUNT) }));
    } finally {
      await baselinePool.end();
    }

    let sinceSeq = '0';
    if (subscriberCount > 0) {
      subscribers = await startSubscribers(engine.databaseUrl, subscriberCount);
      sinceSeq = await subscribers.lastSeq();
      log(`webhooks: ${subscriberCount} endpoint(s) subscribed to every event`);
    }
    log(`project: ${concurrency} tills over HTTP, POST /v1/redemptions then /capture`);
    const runId = Date.now().toString(36);
    const projectOp: Operation = async (i) => {
      const till = tills[i]!;
      const t0 = performance.now();
      const auth = await till.http.request('POST', '/v1/redemptions', {
        code: till.cards[pickers[i]!()], amount: AMOUNT, currency: CURRENCY, posReference: `b-${runId}-${i}-${till.seq++}`,
      });
      const authorize = performance.now() - t0;
      if (auth.status !== 200) throw new Error(`authorize ${auth.status}: ${JSON.stringify(auth.body)}`);
      const cap = await till.http.request('POST', `/v1/redemptions/${auth.body.id}/capture`, {});
      if (cap.status !== 200) throw new Error(`capture ${cap.status}: ${JSON.stringify(cap.body)}`);
      return { authorize };
    };
    const { result: project, usage: projectUsage } = await withUsage(engine, { ...load, name: 'project', op: projectOp });

    const drain = await drainOutbox(engine);
    const webhooks: WebhookDrain | null = subscribers ? await subscribers.drain(sinceSeq, 900, log) : null;
    const ledger = await checkLedger(engine.databaseUrl);

    const summary = {
      bench: 'redeem', temporal, concurrency, seconds,
      project: {
        ops_per_s: round(project.opsPerSecond, 1),
        p50_ms: ms(percentile(project.latencies.op!, 50)),
        p99_ms: ms(percentile(project.latencies.op!, 99)),
        authorize_p50_ms: ms(percentile(project.latencies.authorize ?? [], 50)),
        authorize_p99_ms: ms(percentile(project.latencies.authorize ?? [], 99)),
        errors: project.errors,
      },
      baseline: {
        ops_per_s: round(baseline.opsPerSecond, 1),
        p50_ms: ms(percentile(baseline.latencies.op!, 50)),
        p99_ms: ms(percentile(baseline.latencies.op!, 99)),
      },
      ratio: round(project.opsPerSecond / baseline.opsPerSecond, 3),
      outbox_drain_s: drain.seconds === null ? null : round(drain.seconds, 2),
      ledger_ok: ledger.ok,
      ...(webhooks ? { webhooks: {
        subscribers: subscriberCount, events: webhooks.events, deliveries: webhooks.deliveries, delivered: webhooks.delivered,
        all_delivered_s_after_outbox: webhooks.seconds === null ? null : round(webhooks.seconds, 1),
        receiver_requests: subscribers!.received().requests,
      } } : {}),
    };

    printReport({ project, baseline, projectUsage, baselineUsage, drain, ledger, summary });
    const healthy = project.errors === 0 && baseline.errors === 0 && ledger.ok && drain.seconds !== null && (!webhooks || webhooks.seconds !== null);
    if (!healthy) log('RUN FLAGGED: errors, an undrained outbox or a failed ledger check (see above); do not trust these numbers');
    console.log(JSON.stringify(summary));
    return healthy ? 0 : 1;
  } finally {
    clients.forEach((c) => c.close());
    await subscribers?.close();
    await engine.stop();
  }
}

const ms = (v: number) => round(v, 2);

// ---------------------------------------------------------------------------------------------
// What the measurement window cost: CPU per process, WAL and commits per operation

interface Usage {
  cpu: Map<string, number>;
  /** Cluster-wide, so other databases' traffic on a shared server inflates it. */
  walBytesPerOp: number;
  /** Of the bench database; PostgreSQL flushes these counters about once a second, so approximate. */
  commitsPerOp: number;
}

async function withUsage(engine: Engine, opts: Parameters<typeof runLoad>[0]): Promise<{ result: LoadResult; usage: Usage }> {
  const client = new pg.Client({ connectionString: engine.databaseUrl });
  await client.connect();
  const counters = () => client.query<{ lsn: string; commits: string }>(
    'SELECT pg_current_wal_insert_lsn()::text AS lsn, xact_commit::text AS commits FROM pg_stat_database WHERE datname = current_database()');
  let before: CpuSnapshot = new Map();
  let after: CpuSnapshot = new Map();
  let windowSeconds = opts.seconds;
  let openedAt = 0;
  let start: ReturnType<typeof counters> | undefined;
  let end: ReturnType<typeof counters> | undefined;
  let backends: Promise<pg.QueryResult<{ pid: number; datname: string | null }>> | undefined;
  try {
    const result = await runLoad({
      ...opts,
      onWindow: (edge) => {
        if (edge === 'open') {
          before = cpuSnapshot();
          openedAt = performance.now();
          start = counters();
        } else {
          after = cpuSnapshot();
          windowSeconds = (performance.now() - openedAt) / 1000;
          end = counters();
          // Asked now, before the short-lived backends of other people's test runs are gone.
          backends = client.query('SELECT pid, datname FROM pg_stat_activity');
        }
      },
    });
    // PostgreSQL backends split by database: the server may be shared with other test runs.
    const benchDb = new URL(engine.databaseUrl).pathname.slice(1);
    const pgOther = new Set((await backends!).rows.filter((r) => r.datname && r.datname !== benchDb).map((r) => r.pid));
    const cpu = cpuByGroup(before, after, windowSeconds, (pid, comm) => {
      if (pid === engine.api.pid) return 'api (node)';
      if (pid === engine.worker.pid) return 'worker (node)';
      if (pid === process.pid) return 'load generator (this process)';
      if (comm === 'postgres') return pgOther.has(pid) ? 'postgres, other databases' : 'postgres';
      if (isTemporalProcess(comm)) return 'temporal';
      if (comm === 'redis-server') return 'redis';
      return `other: ${comm}`;
    });
    const [a, b] = [(await start!).rows[0]!, (await end!).rows[0]!];
    const ops = Math.max(result.ops, 1);
    return {
      result,
      usage: {
        cpu,
        walBytesPerOp: Number(lsnBytes(b.lsn) - lsnBytes(a.lsn)) / ops,
        commitsPerOp: (Number(b.commits) - Number(a.commits)) / ops,
      },
    };
  } finally {
    await client.end();
  }
}

/** '16/B374D848' -> byte position. */
function lsnBytes(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

// ---------------------------------------------------------------------------------------------
// After the run: outbox backlog, workflows, ledger check

interface Drain {
  /** From the end of the load to an empty outbox; null = not drained in time. */
  seconds: number | null;
  backlog: number;
  holds: number;
  completed: number | null;
  workflowsSeconds: number | null;
}

async function drainOutbox(engine: Engine): Promise<Drain> {
  const started = performance.now();
  const db = new pg.Client({ connectionString: engine.databaseUrl });
  await db.connect();
  const temporal = await connectClient(engine.stack.temporalAddress, engine.stack.temporalNamespace);
  try {
    const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
    const backlog = await count('SELECT count(*) AS n FROM workflow_outbox');
    const holds = await count('SELECT count(*) AS n FROM holds');
    log(`outbox backlog at end of load: ${backlog} rows for ${holds} redemptions; draining`);

    let seconds: number | null = null;
    let lastLog = started;
    for (;;) {
      const left = await count('SELECT count(*) AS n FROM workflow_outbox');
      const elapsed = (performance.now() - started) / 1000;
      if (left === 0) {
        seconds = elapsed;
        break;
      }
      if (elapsed > 300) break;
      if (performance.now() - lastLog > 2000) {
        log(`outbox: ${left} rows left after ${elapsed.toFixed(0)} s`);
        lastLog = performance.now();
      }
      await new Promise((r) => setTimeout(r, 100));
    }

    // Each redemption's workflow ends when its capture signal arrives.
    const query = `TaskQueue = "${engine.taskQueue}" AND WorkflowType = "redemptionWorkflow" AND ExecutionStatus = "Completed"`;
    let completed: number | null = null;
    let workflowsSeconds: number | null = null;
    try {
      for (;;) {
        completed = (await temporal.workflow.count(query)).count;
        const elapsed = (performance.now() - started) / 1000;
        if (completed >= holds) {
          workflowsSeconds = elapsed;
          break;
        }
        if (elapsed > 300) break;
        await new Promise((r) => setTimeout(r, 500));
      }
    } catch (err) {
      log(`could not count workflows: ${(err as Error).message}`);
    }
    return { seconds, backlog, holds, completed, workflowsSeconds };
  } finally {
    await db.end();
    await temporal.connection.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function printReport(r: {
  project: LoadResult; baseline: LoadResult; projectUsage: Usage; baselineUsage: Usage;
  drain: Drain; ledger: { ok: boolean; output: string }; summary: { ratio: number };
}): void {
  const pct = (xs: number[] | undefined, p: number) => (xs?.length ? percentile(xs, p).toFixed(1) : '-');
  const row = (name: string, x: LoadResult) => [
    name.padEnd(30), x.opsPerSecond.toFixed(1).padStart(8), String(x.ops).padStart(7),
    pct(x.latencies.op, 50).padStart(7), pct(x.latencies.op, 99).padStart(7),
    pct(x.latencies.authorize, 50).padStart(9), pct(x.latencies.authorize, 99).padStart(9), String(x.errors).padStart(6),
  ].join(' ');
  const lines = [
    '',
    `${'run'.padEnd(30)} ${'ops/s'.padStart(8)} ${'ops'.padStart(7)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} `
      + `${'auth p50'.padStart(9)} ${'auth p99'.padStart(9)} ${'errors'.padStart(6)}`,
    row('project (HTTP, ledger, outbox)', r.project),
    row('baseline (guarded SQL via pg)', r.baseline),
    `ratio project/baseline: ${r.summary.ratio.toFixed(3)}   (target >= 0.25, authorize p99 <= 50 ms)`,
    '',
    `outbox: ${r.drain.backlog} rows queued at end of load, drained in `
      + `${r.drain.seconds === null ? 'NOT DRAINED within 300 s' : `${r.drain.seconds.toFixed(2)} s`}`,
    `workflows: ${r.drain.completed ?? '?'} of ${r.drain.holds} redemptions completed`
      + (r.drain.workflowsSeconds === null ? ' (not all within 300 s)' : ` (all within ${r.drain.workflowsSeconds.toFixed(2)} s after load)`),
    `ledger check: ${r.ledger.ok ? 'OK' : 'FAILED'} — ${r.ledger.output.split('\n').filter(Boolean).at(r.ledger.ok ? -1 : 0)}`,
    '',
    `per operation: project ${(r.projectUsage.walBytesPerOp / 1024).toFixed(1)} KiB WAL, ~${r.projectUsage.commitsPerOp.toFixed(1)} commits; `
      + `baseline ${(r.baselineUsage.walBytesPerOp / 1024).toFixed(1)} KiB WAL, ~${r.baselineUsage.commitsPerOp.toFixed(1)} commits`,
    `CPU during the measurement window (% of one core; the machine has ${availableParallelism()} cores):`,
  ];
  const [projectCpu, baselineCpu] = [r.projectUsage.cpu, r.baselineUsage.cpu];
  const groups = [...new Set([...projectCpu.keys(), ...baselineCpu.keys()])]
    .sort((a, b) => (projectCpu.get(b) ?? 0) - (projectCpu.get(a) ?? 0));
  lines.push(`  ${'process'.padEnd(32)} ${'project'.padStart(8)} ${'baseline'.padStart(9)}`);
  for (const g of groups) {
    // Small fry (shells, system daemons) would only lengthen the table; they are in the total.
    if ((projectCpu.get(g) ?? 0) < 1 && (baselineCpu.get(g) ?? 0) < 1) continue;
    lines.push(`  ${g.padEnd(32)} ${(projectCpu.get(g) ?? 0).toFixed(0).padStart(7)}% ${(baselineCpu.get(g) ?? 0).toFixed(0).padStart(8)}%`);
  }
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  lines.push(`  ${'total'.padEnd(32)} ${total(projectCpu).toFixed(0).padStart(7)}% ${total(baselineCpu).toFixed(0).padStart(8)}%`);
  // Work that is not ours takes cores from one side: the ratio is then not comparable.
  const foreign = (m: Map<string, number>) => [...m].filter(([g]) => g.startsWith('other:') || g.includes('other databases'))
    .reduce((sum, [, v]) => sum + v, 0);
  for (const [name, m] of [['project', projectCpu], ['baseline', baselineCpu]] as const) {
    if (foreign(m) > 20) lines.push(`WARNING: other processes used ${foreign(m).toFixed(0)}% of a core during the ${name} run; rerun on a quiet machine`);
  }
  for (const [name, x] of [['project', r.project], ['baseline', r.baseline]] as const) {
    if (x.errors) lines.push(`${name} errors (${x.errors}), first ones:`, ...x.errorSamples.map((e) => `  ${e.slice(0, 300)}`));
  }
  console.log(lines.join('\n'));
}
