// `npm run bench -- transactions [--redemptions 1000000] [--repeat 20] [--reuse]`
//
// The portal's transaction table on a large ledger: one month with N redemptions and their sales
// (3·N journal entries, 6·N postings). A signed-in support user pages and filters the table
// through tRPC over HTTP, as the portal does: first page, a deep page (cursor), by store, by
// billing party, by card last four, by type and amount range; sorted by amount, largest and
// smallest first, deep, by store, by party and for one day's redemptions. Baseline: the cheapest query that
// still answers "the newest 50 entries", a plain indexed SELECT through `pg`. Each scenario is
// timed `repeat` times; the ratio is the project's median over the baseline's median. Last line:
// one JSON object. `--reuse` reads the ledger an earlier run left in the bench database (e.g. a
// large month of `bench clearing --redemptions 5000000`) instead of generating one.

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { connectDatabase } from '../infra/db.ts';
import { previousPeriod } from '../domain/period.ts';
import { UserDirectory } from '../services/users.ts';
import { PiiCipher } from '../domain/pii-crypto.ts';
import { loadConfig } from '../infra/config.ts';
import { ROOT, startEngine, type Engine } from './lib/engine.ts';
import { percentile, round } from './lib/load.ts';
import { generateMonth, seedScheme } from './lib/month.ts';

const log = (line: string) => console.log(`[bench] ${line}`);

async function timed(repeat: number, run: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  await run(); // warm: plans and pages
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return { p50: round(percentile(times, 50), 1), p95: round(percentile(times, 95), 1) };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { redemptions: { type: 'string', default: '1000000' }, repeat: { type: 'string', default: '20' }, reuse: { type: 'boolean', default: false } },
  });
  const redemptions = Number(values.redemptions);
  const repeat = Number(values.repeat);
  if (!Number.isInteger(redemptions) || redemptions <= 0 || !Number.isInteger(repeat) || repeat <= 0) {
    console.error('--redemptions and --repeat take positive integers');
    return 2;
  }
  let engine: Engine | undefined;
  try {
    engine = await startEngine({ dataDir: path.join(ROOT, '.data/bench'), log, keepDatabase: values.reuse });
    const db = connectDatabase(engine.databaseUrl);
    try {
      if (!values.reuse) {
        await seedScheme(db.prisma, 200, 40, log);
        const period = previousPeriod(new Date());
        const { rows: [bounds] } = await db.pool.query<{ starts: Date; ends: Date }>(
          `SELECT ($1 || '-01')::timestamp AT TIME ZONE 'Europe/Berlin' AS starts,
                  (($1 || '-01')::timestamp + interval '1 month') AT TIME ZONE 'Europe/Berlin' AS ends`, [period]);
        await generateMonth(db.pool, bounds!.starts, bounds!.ends, redemptions, log);
      }
      const n = (await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM journal_entries')).rows[0]!.n;
      if (Number(n) === 0) {
        console.error('--reuse: the bench database holds no ledger; run `npm run bench -- clearing --redemptions N` (or this benchmark without --reuse) first');
        return 2;
      }
      log(`${Number(n).toLocaleString('en')} journal entries in the ledger`);

      // The support user signs in as the portal does: cookie and CSRF token.
      const password = 'bench support password';
      const users = new UserDirectory(db.pool, Buffer.alloc(32), 'bench', new PiiCipher(loadConfig().privacy.piiKeys));
      const email = `support-${Date.now().toString(36)}@bench.test`;
      await users.create({ email, displayName: 'Bench support', role: 'support', password });
      const signIn = await fetch(`${engine.apiUrl}/trpc/auth.signIn`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
      });
      const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
      const list = async (input: Record<string, unknown>) => {
        const res = await fetch(`${engine!.apiUrl}/trpc/transactions.list?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { cookie } });
        if (!res.ok) throw new Error(`transactions.list ${res.status}: ${await res.text()}`);
        return ((await res.json()) as { result: { data: { transactions: { entryId: string }[]; nextCursor: string | null } } }).result.data;
      };

      const { rows: [sample] } = await db.pool.query<{ store: string; party: string; last4: string }>(
        `SELECT s.id AS store, s.billing_party_id AS party, c.code_last4 AS last4
           FROM stores s, LATERAL (SELECT code_last4 FROM cards ORDER BY id LIMIT 1) c ORDER BY s.name LIMIT 1`);
      // A cursor 200 pages deep, in either order.
      const deepCursor = async (order: Record<string, unknown>) => {
        let deep: string | null = null;
        for (let i = 0, cursor: string | undefined; i < 200; i++) {
          const page = await list({ ...order, limit: 50, cursor });
          cursor = page.nextCursor ?? undefined;
          deep = page.nextCursor;
        }
        return deep;
      };
      const deep = await deepCursor({});
      const deepByAmount = await deepCursor({ sort: 'amount' });
      const { rows: [busiest] } = await db.pool.query<{ day: Date }>(
        `SELECT date_trunc('day', max(booked_at)) AS day FROM journal_entries`);
      const scenarios: Record<string, Record<string, unknown>> = {
        first_page: { limit: 50 },
        page_200: { limit: 50, cursor: deep },
        by_store: { limit: 50, storeId: sample!.store },
        by_party: { limit: 50, billingPartyId: sample!.party },
        by_card_last4: { limit: 50, cardLast4: sample!.last4 },
        redemptions_5_to_20_eur: { limit: 50, types: ['redemption'], minAmount: 500, maxAmount: 2_000 },
        largest_first: { limit: 50, sort: 'amount' },
        smallest_first: { limit: 50, sort: 'amount', ascending: true },
        largest_page_200: { limit: 50, sort: 'amount', cursor: deepByAmount },
        largest_by_store: { limit: 50, sort: 'amount', storeId: sample!.store },
        largest_by_party: { limit: 50, sort: 'amount', billingPartyId: sample!.party },
        largest_redemptions_one_day: {
          limit: 50, sort: 'amount', types: ['redemption'], from: busiest!.day.toISOString(),
          to: new Date(busiest!.day.getTime() + 86_400_000).toISOString(),
        },
      };
      const project: Record<string, { p50: number; p95: number; rows: number }> = {};
      for (const [name, input] of Object.entries(scenarios)) {
        const rows = (await list(input)).transactions.length;
        project[name] = { ...(await timed(repeat, () => list(input))), rows };
        log(`${name}: p50 ${project[name]!.p50} ms, p95 ${project[name]!.p95} ms (${rows} rows)`);
      }
      const baseline = await timed(repeat, () => db.pool.query(
        'SELECT id, booked_at, kind, card_id, store_id FROM journal_entries ORDER BY booked_at DESC, id DESC LIMIT 50'));
      log(`baseline (plain indexed SELECT of the newest 50): p50 ${baseline.p50} ms`);
      const worst = Math.max(...Object.values(project).map((p) => p.p50));
      console.log(JSON.stringify({
        bench: 'transactions', entries: Number(n), repeat, project, baseline,
        worst_p50_ms: worst, ratio: round(worst / Math.max(0.1, baseline.p50), 1),
      }));
      return 0;
    } finally {
      await db.close();
    }
  } finally {
    await engine?.stop();
  }
}
