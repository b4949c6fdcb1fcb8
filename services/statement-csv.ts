// A billing party's transactions in a clearing period as CSV (RFC 4180): every sale, load,
// redemption and refund at its stores, oldest first. Amounts are signed from the party's side
// (sales and refunds negative, redemptions positive), so the column sums to the party's net.
// The period is frozen before statements exist, so the same period always gives the same bytes.

import type pg from 'pg';
import { formatDecimal } from '../domain/money.ts';

export const STATEMENT_CSV_HEADER = [
  'booked_at', 'entry_id', 'type', 'store_id', 'store', 'terminal_id', 'terminal', 'card_last4',
  'currency', 'amount_minor', 'amount',
] as const;

const TYPE_OF_KIND: Record<string, string> = {
  issue: 'sale', load: 'load', cancel_sale: 'sale_cancellation', capture: 'redemption', refund: 'refund',
};
const BATCH = 5_000;

interface Row {
  id: string; booked_at: Date; kind: string; store_id: string; store_name: string;
  terminal_id: string | null; terminal_name: string | null; code_last4: string; currency: string; amount: string;
}

/** Quotes a field when it must be. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Names people typed: defused so a spreadsheet never runs one as a formula. */
export function csvText(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function line(fields: string[]): string {
  return fields.map(csvField).join(',') + '\r\n';
}

export async function* statementCsv(
  pool: pg.Pool, p: { billingPartyId: string; startsAt: Date; endsAt: Date },
): AsyncGenerator<string> {
  yield line([...STATEMENT_CSV_HEADER]);
  // Keyset pages: each is one index range scan, however large the month.
  let after: { bookedAt: Date; id: string } = { bookedAt: new Date(p.startsAt.getTime() - 1), id: '0' };
  for (;;) {
    const { rows } = await pool.query<Row>({
      name: 'statement_csv_page',
      text: `SELECT e.id, e.booked_at, e.kind, e.store_id, s.name AS store_name, e.terminal_id,
                    t.name AS terminal_name, c.code_last4, p.currency, p.amount
               FROM journal_entries e
               JOIN stores s ON s.id = e.store_id AND s.billing_party_id = $1
               JOIN postings p ON p.entry_id = e.id AND p.account_kind IN ('store_sales', 'store_redemptions')
               JOIN cards c ON c.id = e.card_id
               LEFT JOIN terminals t ON t.id = e.terminal_id
              WHERE e.booked_at >= $2 AND e.booked_at < $3
                AND e.kind IN ('issue', 'load', 'cancel_sale', 'capture', 'refund')
                AND (e.booked_at, e.id) > ($4, $5::bigint)
              ORDER BY e.booked_at, e.id
              LIMIT ${BATCH}`,
      values: [p.billingPartyId, p.startsAt, p.endsAt, after.bookedAt, after.id],
    });
    let page = '';
    for (const r of rows) {
      const amount = BigInt(r.amount);
      page += line([
        r.booked_at.toISOString(), r.id, TYPE_OF_KIND[r.kind] ?? r.kind, r.store_id, csvText(r.store_name),
        r.terminal_id ?? '', csvText(r.terminal_name ?? ''), r.code_last4, r.currency, amount.toString(),
        formatDecimal(amount),
      ]);
    }
    if (page) yield page;
    if (rows.length < BATCH) return;
    const last = rows[rows.length - 1]!;
    after = { bookedAt: last.booked_at, id: last.id };
  }
}
