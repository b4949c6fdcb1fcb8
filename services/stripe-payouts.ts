// Stripe's payouts for Print@Home sales against our orders: finance uploads Stripe's payout
// reconciliation report (Reports → Payout reconciliation → itemized, report type
// `payout_reconciliation.itemized.5`, CSV). Each line is a balance transaction a payout carried;
// charges and refunds are matched to our online orders by payment intent id and amount, fees,
// disputes and adjustments are listed. The report then says what was matched, what is unknown,
// where amounts differ, and which paid orders no payout has carried after some days.
//
// Stripe's fees are not booked in the voucher ledger: it holds voucher value (cards against the
// parties, the provider and breakage), and an online sale moves the order's full amount out of
// provider_clearing whatever Stripe keeps. Fees are the centre's cost of collecting, shown here
// (gross, fee, net per payout) for its general bookkeeping; the ledger stays as check:ledger proves it.

import { parse } from 'csv-parse/sync';
import type pg from 'pg';
import { DomainError } from '../domain/errors.ts';
import { inTransaction } from '../infra/db.ts';
import { audit } from './audit.ts';

export const PAYOUT_REPORT_LIMIT = 20 * 1024 * 1024;

/** The columns we read; Stripe's report has more, in any order. */
const REQUIRED = ['balance_transaction_id', 'automatic_payout_id', 'currency', 'gross', 'fee', 'net', 'reporting_category', 'payment_intent_id'] as const;

export interface PayoutLine {
  balanceTransactionId: string;
  payoutId: string;
  payoutEffectiveAt: Date | null;
  reportingCategory: string;
  paymentIntentId: string | null;
  chargeId: string | null;
  currency: string;
  gross: bigint;
  fee: bigint;
  net: bigint;
}

function refuse(message: string): never {
  throw new DomainError('invalid_payout_report', message);
}

/** Stripe writes major units with a point and an optional minus: "-12.5", "80.00". */
function minor(text: string, column: string, row: number): bigint {
  const m = /^(-)?(\d{1,15})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) refuse(`line ${row}: ${column} ${JSON.stringify(text.slice(0, 20))} is not an amount`);
  const value = BigInt(m[2]!) * 100n + BigInt((m[3] ?? '0').padEnd(2, '0'));
  return m[1] ? -value : value;
}

/** Parses the report; refuses anything else (another report, a broken line) with 400, naming the line. */
export function parsePayoutReport(csv: string): PayoutLine[] {
  let records: Record<string, string>[];
  try {
    records = parse(csv.replace(/^\uFEFF/, ''), { columns: true, skip_empty_lines: true, trim: true, relax_column_count: false });
  } catch (err) {
    refuse(`the file is not a CSV report: ${err instanceof Error ? err.message.split('\n')[0] : 'unreadable'}`);
  }
  if (records.length === 0) refuse('the report has no lines');
  const missing = REQUIRED.filter((c) => !(c in records[0]!));
  if (missing.length) refuse(`not Stripe's itemized payout reconciliation report: missing column(s) ${missing.join(', ')}`);
  return records.map((r, i) => {
    const row = i + 2;
    const need = (c: string) => r[c] || refuse(`line ${row}: ${c} is empty`);
    const currency = need('currency').toUpperCase();
    if (!/^[A-Z]{3}$/.test(currency)) refuse(`line ${row}: currency ${JSON.stringify(currency)} is not an ISO 4217 code`);
    const gross = minor(need('gross'), 'gross', row);
    const fee = minor(need('fee'), 'fee', row);
    const net = minor(need('net'), 'net', row);
    if (gross - fee !== net) refuse(`line ${row}: gross minus fee is not net`);
    const effective = r.automatic_payout_effective_at_utc || r.automatic_payout_effective_at;
    const payoutEffectiveAt = effective ? new Date(effective.includes('T') || effective.endsWith('Z') ? effective : `${effective.replace(' ', 'T')}Z`) : null;
    if (payoutEffectiveAt && Number.isNaN(payoutEffectiveAt.getTime())) refuse(`line ${row}: automatic_payout_effective_at is not a time`);
    return {
      balanceTransactionId: need('balance_transaction_id'), payoutId: need('automatic_payout_id'), payoutEffectiveAt,
      reportingCategory: need('reporting_category'), paymentIntentId: r.payment_intent_id || null, chargeId: r.charge_id || null,
      currency, gross, fee, net,
    };
  });
}

export type LineStatus = 'matched' | 'wrong_amount' | 'unknown' | 'other';

