// Figures for the portal's dashboard and counter page, from the ledger: per day (in the centre's
// time zone) what was sold, redeemed and refunded, the outstanding liability at each day's end,
// and payment statistics by channel and by hour of day. Same postings as the reports, so a month
// of days adds up to the month's report. Every figure is per currency: amounts in different
// currencies are never added together.

import type pg from 'pg';

export interface StatsFilter {
  from: string; // YYYY-MM-DD, inclusive, centre time
  to: string; // YYYY-MM-DD, inclusive
  storeId?: string;
  billingPartyId?: string;
}

export interface DayFigures {
  day: string;
  currency: string;
  sales: bigint;
  salesCount: number;
  redemptions: bigint;
  redemptionsCount: number;
  refunds: bigint;
  refundsCount: number;
  /** Scheme-wide voucher liability at the end of the day (not filtered by store or party). */
  outstandingAtEnd: bigint;
}

const FILTERS = `($4::uuid IS NULL OR e.store_id = $4)
  AND ($5::uuid IS NULL OR e.store_id IN (SELECT id FROM stores WHERE billing_party_id = $5))`;

/**
 * One row per day and currency: amounts in different currencies are never added up. The
 * currencies are those that moved in the range (in scope) and, without a store or party filter,
 * those the scheme owes vouchers in; `fallbackCurrency` fills the days when there is none.
 */
export async function dailyFigures(pool: pg.Pool, timeZone: string, f: StatsFilter, fallbackCurrency = 'EUR'): Promise<DayFigures[]> {
  const db = await pool.connect();
  try {
    // One snapshot, so the liability walked back from the cards' balances matches the entries.
    await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await db.query<{
      day: string; currency: string; sales: string; sales_count: string; redemptions: string; redemptions_count: string;
      refunds: string; refunds_count: string;
    }>(
      `WITH days AS (
         SELECT d::date AS day FROM generate_series($2::date, $3::date, interval '1 day') d
       ), moved AS (
         SELECT (e.booked_at AT TIME ZONE $1)::date AS day, p.currency, e.kind, count(*) AS n, sum(p.amount) AS total
           FROM journal_entries e JOIN postings p ON p.entry_id = e.id
          WHERE e.booked_at >= ($2::date)::timestamp AT TIME ZONE $1
            AND e.booked_at < ($3::date + 1)::timestamp AT TIME ZONE $1
            AND e.kind IN ('issue', 'load', 'cancel_sale', 'capture', 'refund')
            AND p.account_kind IN ('store_sales', 'store_redemptions', 'provider_clearing')
            AND ${FILTERS}
          GROUP BY 1, 2, 3
       ), currencies AS (
         SELECT currency FROM moved
         -- Unfiltered, every currency the scheme owes vouchers in has its liability line.
         UNION SELECT currency FROM cards WHERE available + held > 0 AND $4::uuid IS NULL AND $5::uuid IS NULL
       ), in_scope AS (
         SELECT currency FROM currencies
         UNION ALL SELECT $6::char(3) WHERE NOT EXISTS (SELECT 1 FROM currencies)
       )
       SELECT to_char(d.day, 'YYYY-MM-DD') AS day, c.currency,
              -- A cancelled sale nets against sales, as in clearing.
              coalesce(-sum(m.total) FILTER (WHERE m.kind IN ('issue', 'load', 'cancel_sale')), 0) AS sales,
              coalesce(sum(m.n) FILTER (WHERE m.kind IN ('issue', 'load')), 0)
                - coalesce(sum(m.n) FILTER (WHERE m.kind = 'cancel_sale'), 0) AS sales_count,
              coalesce(sum(m.total) FILTER (WHERE m.kind = 'capture'), 0) AS redemptions,
              coalesce(sum(m.n) FILTER (WHERE m.kind = 'capture'), 0) AS redemptions_count,
              coalesce(-sum(m.total) FILTER (WHERE m.kind = 'refund'), 0) AS refunds,
              coalesce(sum(m.n) FILTER (WHERE m.kind = 'refund'), 0) AS refunds_count
         FROM days d CROSS JOIN in_scope c
         LEFT JOIN moved m ON m.day = d.day AND m.currency = c.currency
        GROUP BY d.day, c.currency ORDER BY d.day, c.currency`,
      [timeZone, f.from, f.to, f.storeId ?? null, f.billingPartyId ?? null, fallbackCurrency]);

    // Liability at each day's end = liability now minus everything booked after that day, per currency.
    const { rows: changes } = await db.query<{ day: string; currency: string; change: string }>(
      `SELECT to_char((e.booked_at AT TIME ZONE $1)::date, 'YYYY-MM-DD') AS day, p.currency, -sum(p.amount) AS change
         FROM journal_entries e JOIN postings p ON p.entry_id = e.id
        WHERE e.booked_at >= ($2::date)::timestamp AT TIME ZONE $1
          -- migration: balances a legacy import brought over count from the day they were imported;
          -- adjustments: value support added or took away (as clearing's liability counts it).
          AND p.account_kind IN ('store_sales', 'store_redemptions', 'provider_clearing', 'breakage', 'migration', 'adjustments')
        GROUP BY 1, 2`, [timeZone, f.from]);
    const { rows: outstanding } = await db.query<{ currency: string; total: string }>(
      'SELECT currency, sum(available + held) AS total FROM cards GROUP BY currency');
    await db.query('COMMIT');
    const now = new Map(outstanding.map((o) => [o.currency, BigInt(o.total)]));
    const after = (day: string, currency: string) =>
      changes.reduce((n, c) => (c.day > day && c.currency === currency ? n + BigInt(c.change) : n), 0n);
    return rows.map((r) => ({
      day: r.day, currency: r.currency, sales: BigInt(r.sales), salesCount: Number(r.sales_count),
      redemptions: BigInt(r.redemptions), redemptionsCount: Number(r.redemptions_count),
      refunds: BigInt(r.refunds), refundsCount: Number(r.refunds_count),
      outstandingAtEnd: (now.get(r.currency) ?? 0n) - after(r.day, r.currency),
    }));
  } catch (err) {
    await db.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    db.release();
  }
}

