-- Value on a card must end spendable or booked as breakage, never stranded. A refund used to put
-- value back on a card the expiry run had already closed (status 'expired', never looked at
-- again), and the run skipped blocked cards past their date for ever. Now:
-- - a refund onto an expired card books what it returns as breakage in the same transaction;
-- - expiring a card books whatever it holds, also when it is blocked or already expired;
-- - ledger_violations reports value stranded on an expired card, or on a card without open holds
--   whose expiry has not been booked a week after its date.

CREATE OR REPLACE FUNCTION ledger_refund(
  p_scope text, p_key text, p_request_hash text,
  p_hold uuid, p_store uuid, p_terminal uuid, p_amount bigint
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_hold holds;
  v_card cards;
  v_amount bigint;
  v_entry bigint;
  v_breakage bigint := 0;
BEGIN
  v_prior := idempotency_claim(p_scope, p_key, p_request_hash);
  IF v_prior IS NOT NULL THEN RETURN v_prior; END IF;

  SELECT * INTO v_hold FROM holds WHERE id = p_hold FOR UPDATE;
  IF NOT FOUND OR v_hold.store_id <> p_store THEN
    PERFORM ledger_refuse('hold_not_found', 'no redemption with this id at this store');
  END IF;
  IF v_hold.status <> 'captured' THEN
    PERFORM ledger_refuse('hold_not_authorized',
      format('only a captured redemption can be refunded; this one is %s', v_hold.status));
  END IF;
  v_amount := coalesce(p_amount, v_hold.captured_amount - v_hold.refunded_amount);
  IF v_amount <= 0 OR v_hold.refunded_amount + v_amount > v_hold.captured_amount THEN
    PERFORM ledger_refuse('refund_exceeds_captured', format(
      '%s was captured and %s refunded already', v_hold.captured_amount, v_hold.refunded_amount));
  END IF;

  UPDATE holds SET refunded_amount = refunded_amount + v_amount WHERE id = v_hold.id
    RETURNING * INTO v_hold;
  -- The refund goes back to the card whatever its state: the store's books show it either way.
  -- A blocked card keeps it (spendable once unblocked, breakage at its expiry); a card whose
  -- expiry is booked already gives it to breakage at once, since no later run looks at it again.
  UPDATE cards SET available = available + v_amount, version = version + 1, updated_at = now()
    WHERE id = v_hold.card_id RETURNING * INTO v_card;
  v_entry := ledger_post('refund', v_hold.currency, v_card.id, v_hold.id, v_hold.store_id, p_terminal,
    ARRAY['store_redemptions', 'card_available']::account_kind[],
    ARRAY[v_hold.store_id::text, v_card.id::text],
    ARRAY[-v_amount, v_amount]);
  IF v_card.status = 'expired' THEN
    v_breakage := v_amount;
    PERFORM ledger_post('expire_card', v_card.currency, v_card.id, v_hold.id, NULL, NULL,
      ARRAY['card_available', 'breakage']::account_kind[],
      ARRAY[v_card.id::text, v_card.currency::text],
      ARRAY[-v_amount, v_amount]);
    UPDATE cards SET available = available - v_amount, version = version + 1, updated_at = now()
      WHERE id = v_card.id RETURNING * INTO v_card;
  END IF;

  RETURN idempotency_store(p_scope, p_key, p_request_hash, hold_json(v_hold) || jsonb_build_object(
    'refundAmount', v_amount, 'breakage', v_breakage, 'entryId', v_entry, 'card', card_json(v_card)));
END $$;

-- Expires one card: card_available -> breakage. Idempotent: a card already expired with nothing
-- on it answers as it is; one that has value on it anyway gives that to breakage. Blocked cards
-- expire like active ones. A card with open holds waits: they expire within their TTL.
CREATE OR REPLACE FUNCTION ledger_expire_card(p_card uuid) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_card cards;
  v_amount bigint;
  v_entry bigint;
BEGIN
  SELECT * INTO v_card FROM cards WHERE id = p_card FOR UPDATE;
  IF NOT FOUND THEN PERFORM ledger_refuse('card_not_found', 'no such card'); END IF;
  IF v_card.status = 'expired' AND v_card.available = 0 AND v_card.held = 0 THEN
    RETURN card_json(v_card) || jsonb_build_object('changed', false, 'breakage', 0);
  END IF;
  IF v_card.status <> 'expired' AND v_card.expires_at > now() THEN
    PERFORM ledger_refuse('card_not_expired', 'the card has not expired yet');
  END IF;
  IF v_card.held > 0 THEN
    PERFORM ledger_refuse('card_has_open_holds', 'the card has open holds; they expire first');
  END IF;
  v_amount := v_card.available;
  IF v_amount > 0 THEN
    v_entry := ledger_post('expire_card', v_card.currency, v_card.id, NULL, NULL, NULL,
      ARRAY['card_available', 'breakage']::account_kind[],
      ARRAY[v_card.id::text, v_card.currency::text],
      ARRAY[-v_amount, v_amount]);
  END IF;
  UPDATE cards SET status = 'expired', available = 0, version = version + 1, updated_at = now()
   WHERE id = v_card.id RETURNING * INTO v_card;
  RETURN card_json(v_card) || jsonb_build_object('changed', true, 'breakage', v_amount, 'entryId', v_entry);
END $$;

-- As before, plus stranded value: value on a card that can no longer be spent and was never booked
-- as breakage. An expired card holds nothing; a card past its date is expired by the daily run
-- (a week's grace covers a run that failed and is retried).
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
   WHERE e.amount <> coalesce(s.moved, 0)
  UNION ALL
  SELECT 'stranded_value', c.id::text,
         CASE WHEN c.status = 'expired'
           THEN format('card %s is expired and still holds %s %s (available %s, held %s): neither spendable nor breakage',
                       c.id, c.available + c.held, c.currency, c.available, c.held)
           ELSE format('card %s (%s) expired at %s and still holds %s %s: its expiry was never booked',
                       c.id, c.status, c.expires_at, c.available + c.held, c.currency) END
    FROM cards c
   WHERE (c.status = 'expired' AND c.available + c.held > 0)
      -- Open holds settle first (within their TTL); then the card waits for the next run.
      OR (c.status <> 'expired' AND c.expires_at < now() - interval '7 days' AND c.held = 0 AND c.available > 0);