export interface PayoutReport {
  payouts: { payoutId: string; currency: string; lines: number; gross: bigint; fee: bigint; net: bigint }[];
  matched: number;
  differences: { balanceTransactionId: string; payoutId: string; status: 'wrong_amount' | 'unknown'; category: string; paymentIntentId: string | null;
    orderId: string | null; currency: string; gross: bigint; expectedAmount: bigint | null }[];
  other: { balanceTransactionId: string; payoutId: string; category: string; currency: string; net: bigint }[];
  /** Paid online orders older than the cut-off whose charge no uploaded payout has carried. */
  notPaidOut: { orderId: string; paymentIntentId: string; amount: bigint; currency: string; paidAt: Date }[];
  /** Per currency: what the ledger's provider_clearing account says Stripe collected, and what its payouts carried for orders. */
  providerClearing: { currency: string; collected: bigint; paidOutGross: bigint; fees: bigint; outstanding: bigint }[];
}

interface OrderRow { id: string; payment_id: string; amount: string; currency: string; status: string }

function statusOf(line: PayoutLine, order: OrderRow | undefined): { status: LineStatus; expected: bigint | null } {
  if (line.reportingCategory !== 'charge' && line.reportingCategory !== 'refund') return { status: 'other', expected: null };
  if (!order) return { status: 'unknown', expected: null };
  const amount = BigInt(order.amount);
  if (line.currency !== order.currency) return { status: 'wrong_amount', expected: amount };
  // A charge carries the order's amount; a refund (negative gross) at most that.
  const fits = line.reportingCategory === 'charge' ? line.gross === amount : line.gross < 0n && -line.gross <= amount;
  return { status: fits ? 'matched' : 'wrong_amount', expected: amount };
}

export class StripePayoutStore {
  constructor(private readonly pool: pg.Pool, private readonly provider = 'stripe') {}

  /** Records a report's lines (those not seen before) with their matches; the same file again changes nothing. */
  async import(lines: PayoutLine[], sha256: string, by: string): Promise<{ importId: string; replayed: boolean; newLines: number }> {
    return inTransaction(this.pool, async (db) => {
      // One import at a time: a line's first report decides which import it belongs to.
      await db.query(`SELECT pg_advisory_xact_lock(hashtext('stripe_payout_imports'))`);
      const { rows: [seen] } = await db.query<{ id: string; new_lines: number }>('SELECT id, new_lines FROM stripe_payout_imports WHERE sha256 = $1', [sha256]);
      if (seen) return { importId: seen.id, replayed: true, newLines: 0 };
      const intents = [...new Set(lines.map((l) => l.paymentIntentId).filter((x): x is string => x !== null))];
      const { rows: orders } = await db.query<OrderRow>(
        'SELECT id, payment_id, amount, currency, status::text AS status FROM orders WHERE provider = $1 AND payment_id = ANY($2::text[])',
        [this.provider, intents]);
      const byIntent = new Map(orders.map((o) => [o.payment_id, o]));
      const { rows: [imp] } = await db.query<{ id: string }>(
        'INSERT INTO stripe_payout_imports (sha256, lines, new_lines, uploaded_by) VALUES ($1, $2, 0, $3) RETURNING id', [sha256, lines.length, by]);
      let newLines = 0;
      for (const l of lines) {
        const order = l.paymentIntentId ? byIntent.get(l.paymentIntentId) : undefined;
        const { status, expected } = statusOf(l, order);
        const res = await db.query(
          `INSERT INTO stripe_payout_lines (balance_transaction_id, import_id, payout_id, payout_effective_at, reporting_category, payment_intent_id,
             charge_id, currency, gross, fee, net, order_id, status, expected_amount)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (balance_transaction_id) DO NOTHING`,
          [l.balanceTransactionId, imp!.id, l.payoutId, l.payoutEffectiveAt, l.reportingCategory, l.paymentIntentId, l.chargeId, l.currency,
            l.gross.toString(), l.fee.toString(), l.net.toString(), order?.id ?? null, status, expected?.toString() ?? null]);
        newLines += res.rowCount ?? 0;
      }
      await db.query('UPDATE stripe_payout_imports SET new_lines = $2 WHERE id = $1', [imp!.id, newLines]);
      await audit(db, { actor: by, action: 'stripe_payout_report_imported', subject: `stripe-payouts:${imp!.id}`,
        details: { sha256, lines: lines.length, newLines, payouts: [...new Set(lines.map((l) => l.payoutId))] } });
      return { importId: imp!.id, replayed: false, newLines };
    });
  }

