-- Legacy import (`import-<id>` workflow, services/legacy-import/): vouchers and their history from
-- the old system. Files are streamed into staging tables in chunks (each chunk committed with its
-- idempotency key), checked in SQL, then published into the ledger in ONE transaction that ends
-- with the reconciliation: a mismatch rolls the whole import back.

CREATE TABLE imports (
  -- A UUID, so `import-<id>` names one import for good, whatever happens to the database.
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  -- SHA-256 over the three files' hashes and the options that change the outcome: the same files
  -- imported again are recognised and change nothing.
  files_sha256 TEXT NOT NULL,
  vouchers_sha256 TEXT NOT NULL,
  history_sha256 TEXT NOT NULL,
  stores_sha256 TEXT NOT NULL,
  vouchers_path TEXT NOT NULL,
  history_path TEXT NOT NULL,
  stores_path TEXT NOT NULL,
  vouchers_bytes BIGINT NOT NULL,
  history_bytes BIGINT NOT NULL,
  encoding TEXT NOT NULL CHECK (encoding IN ('utf8', 'latin1')),
  code_format TEXT NOT NULL,
  dry_run BOOLEAN NOT NULL DEFAULT false,
  -- The rejections an operator accepted (the report's CSV, a file in the import directory).
  accepted_path TEXT,
  -- Wait for an operator's acceptance (portal) instead of stopping (command line).
  wait_for_acceptance BOOLEAN NOT NULL DEFAULT false,
  status TEXT NOT NULL DEFAULT 'staging'
    CHECK (status IN ('staging', 'checking', 'awaiting_acceptance', 'rejected', 'loading', 'completed', 'dry_run_completed', 'failed')),
  requested_by TEXT NOT NULL,
  summary JSONB,
  reconciliation JSONB,
  error TEXT,
  created_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  completed_at TIMESTAMPTZ(3)
);
-- One completed import per file set: a second one would book the same vouchers twice.
CREATE INDEX imports_created_at ON imports (created_at);
CREATE UNIQUE INDEX imports_completed_once ON imports (files_sha256) WHERE status = 'completed';

-- A staged chunk: its idempotency key is (import, file, chunk). It is committed with its rows, so a
-- resumed activity starts after the last one, at the byte where it ended.
CREATE TABLE import_chunks (
  import_id UUID NOT NULL REFERENCES imports (id),
  file TEXT NOT NULL CHECK (file IN ('vouchers', 'history')),
  chunk INTEGER NOT NULL,
  end_byte BIGINT NOT NULL,
  end_line INTEGER NOT NULL,
  rows INTEGER NOT NULL,
  rejected INTEGER NOT NULL,
  PRIMARY KEY (import_id, file, chunk)
);

-- Every row the import refuses, with its line and a stable reason.
CREATE TABLE import_rejections (
  import_id UUID NOT NULL REFERENCES imports (id),
  file TEXT NOT NULL,
  line INTEGER NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY (import_id, file, line, reason)
);

-- Staging: rows as parsed and validated one by one. Card codes arrive here already hashed (the
-- keyed hash the tills look up); the codes themselves are never written anywhere.
CREATE TABLE import_staged_vouchers (
  import_id UUID NOT NULL,
  line INTEGER NOT NULL,
  code_hash TEXT NOT NULL,
  last4 TEXT NOT NULL,
  balance BIGINT,
  currency CHAR(3),
  issued_at TIMESTAMPTZ(3),
  expires_at TIMESTAMPTZ(3),
  store_id UUID,
  status card_status,
  -- Set when the row itself was refused: its history is then refused with it.
  rejected BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX import_staged_vouchers_import_line ON import_staged_vouchers (import_id, line);

CREATE TABLE import_staged_history (
  import_id UUID NOT NULL,
  line INTEGER NOT NULL,
  code_hash TEXT NOT NULL,
  legacy_type TEXT NOT NULL,
  delta BIGINT NOT NULL,
  booked_at TIMESTAMPTZ(3) NOT NULL,
  store_id UUID,
  legacy_terminal TEXT
);
CREATE INDEX import_staged_history_import_line ON import_staged_history (import_id, line);

-- Code formats of the imports done: a till's code that is not one of ours is tried under each.
CREATE TABLE legacy_code_formats (
  format TEXT PRIMARY KEY,
  first_import_id UUID NOT NULL REFERENCES imports (id),
  created_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Imported entries say so: the opening balance and each history entry carry their import; history
-- entries keep the old system's transaction type and terminal id.
ALTER TABLE journal_entries ADD COLUMN import_id UUID, ADD COLUMN legacy_type TEXT, ADD COLUMN legacy_terminal TEXT;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_legacy_fields
  CHECK ((kind IN ('import_opening', 'legacy_history')) = (import_id IS NOT NULL)
         AND (legacy_type IS NULL OR kind = 'legacy_history'));

-- Imported history keeps its original time, so it may lie before the clearing horizon: it is a
-- memo (no postings) and clearing never reads it, so no frozen period's numbers change.
CREATE OR REPLACE FUNCTION ledger_refuse_frozen_booking() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_horizon timestamptz;
BEGIN
  SELECT max(ends_at) INTO v_horizon FROM clearing_periods WHERE frozen_at IS NOT NULL;
  IF v_horizon IS NOT NULL AND EXISTS (SELECT 1 FROM inserted WHERE booked_at < v_horizon AND kind <> 'legacy_history') THEN
    RAISE EXCEPTION USING ERRCODE = 'VE409', MESSAGE = 'booking_in_frozen_period',
      DETAIL = format('the ledger is frozen until %s', v_horizon);
  END IF;
  RETURN NULL;
END $$;

-- As before (20261130040000_stranded_value), plus: imported history entries record the legacy
-- amount without postings (they are memos, not movements), and every imported voucher's history,
-- where it has any, adds up to its opening balance.
CREATE OR REPLACE VIEW ledger_violations AS
  WITH per_entry AS (
    SELECT entry_id, currency, sum(amount) AS total, coalesce(sum(amount) FILTER (WHERE amount > 0), 0) AS moved
      FROM postings GROUP BY entry_id, currency
  )
  SELECT 'unbalanced_entry' AS violation, e.id::text AS subject,
         format('entry %s sums to %s %s', e.id, s.total, s.currency) AS detail
    FROM journal_entries e
    JOIN per_entry s ON s.entry_id = e.id
   WHERE s.total <> 0
  UNION ALL
  SELECT 'card_available_mismatch', c.id::text,
         format('card %s: available %s, postings %s', c.id, c.available, coalesce(p.total, 0))
    FROM cards c
    LEFT JOIN (SELECT account_ref, sum(amount) AS total FROM postings
                WHERE account_kind = 'card_available' GROUP BY account_ref) p ON p.account_ref = c.id::text
   WHERE c.available <> coalesce(p.total, 0)
  UNION ALL
  SELECT 'card_held_mismatch', c.id::text,
         format('card %s: held %s, postings %s', c.id, c.held, coalesce(p.total, 0))
    FROM cards c
    LEFT JOIN (SELECT account_ref, sum(amount) AS total FROM postings
                WHERE account_kind = 'card_held' GROUP BY account_ref) p ON p.account_ref = c.id::text
   WHERE c.held <> coalesce(p.total, 0)
  UNION ALL
  SELECT 'hold_held_mismatch', c.id::text,
         format('card %s: held %s, open holds %s', c.id, c.held, coalesce(h.total, 0))
    FROM cards c
    LEFT JOIN (SELECT card_id, sum(amount) AS total FROM holds
                WHERE status = 'authorized' GROUP BY card_id) h ON h.card_id = c.id
   WHERE c.held <> coalesce(h.total, 0)
  UNION ALL
  SELECT 'ledger_not_zero', currency, format('all postings in %s sum to %s', currency, total)
    FROM (SELECT currency, sum(total) AS total FROM per_entry GROUP BY currency) t
   WHERE total <> 0
  UNION ALL
  SELECT 'entry_amount_mismatch', e.id::text,
         format('entry %s records %s moved, its postings %s', e.id, e.amount, coalesce(s.moved, 0))
    FROM journal_entries e
    LEFT JOIN per_entry s ON s.entry_id = e.id
   WHERE e.amount <> coalesce(s.moved, 0) AND e.kind <> 'legacy_history'
  UNION ALL
  SELECT 'memo_entry_with_postings', e.id::text,
         format('imported history entry %s has postings', e.id)
    FROM journal_entries e JOIN per_entry s ON s.entry_id = e.id
   WHERE e.kind = 'legacy_history'
  UNION ALL
  SELECT 'imported_history_mismatch', o.card_id::text,
         format('card %s opened with %s, its imported history adds up to %s', o.card_id, o.amount, h.total)
    FROM journal_entries o
    JOIN (SELECT card_id, sum(CASE WHEN legacy_type IN ('redeem', 'expire') THEN -amount
                                   WHEN legacy_type = 'adjust_debit' THEN -amount ELSE amount END) AS total
            FROM journal_entries WHERE kind = 'legacy_history' GROUP BY card_id) h ON h.card_id = o.card_id
   WHERE o.kind = 'import_opening' AND o.amount <> h.total
  UNION ALL
  SELECT 'stranded_value', c.id::text,
         CASE WHEN c.status = 'expired'
           THEN format('card %s is expired and still holds %s %s (available %s, held %s): neither spendable nor breakage',
                       c.id, c.available + c.held, c.currency, c.available, c.held)
           ELSE format('card %s (%s) expired at %s and still holds %s %s: its expiry was never booked',
                       c.id, c.status, c.expires_at, c.available + c.held, c.currency) END
    FROM cards c
   WHERE (c.status = 'expired' AND c.available + c.held > 0)
      OR (c.status <> 'expired' AND c.expires_at < now() - interval '7 days' AND c.held = 0 AND c.available > 0);
