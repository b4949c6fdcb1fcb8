// Prometheus metrics of one process (API or worker), served at /metrics. The metric objects live
// here, once, so the code that counts (ledger, till routes, cache, limits) and the alert rules in
// deploy/prometheus share one set of names.

import client from 'prom-client';
import type pg from 'pg';

// prom-client's default registry: a counter defined anywhere in the process is served too.
export const registry = client.register;
client.collectDefaultMetrics({ register: registry });

const ms = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpRequests = new client.Counter({
  name: 'voucher_http_requests_total',
  help: 'HTTP requests answered, by route pattern, method and status',
  labelNames: ['route', 'method', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new client.Histogram({
  name: 'voucher_http_request_duration_seconds',
  help: 'Time from request to response, by route pattern and method',
  labelNames: ['route', 'method'] as const,
  buckets: ms,
  registers: [registry],
});

export const authorizations = new client.Counter({
  name: 'voucher_authorizations_total',
  help: 'Till authorizations, by outcome (approved or the refusal code)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const ledgerCalls = new client.Histogram({
  name: 'voucher_ledger_call_duration_seconds',
  help: 'Ledger operations (one database transaction each), by operation and outcome',
  labelNames: ['operation', 'outcome'] as const,
  buckets: ms,
  registers: [registry],
});

export const cacheLookups = new client.Counter({
  name: 'voucher_balance_cache_lookups_total',
  help: 'Balance cache lookups, by result (hit, miss, error)',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const codeGuessFailures = new client.Counter({
  name: 'voucher_code_guess_failures_total', help: 'Till requests with an unknown or invalid card code', registers: [registry],
});

export const codeGuessRefusals = new client.Counter({
  name: 'voucher_code_guess_refusals_total', help: 'Till requests refused with too_many_attempts (terminal or address locked)',
  registers: [registry],
});

export const codeGuessLocks = new client.Counter({
  name: 'voucher_code_guess_locks_total', help: 'Terminals and client addresses locked for guessing card codes, by kind',
  labelNames: ['kind'] as const, registers: [registry],
});

export const velocityDeclines = new client.Counter({
  name: 'voucher_velocity_declines_total', help: 'Till operations declined with velocity_limit_exceeded', registers: [registry],
});

export const rateLimitRefusals = new client.Counter({
  name: 'voucher_rate_limit_refusals_total',
  help: 'Requests refused with rate_limited, by limit (orders: shop orders per client address, sign_in: sign-ins per client address)',
  labelNames: ['limit'] as const, registers: [registry],
});

export const signInRefusals = new client.Counter({
  name: 'voucher_sign_in_refusals_total', help: 'Sign-in attempts refused with account_locked while a delay runs', registers: [registry],
});

export const signInLockouts = new client.Counter({
  name: 'voucher_sign_in_lockouts_total',
  help: 'Sign-in delays started: one client address (scope client) or every address together (scope account) failed past its free attempts',
  labelNames: ['scope'] as const, registers: [registry],
});

/**
 * Gauges read from the database at scrape time: what on-call must see even when no request
 * arrives (a stuck outbox, holds nobody released). Registered by the worker, which owns the
 * outbox; one query per scrape.
 *
 * Holds past expiry: the ledger stops counting a hold at its expiry by itself (it releases it on
 * the next touch of its card, and lookups count it released at once), so these no longer measure
 * money locked by workflow lag. They count releases not booked yet: holds on cards nobody touched
 * since, which the hold-expiry sweep books every minute. Above a minute or two, the sweep is not
 * running (no worker, Temporal down), and reports and held totals lag behind.
 */
export function registerBacklogGauges(pool: pg.Pool, register = registry, clearingTimeZone = 'Europe/Berlin'): void {
  const read = backlogReader(pool);
  registerOutboxAndHoldGauges(read, register);
  registerClearingGauges(pool, register, clearingTimeZone);
  new client.Gauge({
    name: 'voucher_holds_overdue_seconds',
    help: 'How long the oldest hold whose release is not booked yet is past its expiry (0 when none); the hold-expiry sweep keeps it under a minute or so',
    registers: [register],
    async collect() { this.set((await read()).overdue); },
  });
}

interface Backlog { outbox: number; oldest: number; pastExpiry: number; overdue: number }

/** The outbox and hold gauges, one query: collect() of each awaits the same read within a scrape. */
function backlogReader(pool: pg.Pool): () => Promise<Backlog> {
  let last: Promise<Backlog> | null = null;
  let lastAt = 0;
  return () => {
    if (!last || Date.now() - lastAt > 1_000) {
      lastAt = Date.now();
      last = pool.query<{ outbox: string; oldest: number | null; past_expiry: string; overdue: number | null }>(
        `SELECT o.outbox, o.oldest, h.past_expiry, h.overdue
           FROM (SELECT count(*) AS outbox, extract(epoch FROM now() - min(created_at))::float8 AS oldest
                   FROM workflow_outbox) o,
                (SELECT count(*) AS past_expiry, extract(epoch FROM now() - min(expires_at))::float8 AS overdue
                   FROM holds WHERE status = 'authorized' AND expires_at < now()) h`)
        .then(({ rows: [r] }) => ({
          outbox: Number(r!.outbox), oldest: r!.oldest ?? 0, pastExpiry: Number(r!.past_expiry), overdue: r!.overdue ?? 0,
        }));
    }
    return last;
  };
}

function registerOutboxAndHoldGauges(read: () => Promise<Backlog>, register: client.Registry): void {
  new client.Gauge({
    name: 'voucher_outbox_rows', help: 'Workflow starts and signals waiting in the outbox', registers: [register],
    async collect() { this.set((await read()).outbox); },
  });
  new client.Gauge({
    name: 'voucher_outbox_oldest_age_seconds', help: 'Age of the oldest outbox row (0 when empty)', registers: [register],
    async collect() { this.set((await read()).oldest); },
  });
  new client.Gauge({
    name: 'voucher_holds_past_expiry',
    help: 'Holds past their expiry instant whose release the ledger has not booked yet (no touch of their card and no hold-expiry sweep since; lookups and authorizations already count them released)',
    registers: [register],
    async collect() { this.set((await read()).pastExpiry); },
  });
}

/** Whether last month is cleared and closed, its bounced statements, and the bank statements' differences. */
function registerClearingGauges(pool: pg.Pool, register: client.Registry, clearingTimeZone: string): void {
  new client.Gauge({
    name: 'voucher_clearing_previous_month_closed',
    help: 'Whether last calendar month (in the clearing time zone) is cleared and closed: 1 or 0',
    registers: [register],
    async collect() {
      const { rows: [r] } = await pool.query<{ closed: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM clearing_periods
                         WHERE status = 'closed'
                           AND period = to_char(date_trunc('month', now() AT TIME ZONE $1) - interval '1 day', 'YYYY-MM')) AS closed`,
        [clearingTimeZone]);
      this.set(r!.closed ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'voucher_statements_bounced',
    help: 'Statements of the last two months whose e-mail the relay refused for good',
    registers: [register],
    async collect() {
      const { rows: [r] } = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM clearing_statements
          WHERE email_error IS NOT NULL
            AND period >= to_char(date_trunc('month', now() AT TIME ZONE $1) - interval '1 month', 'YYYY-MM')`,
        [clearingTimeZone]);
      this.set(Number(r!.n));
    },
  });
  new client.Gauge({
    name: 'voucher_settlement_differences',
    help: 'Differences the latest bank statement of each settled period showed (wrong amount, unknown payment, return, missing), by kind',
    labelNames: ['kind'] as const,
    registers: [register],
    async collect() {
      const { rows } = await pool.query<{ kind: string; n: string }>(
        `SELECT k.kind, count(d.id) AS n
           FROM unnest(ARRAY['wrong_amount', 'unknown_payment', 'returned', 'missing']) AS k(kind)
           LEFT JOIN settlement_differences d ON d.kind = k.kind AND d.superseded_at IS NULL
          GROUP BY k.kind`);
      this.reset();
      for (const r of rows) this.set({ kind: r.kind }, Number(r.n));
    },
  });
}
