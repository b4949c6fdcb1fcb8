-- Found in review: without an Idempotency-Key, a POS reference reused days later (a till whose
-- counter was reset) replayed the old authorization, so the till believed a new sale was paid.
-- Replays by reference now hold for 24 hours; after that the reference is refused as reused.

CREATE OR REPLACE FUNCTION ledger_authorize(
  p_scope text, p_key text, p_request_hash text,
  p_code_hash text, p_currency char(3), p_amount bigint, p_allow_partial boolean,
  p_store uuid, p_terminal uuid, p_pos_reference text, p_hold_ttl_seconds int
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_card cards;
  v_approved bigint := p_amount;
  v_hold holds;
  v_ttl int;
  v_entry bigint;
  v_result jsonb;
BEGIN
  IF p_key IS NOT NULL THEN
    v_prior := idempotency_claim(p_scope, p_key, p_request_hash);
    IF v_prior IS NOT NULL THEN RETURN v_prior; END IF;
  ELSE
    -- Serialize calls for this reference before touching the card: a retry that arrives while
    -- the first call is still running waits for it and replays its answer, instead of being
    -- judged against the balance the first call already held.
    PERFORM pg_advisory_xact_lock(hashtextextended('pos|' || p_terminal || '|' || p_pos_reference, 0));
    SELECT * INTO v_hold FROM holds WHERE terminal_id = p_terminal AND pos_reference = p_pos_reference;
    IF FOUND THEN
      -- Retries come within minutes. A reference seen a day ago is a till whose counter went round,
      -- not a retry: replaying that old answer would tell it a new sale was approved.
      IF v_hold.created_at < now() - interval '24 hours' THEN
        PERFORM ledger_refuse('pos_reference_reused',
          'this terminal used this POS reference for an earlier redemption; use a new reference');
      END IF;
      IF v_hold.request_hash IS DISTINCT FROM p_request_hash OR v_hold.authorize_response IS NULL THEN
        PERFORM ledger_refuse('idempotency_key_reused',
          'this POS reference was already used with a different request');
      END IF;
      RETURN v_hold.authorize_response || '{"replayed": true}'::jsonb;
    END IF;
  END IF;

  -- The one conditional update that makes overspending impossible.
  UPDATE cards SET available = available - p_amount, held = held + p_amount,
                   version = version + 1, updated_at = now()
   WHERE code_hash = p_code_hash AND status = 'active' AND expires_at > now()
     AND currency = p_currency AND available >= p_amount
  RETURNING * INTO v_card;

  IF NOT FOUND THEN
    SELECT * INTO v_card FROM cards WHERE code_hash = p_code_hash FOR UPDATE;
    IF NOT FOUND THEN PERFORM ledger_refuse('card_not_found', 'no card has this code'); END IF;
    PERFORM card_assert_usable(v_card, p_currency);
    IF NOT p_allow_partial OR v_card.available = 0 THEN
      PERFORM ledger_refuse('insufficient_funds',
        format('the card has %s available, %s was asked', v_card.available, p_amount));
    END IF;
    v_approved := least(v_card.available, p_amount);
    UPDATE cards SET available = available - v_approved, held = held + v_approved,
                     version = version + 1, updated_at = now()
     WHERE id = v_card.id RETURNING * INTO v_card;
  END IF;

  -- Build the hold in memory first, so its row is written once, answer included.
  v_ttl := coalesce(p_hold_ttl_seconds, (SELECT hold_ttl_seconds FROM stores WHERE id = p_store));
  v_hold.id := gen_random_uuid();
  v_hold.card_id := v_card.id;
  v_hold.terminal_id := p_terminal;
  v_hold.store_id := p_store;
  v_hold.pos_reference := p_pos_reference;
  v_hold.currency := p_currency;
  v_hold.requested_amount := p_amount;
  v_hold.amount := v_approved;
  v_hold.captured_amount := 0;
  v_hold.refunded_amount := 0;
  v_hold.status := 'authorized';
  v_hold.created_at := now();
  v_hold.expires_at := now() + make_interval(secs => v_ttl);
  v_hold.request_hash := p_request_hash;

  v_entry := ledger_post('authorize', p_currency, v_card.id, v_hold.id, p_store, p_terminal,
    ARRAY['card_available', 'card_held']::account_kind[],
    ARRAY[v_card.id::text, v_card.id::text],
    ARRAY[-v_approved, v_approved]);
  v_result := hold_json(v_hold) || jsonb_build_object(
    'partial', v_approved < p_amount, 'entryId', v_entry, 'card', card_json(v_card));
  v_hold.authorize_response := v_result;

  INSERT INTO holds SELECT (v_hold).* ON CONFLICT (terminal_id, pos_reference) DO NOTHING;
  IF NOT FOUND THEN
    IF p_key IS NULL THEN
      -- A concurrent identical call committed this reference first: roll back and let the caller
      -- retry, which then replays that call's answer.
      RAISE EXCEPTION USING ERRCODE = 'VE409', MESSAGE = 'concurrent_duplicate';
    END IF;
    PERFORM ledger_refuse('pos_reference_reused',
      'this terminal already has a redemption with this POS reference');
  END IF;

  INSERT INTO workflow_outbox (workflow_id, kind, payload) VALUES (
    'redemption-' || p_terminal || '-' || p_pos_reference, 'redemption_started',
    jsonb_build_object('holdId', v_hold.id, 'terminalId', p_terminal, 'storeId', p_store,
      'posReference', p_pos_reference, 'amount', v_approved, 'currency', p_currency,
      'expiresAt', v_hold.expires_at,
      'billingPartyId', (SELECT billing_party_id FROM stores WHERE id = p_store)));

  IF p_key IS NOT NULL THEN
    RETURN idempotency_store(p_scope, p_key, p_request_hash, v_result);
  END IF;
  RETURN v_result;
END $$;
