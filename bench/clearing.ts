// `npm run bench -- clearing [--redemptions 1000000] [--stores 200] [--parties 40] [--reuse] [--runs 3] [--temporal dev|server]`
//
// One month of a large scheme: every redemption's card was sold that month at one store and
// redeemed (in part) at another, so the month holds N sales, N authorizations and N captures, all
// balanced double-entry postings, generated in SQL straight into the ledger tables. Then, in one
// run:
//   baseline  one SQL GROUP BY over the ledger computing each billing party's position;
//   project   the clearing as finance starts it: POST /v1/clearing/periods/<month>/start, through
//             the API and Temporal to the workflow: freeze, positions, counterparties, and one child
//             workflow per party rendering its statement PDF and e-mailing it, until the period
//             awaits approval.
// The project's positions must equal the baseline's. Last line: one JSON object. `--reuse` clears
// the month an earlier run left in the bench database (e.g. a large one) instead of generating it.
// `--runs N` (default 3) times both N times, alternating, and reports the medians: one sample of
// either varied by a third between runs on this machine.

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { connectDatabase } from '../infra/db.ts';
import { connectClient } from '../infra/temporal.ts';
import { clearingWorkflowId, previousPeriod } from '../domain/period.ts';
import { type Engine, ROOT, startEngine, TEMPORAL_OPTION, temporalKind } from './lib/engine.ts';
import { checkLedger } from './lib/ledger.ts';
import { round } from './lib/load.ts';
import { startMailSink } from './lib/smtp.ts';
import { generateMonth, seedScheme } from './lib/month.ts';
import { createApiClient } from '../services/directory.ts';

const log = (line: string) => console.log(`[bench] ${line}`);

/**
 * The party positions the clearing computes, as one plain GROUP BY over the ledger, written the way
 * the planner likes it: aggregate the postings per store account, then map stores to parties.
 */
const BASELINE_SQL = `
  SELECT s.billing_party_id::text AS party, x.currency,
         coalesce(sum(x.n) FILTER (WHERE x.kind IN ('issue', 'load')), 0) AS sales_count,
         coalesce(-sum(x.total) FILTER (WHERE x.kind IN ('issue', 'load')), 0) AS sales_amount,
         coalesce(sum(x.n) FILTER (WHERE x.kind = 'capture'), 0) AS redemptions_count,
         coalesce(sum(x.total) FILTER (WHERE x.kind = 'capture'), 0) AS redemptions_amount,
         coalesce(sum(x.n) FILTER (WHERE x.kind = 'refund'), 0) AS refunds_count,
         coalesce(-sum(x.total) FILTER (WHERE x.kind = 'refund'), 0) AS refunds_amount,
         sum(x.total) AS net
    FROM (SELECT p.account_ref, p.currency, e.kind, count(*) AS n, sum(p.amount) AS total
            FROM journal_entries e JOIN postings p ON p.entry_id = e.id
           WHERE e.booked_at >= $1 AND e.booked_at < $2
             AND p.account_kind IN ('store_sales', 'store_redemptions')
           GROUP BY 1, 2, 3) x
    JOIN stores s ON s.id::text = x.account_ref
   GROUP BY 1, 2`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...TEMPORAL_OPTION,
      redemptions: { type: 'string', default: '1000000' },
      stores: { type: 'string', default: '200' },
      parties: { type: 'string', default: '40' },
      reuse: { type: 'boolean', default: false },
      runs: { type: 'string', default: '3' },
    },
  });
  const storeCount = Number(values.stores);
  let [redemptions, partyCount] = [values.redemptions, values.parties].map(Number) as [number, number];
  const runs = Number(values.runs);
  if (![redemptions, storeCount, partyCount, runs].every((n) => Number.isInteger(n) && n > 0) || storeCount < partyCount) {
    console.error('--redemptions, --stores, --parties and --runs take positive integers, with at least one store per party');
    return 2;
  }
  const temporal = temporalKind(values.temporal);
  if (!temporal) return 2;

  const mail = await startMailSink();
  let engine: Engine | undefined;
  try {
    engine = await startEngine({
      dataDir: path.join(ROOT, '.data/bench'), log, keepDatabase: values.reuse, temporal,
      env: ({ apiUrl }) => ({ SMTP_URL: mail.url, PUBLIC_URL: apiUrl }),
    });
    const db = connectDatabase(engine.databaseUrl);
    const period = previousPeriod(new Date());
    try {
      const { rows: [bounds] } = await db.pool.query<{ starts: Date; ends: Date }>(
        `SELECT ($1 || '-01')::timestamp AT TIME ZONE 'Europe/Berlin' AS starts,
                (($1 || '-01')::timestamp + interval '1 month') AT TIME ZONE 'Europe/Berlin' AS ends`, [period]);
      let financeKey: string;
      if (values.reuse) {
        financeKey = (await createApiClient(db.prisma, { name: `Bench finance ${Date.now().toString(36)}`, role: 'finance' })).apiKey;
        const { rows: [counts] } = await db.pool.query<{ redemptions: string; parties: string }>(
          `SELECT (SELECT count(*) FROM journal_entries WHERE kind = 'capture' AND booked_at >= $1 AND booked_at < $2) AS redemptions,
                  (SELECT count(*) FROM billing_parties) AS parties`, [bounds!.starts, bounds!.ends]);
        [redemptions, partyCount] = [Number(counts!.redemptions), Number(counts!.parties)];
        log(`reusing the bench database: ${redemptions.toLocaleString('en')} redemptions, ${partyCount} parties`);
      } else {
        financeKey = await seedScheme(db.prisma, storeCount, partyCount, log);
        await generateMonth(db.pool, bounds!.starts, bounds!.ends, redemptions, log);
      }

      // Both read the same freshly written pages: one untimed pass warms the cache for both.
      log('warming the cache with one untimed baseline pass');
      await db.pool.query(BASELINE_SQL, [bounds!.starts, bounds!.ends]);
      const baselineRuns: number[] = [];
      const projectRuns: number[] = [];
      let baseline: pg.QueryResult | undefined;
      for (let run = 1; run <= runs; run++) {
        log(`run ${run} of ${runs}: baseline, one GROUP BY over the ledger`);
        const t0 = performance.now();
        baseline = await db.pool.query(BASELINE_SQL, [bounds!.starts, bounds!.ends]);
        baselineRuns.push((performance.now() - t0) / 1000);
        log(`baseline: ${baseline.rowCount} positions in ${baselineRuns.at(-1)!.toFixed(2)} s`);

        await forgetClearing(db.pool, engine, period);
        log(`run ${run} of ${runs}: project, clearing ${period} through the API and Temporal, to the point of approval`);
        const t1 = performance.now();
        projectRuns.push(await clearToApproval(engine.apiUrl, financeKey, period, t1));
        log(`project: awaiting approval after ${projectRuns.at(-1)!.toFixed(2)} s`);
      }
      const [projectS, baselineS] = [median(projectRuns), median(baselineRuns)];

      const match = await positionsMatch(db.pool, period, baseline!.rows);
      log(`positions equal the baseline's: ${match}`);
      const ledger = await checkLedger(engine.databaseUrl);
      const summary = {
        bench: 'clearing', temporal, period, redemptions, sales: redemptions, stores: storeCount, parties: partyCount,
        project_s: round(projectS, 2), baseline_s: round(baselineS, 2), ratio: round(projectS / baselineS, 2),
        runs, project_runs_s: projectRuns.map((x) => round(x, 2)), baseline_runs_s: baselineRuns.map((x) => round(x, 2)),
        statements_emailed: mail.accepted / runs, positions_match: match, ledger_ok: ledger.ok,
      };
      console.log(JSON.stringify(summary));
      return match && ledger.ok && mail.accepted === partyCount * runs ? 0 : 1;
    } finally {
      await db.close();
    }
  } finally {
    await engine?.stop();
    await mail.close();
  }
}


