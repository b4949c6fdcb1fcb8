// `npm run bench -- purchase [--purchases 200] [--concurrency 16] [--warmup 16] [--one-at-a-time 50] [--timeout 60]
//   [--temporal dev|server]`
//
// Print@Home purchases end to end against the engine as it runs in production (API and worker
// processes, Temporal, PostgreSQL, stripe-mock standing in for Stripe, a real SMTP server in this
// process): POST /v1/orders, then the signed `payment_intent.succeeded` webhook; the clock runs
// from the webhook until the SMTP server accepts that order's voucher e-mail. The baseline renders
// the same voucher PDF and sends it with the same mailer through the same SMTP server, at the same
// concurrency: the work a purchase cannot avoid, without workflow, ledger or Stripe.
//
// Then `--one-at-a-time` more purchases, each started when the last one's mail arrived: the latency
// of a purchase that waits for nothing but its own steps (a centre's real online rate is a few a
// minute), beside the batch's latency with 16 purchases at once on two cores.
//
// The last line of output is one JSON object with the results.

import { randomBytes, randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import Stripe from 'stripe';
import { startStripeProxy, type StripeProxy } from '../test/helpers/stripe-proxy.ts';
import { purchaseWorkflowId } from '../workflows/names/purchase.ts';
import { deriveCardCode, formatCardCode } from '../domain/card-code.ts';
import { formatMoney } from '../domain/money.ts';
import { loadConfig } from '../infra/config.ts';
import { connectClient } from '../infra/temporal.ts';
import { createMailer } from '../services/mailer.ts';
import { renderVoucherPdf } from '../services/voucher-pdf.ts';
import { cpuByGroup, cpuSnapshot, isTemporalProcess } from './lib/cpu.ts';
import { type Engine, ROOT, startEngine, TEMPORAL_OPTION, temporalKind } from './lib/engine.ts';
import { historySteps, summarizeSteps, type Step } from './lib/history.ts';
import { JsonClient } from './lib/http.ts';
import { checkLedger } from './lib/ledger.ts';
import { percentile, round } from './lib/load.ts';
import { startMailSink, type MailSink } from './lib/smtp.ts';

const log = (line: string) => console.log(`[bench] ${line}`);

const AMOUNT = 2_500; // 25.00 EUR
const CURRENCY = 'EUR';
const WEBHOOK_SECRET = 'whsec_bench';
/** Issue #16's target for webhook -> e-mail (the original card asked for 1 s). */
const TARGET_P50_MS = 300;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...TEMPORAL_OPTION,
      purchases: { type: 'string', default: '200' },
      concurrency: { type: 'string', default: '16' },
      warmup: { type: 'string', default: '16' },
      'one-at-a-time': { type: 'string', default: '50' },
      timeout: { type: 'string', default: '60' },
    },
  });
  const [purchases, concurrency, warmup, timeoutS, oneAtATime] = [
    values.purchases, values.concurrency, values.warmup, values.timeout, values['one-at-a-time'],
  ].map(Number) as number[];
  if (![purchases, concurrency, timeoutS].every((n) => Number.isInteger(n) && n! > 0) || ![warmup, oneAtATime].every((n) => Number.isInteger(n) && n! >= 0)) {
    console.error('--purchases, --concurrency and --timeout take positive integers, --warmup and --one-at-a-time integers >= 0');
    return 2;
  }
  const temporal = temporalKind(values.temporal);
  if (!temporal) return 2;
  const timeoutMs = timeoutS! * 1000;

  const mail = await startMailSink();
  // The purchase re-reads each payment from Stripe before issuing; stripe-mock is stateless, so
  // the API talks to it through the state proxy, which knows which intents the shoppers paid.
  let stripeMockUrl = '';
  const stripeState = await startStripeProxy(() => stripeMockUrl);
  let engine: Engine | undefined;
  const clients: JsonClient[] = [];
  try {
    engine = await startEngine({
      dataDir: path.join(ROOT, '.data/bench'), log, stripeMock: true, temporal,
      env: ({ stack, apiUrl }) => {
        stripeMockUrl = stack.stripeMockUrl!;
        return {
          PAYMENT_PROVIDER: 'stripe', STRIPE_API_BASE: stripeState.url, STRIPE_SECRET_KEY: 'sk_test_123',
          STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, SMTP_URL: mail.url, PUBLIC_URL: apiUrl,
          // All purchases come from this one process: lift the per-client order limit.
          SHOP_ORDERS_PER_MINUTE: '1000000',
        };
      },
    });
    log(`stripe-mock at ${engine.stack.stripeMockUrl}, SMTP sink at ${mail.url}`);
    const runId = Date.now().toString(36);
    const counts = { purchases: purchases!, concurrency: concurrency!, warmup: warmup! };

    // Baseline first: the engine is idle then; after the project run the worker might still be busy.
    const baselineOp = createBaselineOp(mail, runId, timeoutMs);
    const baseline = await measure(engine, 'baseline', counts, baselineOp);

    const pool = new pg.Pool({ connectionString: engine.databaseUrl, max: 4 });
    let project: Measured;
    let single: Batch | null = null;
    let fulfilment: { unfulfilled: string[] };
    try {
      clients.push(...Array.from({ length: concurrency! }, () => new JsonClient(engine!.apiUrl)));
      const projectOp = createProjectOp({ clients, pool, mail, runId, timeoutMs, stripeState });
      project = await measure(engine, 'project', counts, projectOp);
      fulfilment = await awaitFulfilment(pool, project.batch.ids, timeoutMs);
      if (oneAtATime! > 0) {
        log(`project one at a time: ${oneAtATime} purchases`);
        single = await runBatch('project one at a time', oneAtATime!, 1, projectOp, warmup! + purchases!);
        fulfilment.unfulfilled.push(...(await awaitFulfilment(pool, single.ids, timeoutMs)).unfulfilled);
      }
    } finally {
      await pool.end();
    }
    const breakdown = await workflowBreakdown(engine, project.batch);
    const ledger = await checkLedger(engine.databaseUrl);

    const projectErrors = project.batch.errors + (single?.errors ?? 0) + fulfilment.unfulfilled.length;
    const projectRate = project.batch.done / project.batch.seconds;
    const baselineRate = baseline.batch.done / baseline.batch.seconds;
    const lat = (b: Batch, p: number) => round(percentile(b.latencies.latency ?? [], p), 1);
    const summary = {
      bench: 'purchase', temporal, purchases: purchases!, concurrency: concurrency!,
      project: {
        purchases_per_s: round(projectRate, 2),
        webhook_to_email_p50_ms: lat(project.batch, 50),
        webhook_to_email_p99_ms: lat(project.batch, 99),
        errors: projectErrors,
      },
      project_one_at_a_time: single && {
        purchases: single.done, webhook_to_email_p50_ms: lat(single, 50), webhook_to_email_p99_ms: lat(single, 99), errors: single.errors,
      },
      baseline: { per_s: round(baselineRate, 2), p50_ms: lat(baseline.batch, 50), p99_ms: lat(baseline.batch, 99), errors: baseline.batch.errors },
      ratio: round(projectRate / baselineRate, 3),
      ledger_ok: ledger.ok,
    };

    printReport({ project, single, baseline, breakdown, ledger, unfulfilled: fulfilment.unfulfilled, summary });
    const healthy = projectErrors === 0 && baseline.batch.errors === 0 && ledger.ok;
    if (!healthy) log('RUN FLAGGED: errors, unfulfilled orders or a failed ledger check (see above); do not trust these numbers');
    console.log(JSON.stringify(summary));
    return healthy ? 0 : 1;
  } finally {
    clients.forEach((c) => c.close());
    await engine?.stop();
    await mail.close();
    await stripeState.close();
  }
}

