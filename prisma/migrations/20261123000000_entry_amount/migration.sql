-- Every journal entry carries what it moved (the sum of its positive postings), so the portal can
-- sort and filter a million transactions by amount through an index instead of summing postings
-- per row: over the whole ledger, or a store's (and so a billing party's) entries. ledger_post writes it with the entry; ledger_violations proves it matches the postings.

ALTER TABLE "journal_entries" ADD COLUMN "amount" BIGINT NOT NULL DEFAULT 0;

-- Entries booked before this migration get theirs once, here (the schema owner's one-off
-- correction of a derived column, as for issuer_store_id).
ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_append_only;
UPDATE journal_entries e SET amount = p.moved
  FROM (SELECT entry_id, sum(amount) FILTER (WHERE amount > 0)::bigint AS moved FROM postings GROUP BY entry_id) p
 WHERE p.entry_id = e.id AND p.moved IS NOT NULL;
ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_append_only;

-- CreateIndex
CREATE INDEX "journal_entries_amount_id_idx" ON "journal_entries"("amount", "id");

-- CreateIndex
CREATE INDEX "journal_entries_store_id_amount_id_idx" ON "journal_entries"("store_id", "amount", "id");

CREATE OR REPLACE FUNCTION ledger_post(
  p_kind entry_kind, p_currency char(3), p_card uuid, p_hold uuid, p_store uuid, p_terminal uuid,
  p_account_kinds account_kind[], p_account_refs text[], p_amounts bigint[]
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_entry bigint;
BEGIN
  INSERT INTO journal_entries (kind, currency, card_id, hold_id, store_id, terminal_id, amount)
    VALUES (p_kind, p_currency, p_card, p_hold, p_store, p_terminal,
            (SELECT coalesce(sum(a), 0) FROM unnest(p_amounts) AS a WHERE a > 0))
    RETURNING id INTO v_entry;
  INSERT INTO postings (entry_id, account_kind, account_ref, amount, currency)
    SELECT v_entry, k, r, a, p_currency
      FROM unnest(p_account_kinds, p_account_refs, p_amounts) AS t(k, r, a)
     WHERE a <> 0;
  RETURN v_entry;
END $$;

-- The postings are summed per entry once, for the balance, the stored amount and the ledger's total.
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
   WHERE e.amount <> coalesce(s.moved, 0);
