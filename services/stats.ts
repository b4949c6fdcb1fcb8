// Figures for the portal's dashboard and counter page, from the ledger: per day (in the centre's
// time zone) what was sold, redeemed and refunded, the outstanding liability at each day's end,
// and payment statistics by channel and by hour of day. Same postings as the reports, so a month
// of days adds up to the month's report.

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

export async function dailyFigures(pool: pg.Pool, timeZone: string, f: StatsFilter): Promise<DayFigures[]> {
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
       )
       SELECT to_char(d.day, 'YYYY-MM-DD') AS day, coalesce(m.currency, 'EUR') AS currency,
              -- A cancelled sale nets against sales, as in clearing.
              coalesce(-sum(m.total) FILTER (WHERE m.kind IN ('issue', 'load', 'cancel_sale')), 0) AS sales,
              coalesce(sum(m.n) FILTER (WHERE m.kind IN ('issue', 'load')), 0)
                - coalesce(sum(m.n) FILTER (WHERE m.kind = 'cancel_sale'), 0) AS sales_count,
              coalesce(sum(m.total) FILTER (WHERE m.kind = 'capture'), 0) AS redemptions,
              coalesce(sum(m.n) FILTER (WHERE m.kind = 'capture'), 0) AS redemptions_count,
              coalesce(-sum(m.total) FILTER (WHERE m.kind = 'refund'), 0) AS refunds,
              coalesce(sum(m.n) FILTER (WHERE m.kind = 'refund'), 0) AS refunds_count
         FROM days d LEFT JOIN moved m ON m.day = d.day
        GROUP BY d.day, m.currency ORDER BY d.day`,
      [timeZone, f.from, f.to, f.storeId ?? null, f.billingPartyId ?? null]);

    // Liability at each day's end = liability now minus everything booked after that day.
    const { rows: changes } = await db.query<{ day: string; change: string }>(
      `SELECT to_char((e.booked_at AT TIME ZONE $1)::date, 'YYYY-MM-DD') AS day, -sum(p.amount) AS change
         FROM journal_entries e JOIN postings p ON p.entry_id = e.id
        WHERE e.booked_at >= ($2::date)::timestamp AT TIME ZONE $1
          AND p.account_kind IN ('store_sales', 'store_redemptions', 'provider_clearing', 'breakage')
        GROUP BY 1`, [timeZone, f.from]);
    const { rows: [now] } = await db.query<{ total: string }>('SELECT coalesce(sum(available + held), 0) AS total FROM cards');
    await db.query('COMMIT');
    const changeByDay = new Map(changes.map((c) => [c.day, BigInt(c.change)]));
    const after = (day: string) => [...changeByDay].reduce((n, [d, c]) => (d > day ? n + c : n), 0n);
    return rows.map((r) => ({
      day: r.day, currency: r.currency, sales: BigInt(r.sales), salesCount: Number(r.sales_count),
      redemptions: BigInt(r.redemptions), redemptionsCount: Number(r.redemptions_count),
      refunds: BigInt(r.refunds), refundsCount: Number(r.refunds_count),
      outstandingAtEnd: BigInt(now!.total) - after(r.day),
    }));
  } catch (err) {
    await db.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    db.release();
  }
}

export interface CounterFigures {
  /** Sales by how they were paid: at a till, or online through a payment provider. */
  byChannel: { channel: string; count: number; sum: bigint; average: bigint }[];
  /** Sales and redemptions by hour of day (centre time). */
  byHour: { hour: number; sales: number; redemptions: number; redeemed: bigint }[];
}

export async function counterFigures(pool: pg.Pool, timeZone: string, f: StatsFilter): Promise<CounterFigures> {
  const range = `e.booked_at >= ($2::date)::timestamp AT TIME ZONE $1 AND e.booked_at < ($3::date + 1)::timestamp AT TIME ZONE $1`;
  const params = [timeZone, f.from, f.to, f.storeId ?? null, f.billingPartyId ?? null];
  const [channels, hours] = await Promise.all([
    pool.query<{ channel: string; n: string; total: string }>(
      `SELECT CASE WHEN p.account_kind = 'provider_clearing' THEN 'online:' || p.account_ref ELSE 'till' END AS channel,
              count(*) FILTER (WHERE e.kind <> 'cancel_sale') - count(*) FILTER (WHERE e.kind = 'cancel_sale') AS n,
              -sum(p.amount) AS total
         FROM journal_entries e JOIN postings p ON p.entry_id = e.id
        WHERE ${range} AND e.kind IN ('issue', 'load', 'cancel_sale') AND p.account_kind IN ('store_sales', 'provider_clearing') AND ${FILTERS}
        GROUP BY 1 ORDER BY 1`, params),
    pool.query<{ hour: number; sales: string; redemptions: string; redeemed: string }>(
      `SELECT extract(hour FROM e.booked_at AT TIME ZONE $1)::int AS hour,
              count(*) FILTER (WHERE e.kind IN ('issue', 'load')) AS sales,
              count(*) FILTER (WHERE e.kind = 'capture') AS redemptions,
              coalesce(sum(p.amount) FILTER (WHERE e.kind = 'capture'), 0) AS redeemed
         FROM journal_entries e JOIN postings p ON p.entry_id = e.id
        WHERE ${range} AND e.kind IN ('issue', 'load', 'capture')
          AND p.account_kind IN ('store_sales', 'store_redemptions', 'provider_clearing') AND ${FILTERS}
        GROUP BY 1 ORDER BY 1`, params),
  ]);
  const hourly = new Map(hours.rows.map((r) => [r.hour, r]));
  return {
    byChannel: channels.rows.map((r) => ({
      channel: r.channel, count: Number(r.n), sum: BigInt(r.total), average: BigInt(r.total) / BigInt(Math.max(1, Number(r.n))),
    })),
    byHour: Array.from({ length: 24 }, (_, hour) => {
      const r = hourly.get(hour);
      return { hour, sales: Number(r?.sales ?? 0), redemptions: Number(r?.redemptions ?? 0), redeemed: BigInt(r?.redeemed ?? 0) };
    }),
  };
}