// ---------------------------------------------------------------------------------------------
// A fixed number of operations, closed loop

/** One operation; returns named timings in ms ('latency' is the headline one) and what it created. */
type Op = (i: number, slot: number) => Promise<{ timings: Record<string, number>; id: string }>;

interface Batch {
  /** From the first operation's start to the last one's end: the rate is done / seconds. */
  seconds: number;
  done: number;
  latencies: Record<string, number[]>;
  /** What each successful operation created (order ids), with its latency, in completion order. */
  ids: { id: string; latency: number }[];
  errors: number;
  errorSamples: string[];
}

/**
 * `count` operations on `concurrency` slots, each slot starting its next operation when the last
 * one finished (shoppers who wait for their voucher). A fixed count rather than a time window: a
 * purchase takes seconds, so a window would cut many of them in half.
 */
async function runBatch(name: string, count: number, concurrency: number, op: Op, firstIndex: number): Promise<Batch> {
  const b: Batch = { seconds: 0, done: 0, latencies: {}, ids: [], errors: 0, errorSamples: [] };
  let next = 0;
  const started = performance.now();
  let last = 0;
  const progress = setInterval(() => {
    const t = (performance.now() - started) / 1000;
    log(`${name} t=${t.toFixed(0)}s ${b.done}/${count} done (${((b.done - last) / 2).toFixed(1)}/s) errors=${b.errors}`);
    last = b.done;
  }, 2000);
  const slot = async (s: number) => {
    for (let i = next++; i < count; i = next++) {
      try {
        const { timings, id } = await op(firstIndex + i, s);
        b.done++;
        b.ids.push({ id, latency: timings.latency! });
        for (const [k, v] of Object.entries(timings)) (b.latencies[k] ??= []).push(v);
      } catch (err) {
        b.errors++;
        if (b.errorSamples.length < 5) b.errorSamples.push((err as Error).message);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, (_, s) => slot(s)));
  } finally {
    clearInterval(progress);
  }
  b.seconds = (performance.now() - started) / 1000;
  return b;
}

