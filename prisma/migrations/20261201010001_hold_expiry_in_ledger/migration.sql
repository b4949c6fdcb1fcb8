-- Hold expiry that never waits for a workflow (TigerBeetle's pending-transfer timeouts): a hold
-- stops counting against its card at its expires_at, whatever the state of the outbox, the
-- worker or Temporal.
--
-- - Every ledger function that touches a card (authorize, capture, void, load, refund, card
--   expiry) first releases that card's holds that are past their expiry: each becomes 'expired'
--   and its value goes back to available in an 'expire_hold' journal entry of its own, booked now
--   and stamped effective_at = the hold's expires_at (the instant it stopped counting).
-- - Reads (lookups, the portal's card view) compute the same without writing (card_as_of_now).
-- - A sweep (ledger_release_expired_holds_batch, run every minute by the hold-expiry-sweep
--   schedule) books the releases of cards nobody touches, so reports and the
--   voucher_holds_past_expiry gauge are exact.
-- - A capture after expiry is refused with hold_expired, booked or not; a void or the redemption
--   workflow's expiry of an expired hold answers the hold as it is (released once, never twice).
-- - Card snapshots carry nextHoldExpiry, the instant until which their held value is true, so the
--   balance cache never shows a hold past its expiry.
--
-- Lock order, everywhere: the card, then its holds. (Capture, void and refund used to lock the hold
-- first; releasing a card's holds under its lock would deadlock against that.)

-- When an entry took effect, where that is earlier than its booking: a hold's expiry booked the
-- next time the ledger touched its card (or swept). NULL: effective when booked.
ALTER TABLE journal_entries ADD COLUMN effective_at TIMESTAMPTZ(3);

-- A card's open holds, soonest expiry first: the "anything expired?" probe on every touch and the
-- next expiry of a snapshot read a handful of index entries.
CREATE INDEX holds_open_by_card_idx ON holds (card_id, expires_at) WHERE status = 'authorized';

-- ledger_post with an effective instant (ledger_post itself keeps its signature for the callers
-- that have none).
CREATE FUNCTION ledger_post_effective(
  p_kind entry_kind, p_currency char(3), p_card uuid, p_hold uuid, p_store uuid, p_terminal uuid,
  p_account_kinds account_kind[], p_account_refs text[], p_amounts bigint[], p_effective_at timestamptz
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_entry bigint;
BEGIN
  INSERT INTO journal_entries (kind, currency, card_id, hold_id, store_id, terminal_id, amount, effective_at)
    VALUES (p_kind, p_currency, p_card, p_hold, p_store, p_terminal,
            (SELECT coalesce(sum(a), 0) FROM unnest(p_amounts) AS a WHERE a > 0), p_effective_at)
    RETURNING id INTO v_entry;
  INSERT INTO postings (entry_id, account_kind, account_ref, amount, currency)
    SELECT v_entry, k, r, a, p_currency
      FROM unnest(p_account_kinds, p_account_refs, p_amounts) AS t(k, r, a)
     WHERE a <> 0;
  RETURN v_entry;
END $$;

-- The soonest expiry among a card's holds that still count (NULL: none). A snapshot's held value is
-- true until then; after it the ledger counts that hold as released.
-- p_except leaves out a hold being settled in the same statement.
CREATE FUNCTION card_next_hold_expiry(p_card uuid, p_except uuid DEFAULT NULL) RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT min(expires_at) FROM holds
   WHERE card_id = p_card AND status = 'authorized' AND expires_at > now() AND id IS DISTINCT FROM p_except;
$$;

-- card_json plus nextHoldExpiry, for answers that may be cached: the balance cache keeps a
-- snapshot with held value only until that instant (and not at all without it).
CREATE FUNCTION card_snapshot(c cards, p_except_hold uuid DEFAULT NULL) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT card_json(c) || jsonb_build_object('nextHoldExpiry',
    CASE WHEN c.held > 0 THEN card_next_hold_expiry(c.id, p_except_hold) END);
$$;

-- The card as the ledger treats it at now(), without writing: holds past their expiry count as
-- released. For reads; the ledger functions book the same release before they act.
CREATE FUNCTION card_as_of_now(c cards) RETURNS cards LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_expired bigint;
BEGIN
  IF c.held > 0 THEN
    SELECT coalesce(sum(amount), 0) INTO v_expired FROM holds
     WHERE card_id = c.id AND status = 'authorized' AND expires_at <= now();
    c.available := c.available + v_expired;
    c.held := c.held - v_expired;
  END IF;
  RETURN c;
END $$;

-- Releases the card's holds that are past their expiry: for each, an 'expire_hold' entry
-- (card_held -> card_available) effective at its expiry, the hold marked 'expired' as of then,
-- and an audit entry; then the card's balances move once. The caller holds the card's row lock.
-- Returns how many holds it released (0 costs one probe of holds_open_by_card_idx, or nothing
-- for a card without held value).
CREATE FUNCTION ledger_release_expired_holds(p_card cards) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  v_hold holds;
  v_entry bigint;
  v_released bigint := 0;
  v_count int := 0;
BEGIN
  IF p_card.held = 0 THEN RETURN 0; END IF;
  FOR v_hold IN
    SELECT * FROM holds WHERE card_id = p_card.id AND status = 'authorized' AND expires_at <= now()
     ORDER BY expires_at, id FOR UPDATE
  LOOP
    v_entry := ledger_post_effective('expire_hold', v_hold.currency, p_card.id, v_hold.id, v_hold.store_id,
      v_hold.terminal_id, ARRAY['card_held', 'card_available']::account_kind[],
      ARRAY[p_card.id::text, p_card.id::text], ARRAY[-v_hold.amount, v_hold.amount], v_hold.expires_at);
    v_hold.status := 'expired';
    v_hold.settled_at := v_hold.expires_at;
    UPDATE holds SET status = 'expired', settled_at = v_hold.expires_at,
                     settle_response = hold_json(v_hold) || jsonb_build_object(
                       'changed', true, 'releasedAmount', v_hold.amount, 'entryId', v_entry)
     WHERE id = v_hold.id;
    INSERT INTO audit_entries (actor, action, subject, details) VALUES (
      'system', 'hold_expired', 'hold:' || v_hold.id,
      jsonb_build_object('entryId', v_entry, 'currency', v_hold.currency, 'releasedAmount', v_hold.amount,
        'status', 'expired', 'posReference', v_hold.pos_reference, 'terminalId', v_hold.terminal_id,
        'effectiveAt', v_hold.expires_at, 'replayed', false));
    v_released := v_released + v_hold.amount;
    v_count := v_count + 1;
  END LOOP;
  IF v_count > 0 THEN
    UPDATE cards SET held = held - v_released, available = available + v_released,
                     version = version + 1, updated_at = now()
     WHERE id = p_card.id;
  END IF;
  RETURN v_count;
END $$;

-- The sweep: releases the expired holds of up to p_cards cards, soonest expiry first. A card
-- locked by a till's call right now is skipped: that call releases its holds itself.
CREATE FUNCTION ledger_release_expired_holds_batch(p_cards int) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_card cards;
  v_cards int := 0;
  v_holds int := 0;
BEGIN
  FOR v_card IN
    SELECT * FROM cards WHERE id IN (
      SELECT card_id FROM holds WHERE status = 'authorized' AND expires_at <= now()
       GROUP BY card_id ORDER BY min(expires_at) LIMIT p_cards)
    FOR UPDATE SKIP LOCKED
  LOOP
    v_holds := v_holds + ledger_release_expired_holds(v_card);
    v_cards := v_cards + 1;
  END LOOP;
  RETURN jsonb_build_object('cards', v_cards, 'holds', v_holds);
END $$;

-- Adds value to an existing card at a till. As before, after releasing expired holds.
CREATE OR REPLACE FUNCTION ledger_load_card(
  p_scope text, p_key text, p_request_hash text,
  p_code_hash text, p_currency char(3), p_amount bigint, p_max_balance bigint,
  p_store uuid, p_terminal uuid
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_card cards;
  v_entry bigint;
BEGIN
  v_prior := idempotency_claim(p_scope, p_key, p_request_hash);
  IF v_prior IS NOT NULL THEN RETURN v_prior; END IF;

  SELECT * INTO v_card FROM cards WHERE code_hash = p_code_hash FOR UPDATE;
  IF NOT FOUND THEN PERFORM ledger_refuse('card_not_found', 'no card has this code'); END IF;
  IF ledger_release_expired_holds(v_card) > 0 THEN
    SELECT * INTO v_card FROM cards WHERE id = v_card.id;
  END IF;
  PERFORM card_assert_usable(v_card, p_currency);
  IF v_card.available + v_card.held + p_amount > p_max_balance THEN
    PERFORM ledger_refuse('balance_limit_exceeded',
      format('a card may hold at most %s minor units', p_max_balance));
  END IF;
  UPDATE cards SET available = available + p_amount, version = version + 1, updated_at = now()
    WHERE id = v_card.id RETURNING * INTO v_card;
  v_entry := ledger_post('load', p_currency, v_card.id, NULL, p_store, p_terminal,
    ARRAY['store_sales', 'card_available']::account_kind[],
    ARRAY[p_store::text, v_card.id::text],
    ARRAY[-p_amount, p_amount]);
  RETURN idempotency_store(p_scope, p_key, p_request_hash,
    card_snapshot(v_card) || jsonb_build_object('entryId', v_entry, 'amount', p_amount));
END $$;

-- Places a hold. The full-amount path is still one conditional update (available >= amount), so
-- no interleaving of concurrent authorizations can overspend a card; it applies only while the
-- card has no hold past its expiry. Otherwise (and for partial authorizations, refusals) the card
-- is locked, its expired holds are released, and the amount is judged against what is left.
-- Without an Idempotency-Key the hold is its own idempotency record, as before.
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

  -- The one conditional update that makes overspending impossible. A card with a hold past its
  -- expiry takes the path below, which books that release first.
  UPDATE cards SET available = available - p_amount, held = held + p_amount,
                   version = version + 1, updated_at = now()
   WHERE code_hash = p_code_hash AND status = 'active' AND expires_at > now()
     AND currency = p_currency AND available >= p_amount
     AND (held = 0 OR NOT EXISTS (SELECT 1 FROM holds h WHERE h.card_id = cards.id
                                     AND h.status = 'authorized' AND h.expires_at <= now()))
  RETURNING * INTO v_card;

  IF NOT FOUND THEN
    SELECT * INTO v_card FROM cards WHERE code_hash = p_code_hash FOR UPDATE;
    IF NOT FOUND THEN PERFORM ledger_refuse('card_not_found', 'no card has this code'); END IF;
    IF ledger_release_expired_holds(v_card) > 0 THEN
      SELECT * INTO v_card FROM cards WHERE id = v_card.id;
    END IF;
    PERFORM card_assert_usable(v_card, p_currency);
    IF v_card.available < p_amount AND (NOT p_allow_partial OR v_card.available = 0) THEN
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
    'partial', v_approved < p_amount, 'entryId', v_entry,
    -- The new hold is not in the table yet: its expiry joins the card's others by hand.
    'card', card_json(v_card) || jsonb_build_object('nextHoldExpiry',
      CASE WHEN v_card.held = v_approved THEN v_hold.expires_at
           ELSE least(card_next_hold_expiry(v_card.id), v_hold.expires_at) END));
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

-- Settles a hold: captures p_amount (NULL = all of it) and releases the rest, or voids it whole
-- (p_capture = false). p_reason 'expired' is the redemption workflow's expiry path and refuses
-- before expiry. The hold keeps the settling request's hash and answer, so a repeated capture or
-- void replays it.
-- The card's expired holds are released first, this one included when its time is up. Then:
-- - capture of an expired hold: refused with hold_expired (the refusal rolls the release back; the
--   next touch or the sweep books it);
-- - void, or the workflow's expiry, of an expired hold: the hold as it is ('expired', released
--   once by whichever call came first), changed = false;
-- - expiry of a hold the till settled first: the hold as it is, changed = false.
CREATE OR REPLACE FUNCTION ledger_settle_hold(
  p_scope text, p_key text, p_request_hash text,
  p_hold uuid, p_store uuid, p_capture boolean, p_amount bigint, p_reason text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_hold holds;
  v_card cards;
  v_card_id uuid;
  v_capture bigint;
  v_release bigint;
  v_entry bigint;
  v_result jsonb;
BEGIN
  IF p_key IS NOT NULL THEN
    v_prior := idempotency_claim(p_scope, p_key, p_request_hash);
    IF v_prior IS NOT NULL THEN RETURN v_prior; END IF;
  END IF;

  -- The card first (lock order), then the hold: a hold's card never changes.
  SELECT card_id INTO v_card_id FROM holds WHERE id = p_hold AND (p_store IS NULL OR store_id = p_store);
  IF NOT FOUND THEN
    PERFORM ledger_refuse('hold_not_found', 'no hold with this id at this store');
  END IF;
  SELECT * INTO v_card FROM cards WHERE id = v_card_id FOR UPDATE;
  IF ledger_release_expired_holds(v_card) > 0 THEN
    SELECT * INTO v_card FROM cards WHERE id = v_card_id;
  END IF;
  SELECT * INTO v_hold FROM holds WHERE id = p_hold FOR UPDATE;

  IF v_hold.status = 'expired' THEN
    IF p_capture THEN
      PERFORM ledger_refuse('hold_expired',
        format('the hold expired at %s; its value is back on the card; authorize again', v_hold.expires_at));
    END IF;
    v_result := hold_json(v_hold) || jsonb_build_object('changed', false, 'card', card_snapshot(v_card));
    IF p_key IS NOT NULL THEN
      RETURN idempotency_store(p_scope, p_key, p_request_hash, v_result);
    END IF;
    RETURN v_result;
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
  -- Still authorized, so not past its expiry (the release above would have taken it).
  IF p_reason = 'expired' THEN
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

  v_hold.status := CASE WHEN p_capture THEN 'captured' ELSE 'voided' END;
  v_hold.captured_amount := v_capture;
  v_hold.settled_at := now();
  v_entry := ledger_post(
    CASE WHEN p_capture THEN 'capture' ELSE 'void' END::entry_kind,
    v_hold.currency, v_card.id, v_hold.id, v_hold.store_id, v_hold.terminal_id,
    ARRAY['card_held', 'store_redemptions', 'card_held', 'card_available']::account_kind[],
    ARRAY[v_card.id::text, v_hold.store_id::text, v_card.id::text, v_card.id::text],
    ARRAY[-v_capture, v_capture, -v_release, v_release]);
  -- The hold is still 'authorized' in the table until the update below: leave it out by id.
  v_result := hold_json(v_hold) || jsonb_build_object(
    'changed', true, 'releasedAmount', v_release, 'entryId', v_entry, 'card', card_snapshot(v_card, v_hold.id));

  UPDATE holds SET status = v_hold.status, captured_amount = v_capture, settled_at = v_hold.settled_at,
                   settle_request_hash = p_request_hash, settle_response = v_result
   WHERE id = v_hold.id;

  INSERT INTO workflow_outbox (workflow_id, kind, payload)
    SELECT 'redemption-' || v_hold.terminal_id || '-' || v_hold.pos_reference, 'redemption_settled',
           jsonb_build_object('holdId', v_hold.id, 'status', v_hold.status,
             'capturedAmount', v_capture, 'terminalId', v_hold.terminal_id, 'storeId', v_hold.store_id,
             'posReference', v_hold.pos_reference, 'amount', v_hold.amount,
             'currency', v_hold.currency, 'expiresAt', v_hold.expires_at);

  IF p_key IS NOT NULL THEN
    RETURN idempotency_store(p_scope, p_key, p_request_hash, v_result);
  END IF;
  RETURN v_result;
END $$;

-- Returns captured value from the store that accepted it to the card. As before (including the
-- expired card's breakage), with the card locked before the hold and its expired holds released.
CREATE OR REPLACE FUNCTION ledger_refund(
  p_scope text, p_key text, p_request_hash text,
  p_hold uuid, p_store uuid, p_terminal uuid, p_amount bigint
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_hold holds;
  v_card cards;
  v_card_id uuid;
  v_amount bigint;
  v_entry bigint;
  v_breakage bigint := 0;
BEGIN
  v_prior := idempotency_claim(p_scope, p_key, p_request_hash);
  IF v_prior IS NOT NULL THEN RETURN v_prior; END IF;

  SELECT card_id INTO v_card_id FROM holds WHERE id = p_hold AND store_id = p_store;
  IF NOT FOUND THEN
    PERFORM ledger_refuse('hold_not_found', 'no redemption with this id at this store');
  END IF;
  SELECT * INTO v_card FROM cards WHERE id = v_card_id FOR UPDATE;
  PERFORM ledger_release_expired_holds(v_card);
  SELECT * INTO v_hold FROM holds WHERE id = p_hold FOR UPDATE;
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
    'refundAmount', v_amount, 'breakage', v_breakage, 'entryId', v_entry, 'card', card_snapshot(v_card)));
END $$;

-- Expires one card: card_available -> breakage. As before; holds past their own expiry are
-- released first, so a card waits only for holds that still count.
CREATE OR REPLACE FUNCTION ledger_expire_card(p_card uuid) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_card cards;
  v_amount bigint;
  v_entry bigint;
BEGIN
  SELECT * INTO v_card FROM cards WHERE id = p_card FOR UPDATE;
  IF NOT FOUND THEN PERFORM ledger_refuse('card_not_found', 'no such card'); END IF;
  IF ledger_release_expired_holds(v_card) > 0 THEN
    SELECT * INTO v_card FROM cards WHERE id = p_card;
  END IF;
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