  /** Everything uploaded so far against the orders and the ledger; `notPaidOutAfterDays` is the grace for a charge to reach a payout. */
  async report(now: Date, notPaidOutAfterDays: number): Promise<PayoutReport> {
    const [payouts, lines, notPaidOut, clearing] = await Promise.all([
      this.pool.query<{ payout_id: string; currency: string; lines: number; gross: string; fee: string; net: string }>(
        `SELECT payout_id, currency, count(*)::int AS lines, sum(gross)::text AS gross, sum(fee)::text AS fee, sum(net)::text AS net
           FROM stripe_payout_lines GROUP BY 1, 2 ORDER BY min(payout_effective_at) NULLS LAST, 1, 2`),
      this.pool.query<{ balance_transaction_id: string; payout_id: string; status: LineStatus; reporting_category: string; payment_intent_id: string | null;
        order_id: string | null; currency: string; gross: string; net: string; expected_amount: string | null }>(
        `SELECT balance_transaction_id, payout_id, status, reporting_category, payment_intent_id, order_id, currency, gross::text, net::text,
                expected_amount::text FROM stripe_payout_lines ORDER BY payout_id, balance_transaction_id`),
      this.pool.query<{ id: string; payment_id: string; amount: string; currency: string; paid_at: Date }>(
        `SELECT o.id, o.payment_id, o.amount::text, o.currency, o.paid_at FROM orders o
          WHERE o.provider = $1 AND o.payment_id IS NOT NULL AND o.paid_at IS NOT NULL AND o.paid_at < $2
            AND NOT EXISTS (SELECT 1 FROM stripe_payout_lines l WHERE l.payment_intent_id = o.payment_id AND l.reporting_category = 'charge')
          ORDER BY o.paid_at, o.id`,
        [this.provider, new Date(now.getTime() - notPaidOutAfterDays * 86_400_000)]),
      // Online sales take value out of provider_clearing (negative) and cancellations put it back.
      this.pool.query<{ currency: string; collected: string }>(
        `SELECT currency, (-sum(amount))::text AS collected FROM postings WHERE account_kind = 'provider_clearing' GROUP BY 1 ORDER BY 1`),
    ]);
    const paidOut = new Map<string, { gross: bigint; fee: bigint }>();
    const { rows: sums } = await this.pool.query<{ currency: string; gross: string; fee: string }>(
      `SELECT currency, coalesce(sum(gross) FILTER (WHERE reporting_category IN ('charge', 'refund') AND order_id IS NOT NULL), 0)::text AS gross,
              sum(fee)::text AS fee FROM stripe_payout_lines GROUP BY 1`);
    for (const s of sums) paidOut.set(s.currency, { gross: BigInt(s.gross), fee: BigInt(s.fee) });
    const currencies = [...new Set([...clearing.rows.map((c) => c.currency), ...paidOut.keys()])].sort();
    return {
      payouts: payouts.rows.map((p) => ({ payoutId: p.payout_id, currency: p.currency, lines: p.lines, gross: BigInt(p.gross), fee: BigInt(p.fee), net: BigInt(p.net) })),
      matched: lines.rows.filter((l) => l.status === 'matched').length,
      differences: lines.rows.filter((l) => l.status === 'wrong_amount' || l.status === 'unknown').map((l) => ({
        balanceTransactionId: l.balance_transaction_id, payoutId: l.payout_id, status: l.status as 'wrong_amount' | 'unknown', category: l.reporting_category,
        paymentIntentId: l.payment_intent_id, orderId: l.order_id, currency: l.currency, gross: BigInt(l.gross),
        expectedAmount: l.expected_amount === null ? null : BigInt(l.expected_amount),
      })),
      other: lines.rows.filter((l) => l.status === 'other').map((l) => ({
        balanceTransactionId: l.balance_transaction_id, payoutId: l.payout_id, category: l.reporting_category, currency: l.currency, net: BigInt(l.net),
      })),
      notPaidOut: notPaidOut.rows.map((o) => ({ orderId: o.id, paymentIntentId: o.payment_id, amount: BigInt(o.amount), currency: o.currency, paidAt: o.paid_at })),
      providerClearing: currencies.map((currency) => {
        const collected = BigInt(clearing.rows.find((c) => c.currency === currency)?.collected ?? '0');
        const out = paidOut.get(currency) ?? { gross: 0n, fee: 0n };
        return { currency, collected, paidOutGross: out.gross, fees: out.fee, outstanding: collected - out.gross };
      }),
    };
  }
}
