// The centre's journal of a clearing period, summed for its bookkeeping: per day (in the centre's
// time zone), entry kind, currency, the party whose store booked it and ledger account, the sum
// of the postings. One pass over the period's entries, like the clearing; the entries that carry
// no postings (legacy history) drop out by the join.

import type pg from 'pg';
import type { JournalAccount, JournalMovement } from './datev.ts';

interface Row {
  day: string; kind: string; currency: string; billing_party_id: string | null; party_name: string | null;
  account_kind: string; amount: string;
}

function accountOf(r: Row): JournalAccount {
  switch (r.account_kind) {
    case 'card_available': case 'card_held': return { kind: 'voucherClearing' };
    // The store's own accounts, as the clearing reads them: the entry's store, booked to its party.
    case 'store_sales': case 'store_redemptions': return { kind: 'party', billingPartyId: r.billing_party_id! };
    case 'provider_clearing': return { kind: 'providerClearing' };
    case 'breakage': return { kind: 'breakage' };
    case 'migration': return { kind: 'migration' };
    default: throw new Error(`no bookkeeping account for ledger account kind ${r.account_kind}`);
  }
}

export async function periodJournal(pool: pg.Pool, range: { startsAt: Date; endsAt: Date }, timeZone: string): Promise<JournalMovement[]> {
  const { rows } = await pool.query<Row>(
    `SELECT to_char(x.day, 'YYYY-MM-DD') AS day, x.kind::text AS kind, x.currency, es.billing_party_id, bp.name AS party_name,
            x.account_kind::text AS account_kind, x.amount::text AS amount
       FROM (
         SELECT (e.booked_at AT TIME ZONE $3)::date AS day, e.kind, p.currency, e.store_id, p.account_kind, sum(p.amount) AS amount
           FROM journal_entries e JOIN postings p ON p.entry_id = e.id
          WHERE e.booked_at >= $1 AND e.booked_at < $2
          GROUP BY 1, 2, 3, 4, 5
       ) x
       LEFT JOIN stores es ON es.id = x.store_id
       LEFT JOIN billing_parties bp ON bp.id = es.billing_party_id
      WHERE x.amount <> 0
      ORDER BY 1, 2, 3, 5 NULLS FIRST, 4, 6`,
    [range.startsAt, range.endsAt, timeZone]);
  return rows.map((r) => ({
    day: r.day, entryKind: r.kind, currency: r.currency, billingPartyId: r.billing_party_id, partyName: r.party_name,
    account: accountOf(r), amount: BigInt(r.amount),
  }));
}
