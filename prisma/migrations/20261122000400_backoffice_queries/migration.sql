-- Indexes behind the portal's transaction table: by store (and so by billing party) and time, and
-- cards by their last four characters.

-- CreateIndex
CREATE INDEX "cards_code_last4_idx" ON "cards"("code_last4");

-- CreateIndex
CREATE INDEX "journal_entries_store_id_booked_at_idx" ON "journal_entries"("store_id", "booked_at");


-- Blocks or unblocks a card (support, from the portal). The version moves on, so balance caches
-- written before the change are replaced rather than trusted.
CREATE FUNCTION card_set_blocked(p_card uuid, p_blocked boolean) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_card cards;
BEGIN
  SELECT * INTO v_card FROM cards WHERE id = p_card FOR UPDATE;
  IF NOT FOUND THEN PERFORM ledger_refuse('card_not_found', 'no such card'); END IF;
  IF v_card.status = 'expired' OR v_card.expires_at <= now() THEN
    PERFORM ledger_refuse('card_expired', 'the card has expired');
  END IF;
  IF v_card.status = (CASE WHEN p_blocked THEN 'blocked' ELSE 'active' END)::card_status THEN
    RETURN card_json(v_card) || jsonb_build_object('changed', false);
  END IF;
  UPDATE cards SET status = CASE WHEN p_blocked THEN 'blocked' ELSE 'active' END::card_status,
                   version = version + 1, updated_at = now()
   WHERE id = p_card RETURNING * INTO v_card;
  RETURN card_json(v_card) || jsonb_build_object('changed', true);
END $$;
