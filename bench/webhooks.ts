// `npm run bench -- webhooks [--events 10000] [--subscribers 2] [--seconds 15] [--warmup 2] [--concurrency 16] [--timeout 1800]`
//
// A burst of webhook deliveries while the tills redeem. One engine (API and worker processes,
// Temporal, PostgreSQL, Redis), one run: the redeem load (authorize, then capture) first with no
// webhook endpoint; then N endpoints subscribed to every event (real HTTP receivers in this
// process) are registered, `--events` card events are recorded at once (`card.loaded`, through the
// same `webhook_record` function the ledger's triggers call), and the same redeem load runs again
// while the relay fans them out and the delivery workflows send them. The redeem figures with and
// without subscribers come from the same engine, minutes apart; then the run waits until every
// event (the burst and the second load's own) reached every endpoint.
//
// The last line of output is one JSON object with the results.

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { cardPicker } from './lib/baseline.ts';
import { ROOT, startEngine } from './lib/engine.ts';
import type { JsonClient } from './lib/http.ts';
import { checkLedger } from './lib/ledger.ts';
import { percentile, round, runLoad, type LoadResult, type Operation } from './lib/load.ts';
import { createTills } from './lib/tills.ts';
import { startSubscribers, type Subscribers } from './lib/webhooks.ts';

const log = (line: string) => console.log(`[bench] ${line}`);

const AMOUNT = 100;
const CARD_BALANCE = 1_000_000;
const CURRENCY = 'EUR';

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      events: { type: 'string', default: '10000' },
      subscribers: { type: 'string', default: '2' },
      seconds: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '16' },
      'cards-per-terminal': { type: 'string', default: '8' },
      timeout: { type: 'string', default: '1800' },
    },
  });
  const [events, subscriberCount, seconds, concurrency, cardsPerTerminal, timeoutS] =
    [values.events, values.subscribers, values.seconds, values.concurrency, values['cards-per-terminal'], values.timeout].map(Number) as [number, number, number, number, number, number];
  const warmupSeconds = Number(values.warmup);
  if (![events, subscriberCount, seconds, concurrency, cardsPerTerminal, timeoutS].every((n) => Number.isInteger(n) && n > 0) || !(warmupSeconds >= 0)) {
    console.error('--events, --subscribers, --seconds, --concurrency, --cards-per-terminal and --timeout take positive integers, --warmup a number >= 0');
    return 2;
  }

  const high = '1000000000';
  const engine = await startEngine({
    dataDir: path.join(ROOT, '.data/bench'), log,
    env: () => ({
      VELOCITY_CARD_REDEMPTIONS_PER_HOUR: high, VELOCITY_CARD_AMOUNT_PER_HOUR: high, VELOCITY_CARD_REDEMPTIONS_PER_DAY: high,
      VELOCITY_CARD_AMOUNT_PER_DAY: high, VELOCITY_TERMINAL_SOLD_PER_DAY: high,
    }),
  });
  const clients: JsonClient[] = [];
  let subscribers: Subscribers | null = null;
  const pool = new pg.Pool({ connectionString: engine.databaseUrl, max: 2 });
  try {
    // Endpoints other runs left enabled would receive this run's events too.
    await pool.query(`UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'admin', disabled_at = now() WHERE enabled`);
    const tills = await createTills({ databaseUrl: engine.databaseUrl, apiUrl: engine.apiUrl, count: concurrency, cardsPerTerminal, cardBalance: CARD_BALANCE, currency: CURRENCY, log });
    clients.push(...tills.map((t) => t.http));
    const pickers = tills.map((_, i) => cardPicker(i, cardsPerTerminal, concurrency * cardsPerTerminal));
    const runId = Date.now().toString(36);
    const redeem: Operation = async (i) => {
      const till = tills[i]!;
      const auth = await till.http.request('POST', '/v1/redemptions', {
        code: till.cards[pickers[i]!()], amount: AMOUNT, currency: CURRENCY, posReference: `w-${runId}-${i}-${till.seq++}`,
      });
      if (auth.status !== 200) throw new Error(`authorize ${auth.status}: ${JSON.stringify(auth.body)}`);
      const cap = await till.http.request('POST', `/v1/redemptions/${auth.body.id}/capture`, {});
      if (cap.status !== 200) throw new Error(`capture ${cap.status}: ${JSON.stringify(cap.body)}`);
    };
    const load = { concurrency, warmupSeconds, seconds, log, op: redeem };

    log(`redeem without subscribers: ${concurrency} tills`);
    const quiet = await runLoad({ ...load, name: 'without subscribers' });

    subscribers = await startSubscribers(engine.databaseUrl, subscriberCount);
    const sinceSeq = await subscribers.lastSeq();
    log(`${subscriberCount} endpoint(s) subscribed to every event; recording ${events} card events at once`);
    const burstStarted = performance.now();
    await pool.query(
      `SELECT webhook_record('card.loaded', jsonb_build_object('object', 'card_activity', 'id', 'bench-' || $2 || '-' || g,
         'kind', 'load', 'amount', 100, 'currency', 'EUR', 'bookedAt', webhook_time(now())))
         FROM generate_series(1, $1::int) g`, [events, runId]);
    log(`burst recorded in ${((performance.now() - burstStarted) / 1000).toFixed(1)} s; redeem with deliveries running`);
    const busy = await runLoad({ ...load, name: 'with subscribers' });

    const drain = await subscribers.drain(sinceSeq, timeoutS, log);
    const deliveredAfterS = (performance.now() - burstStarted) / 1000;
    const ledger = await checkLedger(engine.databaseUrl);
    const figures = (r: LoadResult) => ({
      ops_per_s: round(r.opsPerSecond, 1),
      p50_ms: round(percentile(r.latencies.op!, 50), 2),
      p99_ms: round(percentile(r.latencies.op!, 99), 2),
      errors: r.errors,
    });
    const summary = {
      bench: 'webhooks', concurrency, seconds, burst_events: events, subscribers: subscriberCount,
      redeem_without_subscribers: figures(quiet),
      redeem_with_subscribers: figures(busy),
      ops_ratio_with_over_without: round(busy.opsPerSecond / quiet.opsPerSecond, 3),
      webhooks: {
        events: drain.events, deliveries: drain.deliveries, delivered: drain.delivered,
        all_delivered_s_after_burst: drain.seconds === null ? null : round(deliveredAfterS, 1),
        deliveries_per_s: drain.seconds === null ? null : round(drain.delivered / deliveredAfterS, 1),
        receiver_requests: subscribers.received().requests,
        receiver_distinct_events: subscribers.received().events,
      },
      ledger_ok: ledger.ok,
    };
    for (const [name, r] of [['without subscribers', quiet], ['with subscribers', busy]] as const) {
      if (r.errors) log(`${name}: ${r.errors} errors, e.g. ${r.errorSamples.join(' | ')}`);
    }
    const healthy = quiet.errors === 0 && busy.errors === 0 && ledger.ok && drain.seconds !== null;
    if (!healthy) log('RUN FLAGGED: errors, undelivered webhooks or a failed ledger check; do not trust these numbers');
    console.log(JSON.stringify(summary));
    return healthy ? 0 : 1;
  } finally {
    clients.forEach((c) => c.close());
    await subscribers?.close();
    // The next run's endpoints are its own.
    await pool.query(`UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'admin', disabled_at = now() WHERE enabled`).catch(() => {});
    await pool.end();
    await engine.stop();
  }
}