export interface CounterFigures {
  /** Sales by currency and how they were paid: at a till, or online through a payment provider. */
  byChannel: { currency: string; channel: string; count: number; sum: bigint; average: bigint }[];
  /** Sales and redemptions by currency and hour of day (centre time): 24 rows per currency. */
  byHour: { currency: string; hour: number; sales: number; redemptions: number; redeemed: bigint }[];
}

export async function counterFigures(pool: pg.Pool, timeZone: string, f: StatsFilter): Promise<CounterFigures> {
  const range = `e.booked_at >= ($2::date)::timestamp AT TIME ZONE $1 AND e.booked_at < ($3::date + 1)::timestamp AT TIME ZONE $1`;
  const params = [timeZone, f.from, f.to, f.storeId ?? null, f.billingPartyId ?? null];
  const [channels, hours] = await Promise.all([
    pool.query<{ currency: string; channel: string; n: string; total: string }>(
      `SELECT p.currency, CASE WHEN p.account_kind = 'provider_clearing' THEN 'online:' || p.account_ref ELSE 'till' END AS channel,
              count(*) FILTER (WHERE e.kind <> 'cancel_sale') - count(*) FILTER (WHERE e.kind = 'cancel_sale') AS n,
              -sum(p.amount) AS total
         FROM journal_entries e JOIN postings p ON p.entry_id = e.id
        WHERE ${range} AND e.kind IN ('issue', 'load', 'cancel_sale') AND p.account_kind IN ('store_sales', 'provider_clearing') AND ${FILTERS}
        GROUP BY 1, 2 ORDER BY 1, 2`, params),
    pool.query<{ currency: string; hour: number; sales: string; redemptions: string; redeemed: string }>(
      `SELECT p.currency, extract(hour FROM e.booked_at AT TIME ZONE $1)::int AS hour,
              count(*) FILTER (WHERE e.kind IN ('issue', 'load')) AS sales,
              count(*) FILTER (WHERE e.kind = 'capture') AS redemptions,
              coalesce(sum(p.amount) FILTER (WHERE e.kind = 'capture'), 0) AS redeemed
         FROM journal_entries e JOIN postings p ON p.entry_id = e.id
        WHERE ${range} AND e.kind IN ('issue', 'load', 'capture')
          AND p.account_kind IN ('store_sales', 'store_redemptions', 'provider_clearing') AND ${FILTERS}
        GROUP BY 1, 2 ORDER BY 1, 2`, params),
  ]);
  const currencies = [...new Set(hours.rows.map((r) => r.currency))].sort();
  const hourly = new Map(hours.rows.map((r) => [`${r.currency}:${r.hour}`, r]));
  return {
    byChannel: channels.rows.map((r) => ({
      currency: r.currency, channel: r.channel, count: Number(r.n), sum: BigInt(r.total),
      average: BigInt(r.total) / BigInt(Math.max(1, Number(r.n))),
    })),
    byHour: currencies.flatMap((currency) => Array.from({ length: 24 }, (_, hour) => {
      const r = hourly.get(`${currency}:${hour}`);
      return { currency, hour, sales: Number(r?.sales ?? 0), redemptions: Number(r?.redemptions ?? 0), redeemed: BigInt(r?.redeemed ?? 0) };
    })),
  };
}