interface Measured {
  batch: Batch;
  cpu: Map<string, number>;
}

/** Warm-up (JIT, connections, caches; not counted), then the measured batch with CPU per process. */
async function measure(engine: Engine, name: string, n: { purchases: number; concurrency: number; warmup: number }, op: Op): Promise<Measured> {
  let warmupErrors = 0;
  if (n.warmup > 0) {
    const w = await runBatch(`${name} warm-up`, n.warmup, n.concurrency, op, 0);
    warmupErrors = w.errors;
    if (w.errors) log(`${name} warm-up: ${w.errors} errors, e.g. ${w.errorSamples[0]}`);
  }
  log(`${name}: ${n.purchases} operations, ${n.concurrency} at a time`);
  const before = cpuSnapshot();
  const batch = await runBatch(name, n.purchases, n.concurrency, op, n.warmup);
  const cpu = cpuByGroup(before, cpuSnapshot(), batch.seconds, (pid, comm) => {
    if (pid === engine.api.pid) return 'api (node)';
    if (pid === engine.worker.pid) return 'worker (node)';
    if (pid === process.pid) return 'load generator + SMTP (this process)';
    if (comm === 'postgres') return 'postgres';
    if (isTemporalProcess(comm)) return 'temporal';
    if (comm.startsWith('stripe-mock')) return 'stripe-mock';
    if (comm === 'redis-server') return 'redis';
    return `other: ${comm}`;
  });
  // Warm-up failures count too: they make the run suspect.
  batch.errors += warmupErrors;
  return { batch, cpu };
}

// ---------------------------------------------------------------------------------------------
// The operations

function createProjectOp(o: { clients: JsonClient[]; pool: pg.Pool; mail: MailSink; runId: string; timeoutMs: number; stripeState: StripeProxy }): Op {
  const stripe = new Stripe('sk_test_123'); // only signs webhooks; never calls out
  return async (i, slot) => {
    const http = o.clients[slot]!;
    const email = `shopper-${o.runId}-${i}@bench.test`;
    const t0 = performance.now();
    const created = await http.request('POST', '/v1/orders', { amount: AMOUNT, currency: CURRENCY, email },
      { 'idempotency-key': `bench-${o.runId}-${i}` });
    if (created.status !== 200) throw new Error(`POST /v1/orders ${created.status}: ${JSON.stringify(created.body)}`);
    const orderId: string = created.body.orderId;
    const tOrder = performance.now() - t0;
    // The REST view does not expose the PaymentIntent id; the workflow stored it before the
    // order call returned (the shop's update waits for the payment), as Stripe's webhook carries it.
    const { rows } = await o.pool.query<{ payment_id: string | null }>('SELECT payment_id FROM orders WHERE id = $1', [orderId]);
    const paymentId = rows[0]?.payment_id;
    if (!paymentId) throw new Error(`order ${orderId} has no payment id after POST /v1/orders`);
    o.stripeState.succeed(paymentId); // the shopper paid; Stripe now sends its webhook

    const payload = JSON.stringify({
      id: `evt_${randomUUID().replace(/-/g, '')}`, object: 'event', type: 'payment_intent.succeeded', api_version: '2024-06-20',
      created: Math.floor(Date.now() / 1000), livemode: false, pending_webhooks: 1, request: null,
      data: { object: { id: paymentId, object: 'payment_intent', amount: AMOUNT, currency: 'eur', metadata: { orderId }, last_payment_error: null } },
    });
    const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET });
    // Listening before the webhook goes out: the mail may arrive before its answer does.
    const delivered = o.mail.waitFor(email, o.timeoutMs);
    delivered.catch(() => {}); // handled below; the webhook may fail first
    const t1 = performance.now();
    const hook = await http.send('POST', '/v1/webhooks/stripe', payload, { 'stripe-signature': signature });
    const tWebhook = performance.now() - t1;
    if (hook.status !== 200 || hook.body?.handled !== true) throw new Error(`webhook ${hook.status}: ${JSON.stringify(hook.body)}`);
    const { acceptedAt, bytes } = await delivered;
    return { id: orderId, timings: { latency: acceptedAt - t1, order: tOrder, webhook: tWebhook, total: acceptedAt - t0, bytes } };
  };
}

