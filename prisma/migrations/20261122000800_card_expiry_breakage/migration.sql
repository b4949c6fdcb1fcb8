-- Card expiry: a card past its expiry date gives up its remaining balance to the scheme's
-- breakage account (reported by clearing). Run daily by the card-expiry schedule.

-- AlterEnum
ALTER TYPE "account_kind" ADD VALUE 'breakage';

-- AlterEnum
ALTER TYPE "entry_kind" ADD VALUE 'expire_card';

-- Expires one card: card_available -> breakage. Idempotent (an expired card answers as it is).
-- A card with open holds waits: its holds expire within their TTL and the next run takes it.
CREATE FUNCTION ledger_expire_card(p_card uuid) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_card cards;
  v_amount bigint;
  v_entry bigint;
BEGIN
  SELECT * INTO v_card FROM cards WHERE id = p_card FOR UPDATE;
  IF NOT FOUND THEN PERFORM ledger_refuse('card_not_found', 'no such card'); END IF;
  IF v_card.status = 'expired' THEN
    RETURN card_json(v_card) || jsonb_build_object('changed', false, 'breakage', 0);
  END IF;
  IF v_card.expires_at > now() THEN
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
