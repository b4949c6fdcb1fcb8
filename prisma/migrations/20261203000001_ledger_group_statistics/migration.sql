-- The clearing's pass over a month (ledger_movements) groups entries by kind and issuing store.
-- Only captures and refunds carry an issuer, so the pairs that occur are about as many as the
-- stores, not kinds x stores; without this the planner expects hundreds of thousands of groups
-- and sorts instead of hashing (bench clearing: 4.6 s against 2.4 s on 1,000,000 redemptions).
-- Extended statistics cost nothing on insert, only at ANALYZE.
CREATE STATISTICS journal_entries_kind_issuer (ndistinct) ON kind, issuer_store_id FROM journal_entries;