/**
 * Clears the period's results and its workflow, so the next run computes it afresh: what an
 * earlier run (of this bench, or one that was stopped) left must be neither joined nor reused.
 */
async function forgetClearing(pool: pg.Pool, engine: Engine, period: string): Promise<void> {
  const client = await connectClient(engine.stack.temporalAddress, engine.stack.temporalNamespace);
  await client.workflow.getHandle(clearingWorkflowId(period)).terminate('new bench run').catch(() => {});
  await client.connection.close();
  for (const table of ['clearing_statements', 'clearing_positions', 'clearing_counterparties', 'clearing_periods']) {
    await pool.query(`DELETE FROM ${table} WHERE period = $1`, [period]);
  }
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function clearToApproval(apiUrl: string, key: string, period: string, t0: number): Promise<number> {
  const headers = { authorization: `Bearer ${key}` };
  const start = await fetch(`${apiUrl}/v1/clearing/periods/${period}/start`, { method: 'POST', headers });
  if (!start.ok) throw new Error(`start failed: ${start.status} ${await start.text()}`);
  let last = '';
  for (;;) {
    const res = await fetch(`${apiUrl}/v1/clearing/periods/${period}`, { headers });
    const body = await res.json() as { status: string; progress: { step: string; parties: number; statementsDone: number } | null };
    if (body.status === 'awaiting_approval' && body.progress?.step === 'awaiting_approval') return (performance.now() - t0) / 1000;
    const line = body.progress ? `${body.progress.step}, statements ${body.progress.statementsDone}/${body.progress.parties}` : body.status;
    if (line !== last) log(`  ${((performance.now() - t0) / 1000).toFixed(1)} s: ${line}`);
    last = line;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function positionsMatch(pool: pg.Pool, period: string, baseline: Record<string, unknown>[]): Promise<boolean> {
  const { rows } = await pool.query(
    `SELECT party_key AS party, currency, sales_count, sales_amount, redemptions_count, redemptions_amount,
            refunds_count, refunds_amount, net
       FROM clearing_positions WHERE period = $1 AND party_key <> 'scheme'`, [period]);
  const key = (r: Record<string, unknown>) => `${r.party}|${r.currency}`;
  const norm = (r: Record<string, unknown>) => JSON.stringify(Object.keys(r).sort().map((k) => [k, String(r[k])]));
  const project = new Map(rows.map((r) => [key(r), norm(r)]));
  return rows.length === baseline.length && baseline.every((r) => project.get(key(r)) === norm(r));
}
