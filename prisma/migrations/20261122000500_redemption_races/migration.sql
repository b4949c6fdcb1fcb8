-- Found in review:
-- 1. Two identical authorizations without an Idempotency-Key, in flight at once: the second was
--    judged against the balance the first had just held, and could be declined although the
--    redemption succeeded. Calls for one (terminal, POS reference) now serialize first.
-- 2. A hold could be captured after it expired, when the expiry workflow was late or down.
--    Capture now needs an unexpired hold; void still releases an expired one.

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

CREATE OR REPLACE FUNCTION ledger_settle_hold(
  p_scope text, p_key text, p_request_hash text,
  p_hold uuid, p_store uuid, p_capture boolean, p_amount bigint, p_reason text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_hold holds;
  v_card cards;
  v_capture bigint;
  v_release bigint;
  v_entry bigint;
  v_result jsonb;
BEGIN
  IF p_key IS NOT NULL THEN
    v_prior := idempotency_claim(p_scope, p_key, p_request_hash);
    IF v_prior IS NOT NULL THEN RETURN v_prior; END IF;
  END IF;

  SELECT * INTO v_hold FROM holds WHERE id = p_hold FOR UPDATE;
  IF NOT FOUND OR (p_store IS NOT NULL AND v_hold.store_id <> p_store) THEN
    PERFORM ledger_refuse('hold_not_found', 'no hold with this id at this store');
  END IF;
  IF v_hold.status <> 'authorized' THEN
    IF p_reason = 'expired' THEN
      -- The till settled it first: expiry has nothing left to do.
      RETURN hold_json(v_hold) || jsonb_build_object('changed', false);
    END IF;
    IF p_key IS NULL AND v_hold.settle_request_hash = p_request_hash THEN
      RETURN v_hold.settle_response || '{"replayed": true}'::jsonb;
    END IF;
    PERFORM ledger_refuse('hold_not_authorized', format('the hold is already %s', v_hold.status));
  END IF;
  IF p_capture AND v_hold.expires_at <= now() THEN
    -- Past its expiry a hold may only be released: expiry runs in the workflow, and a till must
    -- not capture an authorization that is already being voided.
    PERFORM ledger_refuse('hold_expired', 'the hold has expired; authorize again');
  END IF;
  IF p_reason = 'expired' AND v_hold.expires_at > now() THEN
    PERFORM ledger_refuse('hold_not_authorized', 'the hold has not expired yet');
  END IF;

  v_capture := CASE WHEN p_capture THEN coalesce(p_amount, v_hold.amount) ELSE 0 END;
  IF v_capture > v_hold.amount THEN
    PERFORM ledger_refuse('amount_exceeds_hold',
      format('the hold is for %s, %s was asked', v_hold.amount, v_capture));
  END IF;
  v_release := v_hold.amount - v_capture;

  UPDATE cards SET held = held - v_hold.amount, available = available + v_release,
                   version = version + 1, updated_at = now()
   WHERE id = v_hold.card_id RETURNING * INTO v_card;

  v_hold.status := CASE WHEN p_capture THEN 'captured' WHEN p_reason = 'expired' THEN 'expired' ELSE 'voided' END;
  v_hold.captured_amount := v_capture;
  v_hold.settled_at := now();
  v_entry := ledger_post(
    CASE WHEN p_capture THEN 'capture' WHEN p_reason = 'expired' THEN 'expire_hold' ELSE 'void' END::entry_kind,
    v_hold.currency, v_card.id, v_hold.id, v_hold.store_id, v_hold.terminal_id,
    ARRAY['card_held', 'store_redemptions', 'card_held', 'card_available']::account_kind[],
    ARRAY[v_card.id::text, v_hold.store_id::text, v_card.id::text, v_card.id::text],
    ARRAY[-v_capture, v_capture, -v_release, v_release]);
  v_result := hold_json(v_hold) || jsonb_build_object(
    'changed', true, 'releasedAmount', v_release, 'entryId', v_entry, 'card', card_json(v_card));

  UPDATE holds SET status = v_hold.status, captured_amount = v_capture, settled_at = v_hold.settled_at,
                   settle_request_hash = p_request_hash, settle_response = v_result
   WHERE id = v_hold.id;

  IF p_reason <> 'expired' THEN
    INSERT INTO workflow_outbox (workflow_id, kind, payload)
      SELECT 'redemption-' || v_hold.terminal_id || '-' || v_hold.pos_reference, 'redemption_settled',
             jsonb_build_object('holdId', v_hold.id, 'status', v_hold.status,
               'capturedAmount', v_capture, 'terminalId', v_hold.terminal_id, 'storeId', v_hold.store_id,
               'posReference', v_hold.pos_reference, 'amount', v_hold.amount,
               'currency', v_hold.currency, 'expiresAt', v_hold.expires_at);
  END IF;

  IF p_key IS NOT NULL THEN
    RETURN idempotency_store(p_scope, p_key, p_request_hash, v_result);
  END IF;
  RETURN v_result;
END $$;