function createBaselineOp(mail: MailSink, runId: string, timeoutMs: number): Op {
  const config = loadConfig();
  const mailer = createMailer({ smtpUrl: mail.url, from: config.mail.from });
  const key = randomBytes(32);
  const amount = formatMoney({ amount: BigInt(AMOUNT), currency: CURRENCY });
  return async (i) => {
    const email = `baseline-${runId}-${i}@bench.test`;
    const orderId = randomUUID();
    const delivered = mail.waitFor(email, timeoutMs);
    delivered.catch(() => {});
    const t0 = performance.now();
    // What deliverVoucher does, minus the database: the same renderer, content and mailer.
    const code = formatCardCode(deriveCardCode(key, 'order', orderId));
    const expiresAt = new Date(Date.now() + config.cardValidityDays * 86_400_000);
    const pdf = await renderVoucherPdf({
      schemeName: config.shop.schemeName, acceptedAt: config.shop.acceptedAt, code, amount: BigInt(AMOUNT), currency: CURRENCY,
      expiresAt, orderId, issuedAt: new Date(), locale: 'en', timeZone: config.clearingTimeZone,
    });
    const tRender = performance.now() - t0;
    await mailer.send({
      to: email, subject: `Your ${config.shop.schemeName} (${amount})`, messageId: `<voucher-${orderId}@bench>`,
      text: `Thank you for your purchase.\n\nYour voucher for ${amount} is attached as a PDF. It ends in ${code.slice(-4)} `
        + `and is valid until ${expiresAt.toISOString().slice(0, 10)}.\n\nOrder ${orderId}\n`,
      attachments: [{ filename: `voucher-${code.slice(-4)}.pdf`, content: pdf, contentType: 'application/pdf' }],
    });
    const { acceptedAt, bytes } = await delivered;
    return { id: orderId, timings: { latency: acceptedAt - t0, render: tRender, bytes } };
  };
}

// ---------------------------------------------------------------------------------------------
// After the run: every order fulfilled, and where a purchase spends its time

