// The fault-injection bank test: tills hammer the cluster (two APIs behind the load balancer, two
// workers, Temporal Server on PostgreSQL, its own Redis) while a worker and an API are killed,
// Temporal and Redis restart, PostgreSQL drops the app's connections and SMTP refuses mail. Every
// call is retried with its key until answered. Afterwards the ledger must agree with what the
// tills were told, nothing may be captured twice, no expired hold may still count, every paid
// purchase has one card and one e-mail, and the outbox is empty. One JSON line says how it went.

import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../api/app.ts';
import { loadConfig } from '../../infra/config.ts';
import { startCluster, type Cluster } from '../../scripts/cluster/index.ts';
import { createBillingParty, createStore, createTerminal } from '../../services/directory.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';
import { callUntilAnswered, newCallLog, send, type Answer, type CallLog } from './client.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TILLS = Number(process.env.CHAOS_TILLS ?? 32);
const RUN_MS = Number(process.env.CHAOS_RUN_SECONDS ?? 75) * 1000;
const DRAIN_MS = 150_000;
const SHORT_HOLD_TTL_SECONDS = 20;
type Currency = 'EUR' | 'GBP';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

let mailbox: Mailbox;
let cluster: Cluster;
let db: pg.Pool;
let databaseUrl: string;

function databaseUrlNamed(name: string): string {
  const u = new URL(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/voucher_cluster');
  u.pathname = `/${name}`;
  return u.href;
}

beforeAll(async () => {
  // A fresh start each run: the app's database and Temporal's, so no earlier run's workflows
  // act on this run's ledger.
  databaseUrl = databaseUrlNamed('voucher_chaos');
  const admin = new pg.Client({ connectionString: databaseUrlNamed('postgres') });
  await admin.connect();
  for (const name of ['voucher_chaos', 'temporal_chaos', 'temporal_chaos_visibility']) {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
  await admin.end();
  mailbox = await startMailbox();
  cluster = await startCluster({
    databaseUrl,
    dataDir: path.join(ROOT, '.data/chaos'),
    namespace: 'voucher-chaos',
    temporalPort: 17433,
    smtpUrl: mailbox.url,
    log: (line) => console.log(`[cluster] ${line}`),
    env: {
      // Fraud limits and the shop's per-address limit have their own tests; here every till and
      // the shopper come through one load balancer address.
      VELOCITY_CARD_REDEMPTIONS_PER_HOUR: 'off', VELOCITY_CARD_AMOUNT_PER_HOUR_MINOR: 'off',
      VELOCITY_CARD_REDEMPTIONS_PER_DAY: 'off', VELOCITY_CARD_AMOUNT_PER_DAY_MINOR: 'off',
      VELOCITY_TERMINAL_SOLD_PER_DAY_MINOR: 'off', SHOP_ORDERS_PER_MINUTE: '100000',
      SMTP_TIMEOUT_MS: '5000',
    },
  });
  console.log(cluster.describe());
  db = new pg.Pool({ connectionString: databaseUrl, max: 3 });
}, 300_000);

afterAll(async () => {
  await db?.end();
  await cluster?.stop();
  await mailbox?.close();
}, 120_000);

interface Till {
  name: string;
  apiKey: string;
  storeId: string;
  holds: Array<{ id: string; currency: Currency; approved: number; captured: number; refunded: number; status: string }>;
}

interface Books {
  issued: Record<string, number>;
  loaded: Record<string, number>;
  captured: Record<string, number>;
  refunded: Record<string, number>;
  ops: Record<string, number>;
  refusals: Record<string, number>;
  /** 4xx answers that are not a business reason: a bug in the API or in the test. */
  badRefusals: Array<{ path: string; status: number; code: string }>;
}

const BUSINESS_REFUSALS = new Set([
  'insufficient_funds', 'balance_limit_exceeded', 'hold_expired', 'hold_not_authorized', 'card_expired', 'card_blocked',
  'currency_mismatch', 'refund_exceeds_captured', 'amount_exceeds_hold', 'order_not_payable',
  'not_awaiting_payment', 'card_in_use',
]);

function refusal(books: Books, a: Answer): string {
  const code = String(a.response?.error?.code ?? `http_${a.status}`);
  books.refusals[code] = (books.refusals[code] ?? 0) + 1;
  if (!BUSINESS_REFUSALS.has(code)) books.badRefusals.push({ path: a.path, status: a.status, code });
  return code;
}

const add = (m: Record<string, number>, k: string, v: number) => (m[k] = (m[k] ?? 0) + v);

async function runTill(till: Till, cards: Array<{ code: string; currency: Currency }>, log: CallLog, books: Books, until: number) {
  const lb = cluster.lbUrl;
  const call = (method: string, p: string, body?: unknown) => callUntilAnswered(log, lb, { method, path: p, body, apiKey: till.apiKey });
  while (Date.now() < until) {
    const r = Math.random();
    const open = till.holds.filter((h) => h.status === 'authorized');
    const refundable = till.holds.filter((h) => h.status === 'captured' && h.captured > h.refunded);
    const currency: Currency = Math.random() < 0.75 ? 'EUR' : 'GBP';
    if (r < 0.14 || cards.length < 4) {
      const amount = between(20, 200) * 100;
      const a = await call('POST', '/v1/cards', { amount, currency });
      books.ops.sell = (books.ops.sell ?? 0) + 1;
      if (a?.status === 200) {
        add(books.issued, currency, a.response.card.available);
        cards.push({ code: a.response.code, currency });
      } else if (a) refusal(books, a);
    } else if (r < 0.24) {
      const card = pick(cards);
      const amount = between(5, 50) * 100;
      const a = await call('POST', '/v1/cards/load', { code: card.code, amount, currency: card.currency });
      books.ops.load = (books.ops.load ?? 0) + 1;
      if (a?.status === 200) add(books.loaded, card.currency, amount);
      else if (a) refusal(books, a);
    } else if (r < 0.54 || (r < 0.82 && open.length === 0) || (r >= 0.82 && r < 0.94 && refundable.length === 0)) {
      const card = pick(cards);
      const allowPartial = Math.random() < 0.3;
      const a = await call('POST', '/v1/redemptions', {
        code: card.code, amount: between(5, 120) * 100, currency: card.currency, posReference: `pos-${randomUUID()}`, allowPartial,
      });
      books.ops.authorize = (books.ops.authorize ?? 0) + 1;
      if (a?.status === 200) {
        till.holds.push({ id: a.response.id, currency: card.currency, approved: a.response.approvedAmount, captured: 0, refunded: 0, status: 'authorized' });
      } else if (a) refusal(books, a);
    } else if (r < 0.74) {
      const hold = pick(open);
      const partial = Math.random() < 0.4 && hold.approved > 100;
      const a = await call('POST', `/v1/redemptions/${hold.id}/capture`, partial ? { amount: between(1, hold.approved - 1) } : {});
      books.ops.capture = (books.ops.capture ?? 0) + 1;
      if (a?.status === 200) {
        hold.status = 'captured';
        hold.captured = a.response.capturedAmount;
        add(books.captured, hold.currency, a.response.capturedAmount);
      } else if (a) {
        hold.status = refusal(books, a);
      }
    } else if (r < 0.82) {
      const hold = pick(open);
      const a = await call('POST', `/v1/redemptions/${hold.id}/void`);
      books.ops.void = (books.ops.void ?? 0) + 1;
      if (a?.status === 200) hold.status = 'voided';
      else if (a) hold.status = refusal(books, a);
    } else if (r < 0.94) {
      const hold = pick(refundable);
      const left = hold.captured - hold.refunded;
      const partial = Math.random() < 0.5 && left > 1;
      const a = await call('POST', `/v1/redemptions/${hold.id}/refunds`, partial ? { amount: between(1, left - 1) } : {});
      books.ops.refund = (books.ops.refund ?? 0) + 1;
      if (a?.status === 200) {
        add(books.refunded, hold.currency, a.response.refundAmount);
        hold.refunded = a.response.refundedAmount;
      } else if (a) refusal(books, a);
    } else {
      // Leave it: some holds stay open and expire (store A's tills have a short hold TTL).
      await sleep(200);
    }
    await sleep(between(20, 120));
  }
}

interface Purchase { orderId: string; accessToken: string; email: string; amount: number; confirmed: boolean }

async function buyOnce(log: CallLog, books: Books, purchases: Purchase[]) {
  const lb = cluster.lbUrl;
  const email = `shopper-${randomUUID().slice(0, 8)}@example.test`;
  const amount = pick([1_000, 2_500, 5_000]);
  const created = await callUntilAnswered(log, lb, { method: 'POST', path: '/v1/orders', body: { amount, currency: 'EUR', email }, apiKey: null });
  books.ops.purchase = (books.ops.purchase ?? 0) + 1;
  if (created?.status !== 200) {
    if (created) refusal(books, created);
    return;
  }
  const purchase: Purchase = { orderId: created.response.orderId, accessToken: created.response.accessToken, email, amount, confirmed: false };
  purchases.push(purchase);
  // The payment is created by the purchase workflow: "not ready yet" is worth waiting for.
  for (let i = 0; i < 60 && !purchase.confirmed; i++) {
    const c = await callUntilAnswered(log, lb, {
      method: 'POST', path: `/v1/orders/${purchase.orderId}/dev-confirm`, apiKey: null, headers: { 'x-order-token': purchase.accessToken },
    });
    if (c?.status === 200) purchase.confirmed = true;
    else if (c?.response?.error?.code === 'order_not_payable') await sleep(1_000);
    else {
      if (c) refusal(books, c);
      return;
    }
  }
}

/** A shopper every few seconds, each on its own (a slow payment must not hold up the next). */
async function runShoppers(log: CallLog, books: Books, purchases: Purchase[], until: number) {
  const running: Promise<void>[] = [];
  while (Date.now() < until) {
    running.push(buyOnce(log, books, purchases));
    await sleep(between(3_000, 5_000));
  }
  await Promise.all(running);
}

interface Fault { name: string; at: number; done: number; detail?: string }

async function injectFaults(started: number, faults: Fault[]) {
  const at = async (offsetS: number) => sleep(Math.max(0, started + offsetS * 1000 - Date.now()));
  const record = async (name: string, action: () => Promise<string | void>) => {
    const t = Date.now();
    const detail = (await action()) ?? undefined;
    faults.push({ name, at: t, done: Date.now(), detail });
  };
  await at(8);
  await record('kill -9 worker-1', async () => void process.kill(cluster.workers[0]!.current().pid!, 'SIGKILL'));
  await at(16);
  await record('kill -9 api-1', async () => void process.kill(cluster.apis[0]!.current().pid!, 'SIGKILL'));
  await at(24);
  await record('restart Temporal server', async () => {
    await cluster.temporal.stop();
    await cluster.temporal.start();
  });
  await at(38);
  await record('restart Redis', async () => {
    await cluster.redis.stop();
    await sleep(2_000);
    await cluster.redis.start();
  });
  await at(48);
  await record('pg_terminate_backend (app connections)', async () => {
    const admin = new pg.Client({ connectionString: databaseUrlNamed('postgres') });
    await admin.connect();
    const { rowCount } = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'voucher_chaos' AND pid <> pg_backend_pid()`);
    await admin.end();
    return `${rowCount} backends terminated`;
  });
  await at(56);
  await record('SMTP refuses (451) for 12 s', async () => {
    mailbox.refusing = true;
    await sleep(12_000);
    mailbox.refusing = false;
    return `${mailbox.refusedCount} messages refused`;
  });
}

/** For each fault: the tills' failed attempts until the next fault, and when calls worked again. */
function faultReport(faults: Fault[], log: CallLog, runEnd: number) {
  return faults.map((f, i) => {
    const windowEnd = faults[i + 1]?.at ?? runEnd;
    const failed = log.attempts.filter((a) => !a.ok && a.at >= f.at && a.at < windowEnd);
    const lastFailure = failed.length ? Math.max(...failed.map((a) => a.at)) : null;
    const firstOkAfter = log.attempts.filter((a) => a.ok && a.at >= (lastFailure ?? f.at)).map((a) => a.at).sort((x, y) => x - y)[0];
    return {
      fault: f.name,
      ...(f.detail ? { detail: f.detail } : {}),
      actionSeconds: +((f.done - f.at) / 1000).toFixed(1),
      tillErrors: failed.length,
      errors: failed.reduce<Record<string, number>>((m, a) => {
        const k = `${a.route} -> ${a.status ?? 'network error'}${a.code ? ` ${a.code}` : ''}`;
        m[k] = (m[k] ?? 0) + 1;
        return m;
      }, {}),
      secondsUntilCallsSucceeded: lastFailure === null ? 0 : +(((firstOkAfter ?? lastFailure) - f.at) / 1000).toFixed(1),
    };
  });
}

interface LedgerFigures { issued: number; loaded: number; captured: number; refunded: number; breakage: number; balances: number }

async function ledgerFigures(): Promise<Record<string, LedgerFigures>> {
  const { rows } = await db.query(`
    SELECT p.currency,
      coalesce(-sum(p.amount) FILTER (WHERE e.kind = 'issue' AND p.account_kind IN ('store_sales', 'provider_clearing')), 0)::bigint AS issued,
      coalesce(-sum(p.amount) FILTER (WHERE e.kind = 'load' AND p.account_kind IN ('store_sales', 'provider_clearing')), 0)::bigint AS loaded,
      coalesce(sum(p.amount) FILTER (WHERE e.kind = 'capture' AND p.account_kind = 'store_redemptions'), 0)::bigint AS captured,
      coalesce(-sum(p.amount) FILTER (WHERE e.kind = 'refund' AND p.account_kind = 'store_redemptions'), 0)::bigint AS refunded,
      coalesce(sum(p.amount) FILTER (WHERE e.kind = 'expire_card' AND p.account_kind = 'breakage'), 0)::bigint AS breakage
    FROM postings p JOIN journal_entries e ON e.id = p.entry_id GROUP BY p.currency`);
  const { rows: balances } = await db.query(`SELECT currency, sum(available + held)::bigint AS total FROM cards GROUP BY currency`);
  const out: Record<string, LedgerFigures> = {};
  for (const r of rows) {
    out[r.currency.trim()] = { issued: Number(r.issued), loaded: Number(r.loaded), captured: Number(r.captured), refunded: Number(r.refunded), breakage: Number(r.breakage), balances: 0 };
  }
  for (const b of balances) (out[b.currency.trim()] ??= { issued: 0, loaded: 0, captured: 0, refunded: 0, breakage: 0, balances: 0 }).balances = Number(b.total);
  return out;
}

interface DrainState { outbox: number; overdue_holds: number; open_orders: number }

async function drained(purchases: Purchase[]): Promise<DrainState> {
  const { rows: [s] } = await db.query(`
    SELECT (SELECT count(*) FROM workflow_outbox)::int AS outbox,
           -- Also the holds about to expire: the short-lived store's last holds expire up to 20 s after
           -- the load stops, and a final check taken while one is expiring would race its timer.
           (SELECT count(*) FROM holds WHERE status = 'authorized' AND expires_at < now() + interval '30 seconds')::int AS overdue_holds,
           (SELECT count(*) FROM orders WHERE id = ANY($1::uuid[]) AND status NOT IN ('fulfilled', 'expired', 'failed', 'payment_failed', 'refunded'))::int AS open_orders`,
  [purchases.filter((p) => p.confirmed).map((p) => p.orderId)]);
  return s as DrainState;
}

/** Whether replaying a call with its key gives the first answer (minus the `replayed` flag). */
function sameAnswer(first: Answer, again: { status: number; body: any }): boolean {
  const strip = (b: any) => (b && typeof b === 'object' ? { ...b, replayed: undefined, error: b.error ? { ...b.error, request_id: undefined, message: undefined } : undefined } : b);
  return first.status === again.status && JSON.stringify(strip(first.response)) === JSON.stringify(strip(again.body));
}

describe('bank under faults', () => {
  it('keeps value conserved and every call answered while parts of the cluster fail', async () => {
    const deps = createDeps(loadConfig({ mode: 'test', databaseUrl, redisUrl: null }), () => {});
    const party = await createBillingParty(deps.db.prisma, deps.pii, { name: 'Chaos Centre', contactEmail: 'finance@chaos.test' });
    const storeA = await createStore(deps.db.prisma, { billingPartyId: party.id, name: 'Store A (short holds)', holdTtlSeconds: SHORT_HOLD_TTL_SECONDS });
    const storeB = await createStore(deps.db.prisma, { billingPartyId: party.id, name: 'Store B' });
    const tills: Till[] = [];
    for (let i = 0; i < TILLS; i++) {
      const store = i % 2 === 0 ? storeA : storeB;
      const t = await createTerminal(deps.db.prisma, { storeId: store.id, name: `Till ${i + 1}` });
      tills.push({ name: `till-${i + 1}`, apiKey: t.apiKey, storeId: store.id, holds: [] });
    }
    await deps.close();

    const log = newCallLog();
    const books: Books = { issued: {}, loaded: {}, captured: {}, refunded: {}, ops: {}, refusals: {}, badRefusals: [] };
    const cards: Array<{ code: string; currency: Currency }> = [];
    const purchases: Purchase[] = [];
    const faults: Fault[] = [];
    const started = Date.now();
    const until = started + RUN_MS;
    await Promise.all([
      ...tills.map((t) => runTill(t, cards, log, books, until)),
      runShoppers(log, books, purchases, until - 10_000),
      injectFaults(started, faults),
    ]);
    const runEnd = Date.now();

    // Let the workers drain: outbox relayed, every hold that expires in the next 30 s booked as
    // expired, purchases delivered. The final check below is then not a race with an expiry timer.
    const drainStart = Date.now();
    let state = await drained(purchases);
    while ((state.outbox > 0 || state.overdue_holds > 0 || state.open_orders > 0) && Date.now() - drainStart < DRAIN_MS) {
      await sleep(1_000);
      state = await drained(purchases);
    }
    const drainSeconds = +((Date.now() - drainStart) / 1000).toFixed(1);

    // Replays: every answered call that needed a retry, and a sample of the rest, sent again with
    // its key. Only answers that changed something: a refusal is not stored under its key and a
    // retry is decided afresh (README, "The POS API"), so replaying one could change the ledger.
    const mutating = log.answers.filter((a) => !a.path.startsWith('/v1/orders') && a.status < 300);
    const sample = [...mutating.filter((a) => a.attempts > 1), ...mutating.filter((a) => a.attempts === 1).sort(() => Math.random() - 0.5).slice(0, 150)];
    const replayMismatches: Array<{ path: string; first: unknown; again: unknown }> = [];
    for (const a of sample) {
      const again = await send(cluster.lbUrl, a);
      if (!sameAnswer(a, again)) replayMismatches.push({ path: a.path, first: { status: a.status, body: a.response }, again });
    }

    const ledger = await ledgerFigures();
    const { rows: ordersRows } = await db.query(
      `SELECT id, status, card_id, amount FROM orders WHERE id = ANY($1::uuid[])`, [purchases.map((p) => p.orderId)]);
    const paid = ordersRows.filter((o) => ['paid', 'issued', 'fulfilled'].includes(o.status));
    const onlineIssued = paid.filter((o) => o.card_id).reduce((s, o) => s + Number(o.amount), 0);
    const purchaseProblems = paid.flatMap((o) => {
      const p = purchases.find((x) => x.orderId === o.id)!;
      // SMTP delivers at least once: a "250 OK" lost to a timeout makes the sender retry. The
      // voucher mail's Message-ID is fixed per order, so the copies are one e-mail to the
      // shopper's mail client; what must hold is exactly one distinct message.
      const received = mailbox.messages.filter((m) => JSON.stringify(m.to).toLowerCase().includes(p.email));
      const mails = new Set(received.map((m) => m.messageId)).size;
      return o.status !== 'fulfilled' || !o.card_id || mails !== 1
        ? [{ orderId: o.id, status: o.status, card: Boolean(o.card_id), mails, copies: received.length }] : [];
    });
    const { rows: cardsPerOrder } = await db.query(
      `SELECT card_id, count(*)::int AS n FROM orders WHERE card_id IS NOT NULL GROUP BY card_id HAVING count(*) > 1`);
    const { rows: doubleCaptures } = await db.query(`
      SELECT hold_id, count(*)::int AS captures FROM journal_entries WHERE kind = 'capture' GROUP BY hold_id HAVING count(*) > 1
      UNION ALL SELECT id, -1 FROM holds WHERE captured_amount > amount OR refunded_amount > captured_amount`);
    const { rows: overdueHolds } = await db.query(`SELECT id FROM holds WHERE status = 'authorized' AND expires_at < now()`);
    const { rows: violations } = await db.query('SELECT violation, subject, detail FROM ledger_violations');
    const { rows: [{ n: outbox }] } = await db.query('SELECT count(*)::int AS n FROM workflow_outbox');

    // The till-side books against the ledger, per currency.
    const conservation = Object.fromEntries(Object.entries(ledger).map(([cur, l]): [string, LedgerFigures & { formula: number; conserved: boolean; tillsAgree: boolean; tills: Omit<LedgerFigures, 'breakage' | 'balances'> }] => {
      const tillIssued = (books.issued[cur] ?? 0) + (cur === 'EUR' ? onlineIssued : 0);
      const formula = l.issued + l.loaded - l.captured + l.refunded - l.breakage;
      return [cur, {
        ...l,
        formula,
        conserved: formula === l.balances,
        tillsAgree: tillIssued === l.issued && (books.loaded[cur] ?? 0) === l.loaded
          && (books.captured[cur] ?? 0) === l.captured && (books.refunded[cur] ?? 0) === l.refunded,
        tills: { issued: tillIssued, loaded: books.loaded[cur] ?? 0, captured: books.captured[cur] ?? 0, refunded: books.refunded[cur] ?? 0 },
      }];
    }));

    // A fault may give 503 (or 502/504 from the load balancer): retry later. Never a 500.
    const internalErrors = log.attempts.filter((a) => a.status === 500).map((a) => `${a.route} ${a.code ?? ''}`);
    const result = {
      chaos: 'bank',
      tills: TILLS,
      runSeconds: +((runEnd - started) / 1000).toFixed(1),
      drainSeconds,
      calls: log.answers.length,
      attempts: log.attempts.length,
      retriedCalls: log.answers.filter((a) => a.attempts > 1).length,
      unanswered: log.unanswered.length,
      internalErrors: internalErrors.length,
      ops: books.ops,
      refusals: books.refusals,
      badRefusals: books.badRefusals.slice(0, 10),
      purchases: { started: purchases.length, paid: paid.length, emails: new Set(mailbox.messages.map((m) => m.messageId)).size, emailCopies: mailbox.messages.length, smtpRefused: mailbox.refusedCount, problems: purchaseProblems },
      conservation,
      doubleCaptures: doubleCaptures.length,
      overdueHolds: overdueHolds.length,
      replays: { checked: sample.length, mismatches: replayMismatches.length, examples: replayMismatches.slice(0, 3) },
      outbox,
      ledgerViolations: violations.length,
      faults: faultReport(faults, log, runEnd),
      restarts: { apis: cluster.apis.map((a) => a.restarts()), workers: cluster.workers.map((w) => w.restarts()) },
      lb: cluster.lb.stats(),
    };
    const line = JSON.stringify(result);
    console.log(line);
    mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
    writeFileSync(path.join(ROOT, 'test-artifacts', 'chaos-bank.json'), `${line}\n`);

    expect(log.unanswered, 'every call answered').toEqual([]);
    expect(books.badRefusals, 'refusals are business reasons').toEqual([]);
    expect(internalErrors, 'no 500 while dependencies fail').toEqual([]);
    for (const [cur, c] of Object.entries(conservation)) {
      expect(c.conserved, `${cur}: issued + loaded - captured + refunded - breakage = balances`).toBe(true);
      expect(c.tills, `${cur}: the ledger agrees with what the tills were told`).toEqual({ issued: c.issued, loaded: c.loaded, captured: c.captured, refunded: c.refunded });
    }
    expect(doubleCaptures, 'no double capture').toEqual([]);
    expect(overdueHolds, 'no hold counts past its expiry').toEqual([]);
    expect(replayMismatches, 'a retried call is answered as the first time').toEqual([]);
    expect(purchaseProblems, 'each paid purchase: one card, one e-mail').toEqual([]);
    expect(cardsPerOrder).toEqual([]);
    expect(outbox, 'outbox empty').toBe(0);
    expect(violations, 'ledger_violations empty').toEqual([]);
    expect(log.answers.length).toBeGreaterThan(TILLS * 10);
  }, 600_000);
});
