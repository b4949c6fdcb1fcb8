// Financial reports for a month, straight from the ledger: the same positions the clearing computes
// (ledger_movements, ledger_positions_of), so a closed period's report equals its clearing, and the open month's report
// is live up to now.

import type pg from 'pg';
import { DomainError } from '../domain/errors.ts';
import { allowLedgerAggregation, assertPeriod, byPartyName, POSITION_COLUMNS, positionOf, SCHEME_PARTY, type Position, type PositionRow } from './clearing.ts';

export interface ReportTotals {
  currency: string;
  sales: bigint;
  onlineSales: bigint;
  redemptions: bigint;
  refunds: bigint;
  breakage: bigint;
  liabilityChange: bigint;
  outstandingAtStart: bigint;
  outstandingAtEnd: bigint;
}

export interface PeriodReport {
  period: string;
  from: Date;
  to: Date;
  /** The month is still running: figures are up to now. */
  open: boolean;
  totals: ReportTotals[];
  positions: Position[];
}

async function closedPositions(db: pg.ClientBase, period: string): Promise<Position[]> {
  const { rows } = await db.query<PositionRow>(
    `SELECT ${POSITION_COLUMNS} FROM clearing_positions p
       JOIN clearing_periods cp ON cp.period = p.period AND cp.status = 'closed'
       LEFT JOIN billing_parties bp ON bp.id = p.billing_party_id
      WHERE p.period = $1`, [period]);
  return rows.map(positionOf).sort(byPartyName);
}

async function positionsBetween(db: pg.ClientBase, from: Date, to: Date | 'infinity'): Promise<Position[]> {
  const { rows } = await db.query<PositionRow>(
    `SELECT ${POSITION_COLUMNS}
       FROM ledger_positions_of((SELECT jsonb_agg(m) FROM ledger_movements($1, $2) m)) p
       LEFT JOIN billing_parties bp ON bp.id::text = p.party_key`,
    [from, to]);
  return rows.map(positionOf).sort(byPartyName);
}

export async function periodReport(pool: pg.Pool, timeZone: string, period: string): Promise<PeriodReport> {
  assertPeriod(period);
  // One snapshot: the card balances and the ledger entries are read as of the same instant.
  const db = await pool.connect();
  try {
    await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await allowLedgerAggregation(db);
    const { rows: [bounds] } = await db.query<{ starts: Date; ends: Date; now: Date }>(
      `SELECT ($1 || '-01')::timestamp AT TIME ZONE $2 AS starts,
              (($1 || '-01')::timestamp + interval '1 month') AT TIME ZONE $2 AS ends, now() AS now`,
      [period, timeZone]);
    if (bounds!.starts > bounds!.now) throw new DomainError('period_in_future', `${period} has not begun`);
    const open = bounds!.ends > bounds!.now;
    const to = open ? bounds!.now : bounds!.ends;
    // The snapshot decides what is visible; an open upper bound never misses an entry committed
    // between BEGIN and the snapshot's first query. A closed period is reported as it was closed.
    const closed = open ? [] : await closedPositions(db, period);
    const positions = closed.length > 0 ? closed : await positionsBetween(db, bounds!.starts, open ? 'infinity' : to);
    const later = open ? [] : await positionsBetween(db, to, 'infinity');
    const outstanding = await db.query<{ currency: string; total: string }>(
      'SELECT currency, sum(available + held)::bigint AS total FROM cards GROUP BY currency');
    // Balances a legacy import brought over are liability without a movement clearing sees: they
    // count from the instant they were imported (their opening entries, migration -> card).
    const imported = await db.query<{ currency: string; within: string; since: string }>(
      `SELECT p.currency, coalesce(-sum(p.amount) FILTER (WHERE e.booked_at < $2), 0)::bigint AS within,
              coalesce(-sum(p.amount) FILTER (WHERE e.booked_at >= $2), 0)::bigint AS since
         FROM journal_entries e JOIN postings p ON p.entry_id = e.id AND p.account_kind = 'migration'
        WHERE e.kind = 'import_opening' AND e.booked_at >= $1 GROUP BY p.currency`, [bounds!.starts, to]);
    await db.query('COMMIT');
    return { period, from: bounds!.starts, to, open, totals: totalsOf(positions, later, outstanding.rows, imported.rows), positions };
  } catch (err) {
    await db.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    db.release();
  }
}

function totalsOf(
  positions: Position[], later: Position[], outstanding: { currency: string; total: string }[],
  imported: { currency: string; within: string; since: string }[],
): ReportTotals[] {
  const importedIn = (currency: string, which: 'within' | 'since') => BigInt(imported.find((r) => r.currency === currency)?.[which] ?? 0);
  // Liability at the end = liability now - what it grew by since; at the start = end - growth in it.
  const outstandingNow = new Map(outstanding.map((r) => [r.currency, BigInt(r.total)]));
  const grewSince = new Map(later.filter((p) => p.partyKey === SCHEME_PARTY).map((p) => [p.currency, p.liabilityChange]));
  const currencies = [...new Set([...positions.map((p) => p.currency), ...outstandingNow.keys()])].sort();
  return currencies.map((currency): ReportTotals => {
    const lines = positions.filter((p) => p.currency === currency);
    const scheme = lines.find((p) => p.partyKey === SCHEME_PARTY);
    const sum = (f: (p: Position) => bigint) => lines.reduce((n, p) => n + f(p), 0n);
    const atEnd = (outstandingNow.get(currency) ?? 0n) - (grewSince.get(currency) ?? 0n) - importedIn(currency, 'since');
    const change = scheme?.liabilityChange ?? 0n;
    return {
      currency, sales: sum((p) => p.salesAmount), onlineSales: scheme?.salesAmount ?? 0n,
      redemptions: sum((p) => p.redemptionsAmount), refunds: sum((p) => p.refundsAmount),
      breakage: scheme?.breakageAmount ?? 0n, liabilityChange: change,
      outstandingAtStart: atEnd - change - importedIn(currency, 'within'), outstandingAtEnd: atEnd,
    };
  })
    // A currency only imported cards hold, imported after the period, has nothing to report in it.
    .filter((t) => positions.some((p) => p.currency === t.currency) || t.outstandingAtStart !== 0n || t.outstandingAtEnd !== 0n);
}