/** The mail goes out before the order row says 'fulfilled': give the last ones a moment. */
async function awaitFulfilment(pool: pg.Pool, orders: { id: string }[], timeoutMs: number): Promise<{ unfulfilled: string[] }> {
  const ids = orders.map((o) => o.id);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { rows } = await pool.query<{ id: string }>(`SELECT id FROM orders WHERE id = ANY($1::uuid[]) AND status <> 'fulfilled'`, [ids]);
    if (rows.length === 0 || performance.now() > deadline) return { unfulfilled: rows.map((r) => r.id) };
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Breakdown {
  /** Median-latency purchase: its steps from the webhook's signal on. */
  median: { orderId: string; latency: number; steps: Step[] } | null;
  /** Per step over all measured purchases. */
  table: string[];
}

async function workflowBreakdown(engine: Engine, batch: Batch): Promise<Breakdown> {
  if (batch.ids.length === 0) return { median: null, table: [] };
  const client = await connectClient(engine.stack.temporalAddress, engine.stack.temporalNamespace);
  try {
    const runs: Step[][] = [];
    const queue = [...batch.ids];
    // A few at a time: 200 histories in one burst would only queue up in the frontend.
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let o = queue.shift(); o; o = queue.shift()) {
        const history = await client.workflow.getHandle(purchaseWorkflowId(o.id)).fetchHistory();
        runs.push(historySteps(history.events ?? []));
      }
    }));
    const sorted = [...batch.ids].sort((a, b) => a.latency - b.latency);
    const mid = sorted[Math.floor(sorted.length / 2)]!;
    const history = await client.workflow.getHandle(purchaseWorkflowId(mid.id)).fetchHistory();
    return { median: { orderId: mid.id, latency: mid.latency, steps: historySteps(history.events ?? []) }, table: summarizeSteps(runs) };
  } catch (err) {
    return { median: null, table: [`  (could not read workflow histories: ${(err as Error).message})`] };
  } finally {
    await client.connection.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function printReport(r: {
  project: Measured; single: Batch | null; baseline: Measured; breakdown: Breakdown; ledger: { ok: boolean; output: string };
  unfulfilled: string[]; summary: { ratio: number; concurrency: number; project: { webhook_to_email_p50_ms: number } };
}): void {
  const pct = (xs: number[] | undefined, p: number) => (xs?.length ? percentile(xs, p).toFixed(0) : '-');
  const row = (name: string, m: Measured, extra: [string, string][]) => [
    name.padEnd(34), (m.batch.done / m.batch.seconds).toFixed(2).padStart(7), String(m.batch.done).padStart(5),
    pct(m.batch.latencies.latency, 50).padStart(7), pct(m.batch.latencies.latency, 99).padStart(7), String(m.batch.errors).padStart(6),
    '  ', extra.map(([k, key]) => `${k} p50 ${pct(m.batch.latencies[key], 50)} ms`).join(', '),
  ].join(' ');
  const p50 = r.summary.project.webhook_to_email_p50_ms;
  const lines = [
    '',
    `${'run'.padEnd(34)} ${'per s'.padStart(7)} ${'done'.padStart(5)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'errors'.padStart(6)}`,
    row('project (webhook -> mail accepted)', r.project, [['order', 'order'], ['webhook call', 'webhook'], ['order+pay', 'total']]),
    ...(r.single ? [row('project, one purchase at a time', { batch: r.single, cpu: new Map() }, [['order', 'order'], ['webhook call', 'webhook']])] : []),
    row('baseline (render PDF + send)', r.baseline, [['render', 'render']]),
    `ratio project/baseline (per s): ${r.summary.ratio.toFixed(3)}   target: webhook -> e-mail p50 <= ${TARGET_P50_MS} ms: `
      + `${p50 <= TARGET_P50_MS ? 'met' : 'MISSED'} with ${r.summary.concurrency} at a time`
      + (r.single ? `, ${percentile(r.single.latencies.latency ?? [], 50) <= TARGET_P50_MS ? 'met' : 'MISSED'} one at a time` : ''),
    `mail size p50: project ${pct(r.project.batch.latencies.bytes, 50)} B, baseline ${pct(r.baseline.batch.latencies.bytes, 50)} B`,
    `orders not fulfilled: ${r.unfulfilled.length}${r.unfulfilled.length ? ` (e.g. ${r.unfulfilled.slice(0, 3).join(', ')})` : ''}`,
    `ledger check: ${r.ledger.ok ? 'OK' : 'FAILED'} — ${r.ledger.output.split('\n').filter(Boolean).at(r.ledger.ok ? -1 : 0)}`,
    '',
    `CPU during the measured batch (% of one core; the machine has ${availableParallelism()} cores):`,
  ];
  const [pc, bc] = [r.project.cpu, r.baseline.cpu];
  lines.push(`  ${'process'.padEnd(38)} ${'project'.padStart(8)} ${'baseline'.padStart(9)}`);
  for (const g of [...new Set([...pc.keys(), ...bc.keys()])].sort((a, b) => (pc.get(b) ?? 0) - (pc.get(a) ?? 0))) {
    // Small fry (shells, system daemons) would only lengthen the table; they are in the total.
    if ((pc.get(g) ?? 0) < 1 && (bc.get(g) ?? 0) < 1) continue;
    lines.push(`  ${g.padEnd(38)} ${(pc.get(g) ?? 0).toFixed(0).padStart(7)}% ${(bc.get(g) ?? 0).toFixed(0).padStart(8)}%`);
  }
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  lines.push(`  ${'total'.padEnd(38)} ${total(pc).toFixed(0).padStart(7)}% ${total(bc).toFixed(0).padStart(8)}%`);
  // Work that is not ours (a colleague's tests, a compiler) takes cores from the engine.
  const foreign = [...pc].filter(([g]) => g.startsWith('other:')).reduce((sum, [, v]) => sum + v, 0);
  if (foreign > 20) lines.push(`WARNING: other processes used ${foreign.toFixed(0)}% of a core during the project run; rerun on a quiet machine`);

  const m = r.breakdown.median;
  if (m) {
    lines.push('', `median purchase ${m.orderId} (webhook -> mail ${m.latency.toFixed(0)} ms), workflow history from the payment signal on:`);
    let at = 0;
    for (const s of m.steps) {
      at += s.ms;
      lines.push(`  +${s.ms.toFixed(0).padStart(5)} ms  (t=${at.toFixed(0).padStart(5)})  ${s.label}`);
    }
  }
  if (r.breakdown.table.length) lines.push('', 'all measured purchases, per history step:', ...r.breakdown.table);
  for (const [name, x] of [['project', r.project], ['baseline', r.baseline]] as const) {
    if (x.batch.errors) lines.push(`${name} errors (${x.batch.errors}), first ones:`, ...x.batch.errorSamples.map((e) => `  ${e.slice(0, 300)}`));
  }
  console.log(lines.join('\n'));
}
