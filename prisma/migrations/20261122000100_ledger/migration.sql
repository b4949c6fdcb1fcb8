-- The ledger: balance rules the database enforces, and every operation as one SQL function, so
-- each is one atomic statement on one round trip: the guarded balance update, the journal entry with
-- its postings, the idempotency record and the workflow outbox row commit together or not at all.
--
-- Refusals raise SQLSTATE 'VE400' with MESSAGE = the API's stable error code and DETAIL = a human
-- message; the transaction rolls back, so a refused call changes nothing.
-- Sign convention: value moves from the negative posting to the positive one; a card account's
-- balance is the sum of its postings.
--
-- Shaped by profiling `npm run bench -- redeem` (README, Performance): idempotency records are
-- written once, under a transaction-scoped advisory lock, and redemptions use the hold itself as
-- their record; the balance rule is checked once per statement, not per posting row.

-- Invariants the functions keep; the database refuses to commit anything that breaks them.
ALTER TABLE cards ADD CONSTRAINT cards_available_non_negative CHECK (available >= 0);
ALTER TABLE cards ADD CONSTRAINT cards_held_non_negative CHECK (held >= 0);
ALTER TABLE cards ADD CONSTRAINT cards_currency_upper CHECK (currency ~ '^[A-Z]{3}$');
ALTER TABLE holds ADD CONSTRAINT holds_amounts_consistent
  CHECK (amount > 0 AND amount <= requested_amount AND captured_amount >= 0
         AND captured_amount <= amount AND refunded_amount >= 0 AND refunded_amount <= captured_amount);
ALTER TABLE postings ADD CONSTRAINT postings_amount_non_zero CHECK (amount <> 0);
-- Money and a card come into being only through the ledger; an order can reach 'issued' or
-- 'fulfilled' only with its card.
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0);
ALTER TABLE orders ADD CONSTRAINT orders_fulfilled_has_card
  CHECK (status NOT IN ('issued', 'fulfilled') OR card_id IS NOT NULL);

-- Cards and holds are updated in place on every operation: room on their pages keeps those
-- updates HOT (no index writes).
ALTER TABLE cards SET (fillfactor = 80);
ALTER TABLE holds SET (fillfactor = 85);

-- Every statement's postings balance per entry and currency. Postings are only ever inserted,
-- so every entry balances: it is a sum of balanced inserts.
CREATE FUNCTION ledger_assert_inserted_postings_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_entry bigint;
  v_currency char(3);
  v_sum numeric;
BEGIN
  SELECT entry_id, currency, sum(amount) INTO v_entry, v_currency, v_sum
    FROM inserted GROUP BY entry_id, currency HAVING sum(amount) <> 0 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal entry % does not balance in %: %', v_entry, v_currency, v_sum
      USING ERRCODE = 'VE500';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER postings_balanced
  AFTER INSERT ON postings REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_assert_inserted_postings_balance();

CREATE FUNCTION ledger_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only: % on % is not allowed; post a correcting entry', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'VE500';
END $$;

CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON postings
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON journal_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();

CREATE FUNCTION ledger_refuse(p_code text, p_message text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'VE400', MESSAGE = p_code, DETAIL = p_message;
END $$;

-- Looks up the first answer for a key; NULL for a first call. The lock makes a concurrent call
-- with the same key wait until the first one commits (then it sees the answer) or rolls back
-- (then it is the first call).
CREATE FUNCTION idempotency_claim(p_scope text, p_key text, p_request_hash text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_hash text;
  v_response jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_scope || '|' || p_key, 0));
  SELECT request_hash, response INTO v_hash, v_response
    FROM idempotency_records WHERE scope = p_scope AND key = p_key;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF v_hash <> p_request_hash THEN
    PERFORM ledger_refuse('idempotency_key_reused',
      'this idempotency key was already used with a different request');
  END IF;
  RETURN v_response || '{"replayed": true}'::jsonb;
END $$;

CREATE FUNCTION idempotency_store(p_scope text, p_key text, p_request_hash text, p_response jsonb)
RETURNS jsonb LANGUAGE sql AS $$
  INSERT INTO idempotency_records (scope, key, request_hash, response)
    VALUES (p_scope, p_key, p_request_hash, p_response);
  SELECT p_response;
$$;

-- Writes one journal entry and its postings; the postings_balanced trigger proves the entry balances.
CREATE FUNCTION ledger_post(
  p_kind entry_kind, p_currency char(3), p_card uuid, p_hold uuid, p_store uuid, p_terminal uuid,
  p_account_kinds account_kind[], p_account_refs text[], p_amounts bigint[]
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_entry bigint;
BEGIN
  INSERT INTO journal_entries (kind, currency, card_id, hold_id, store_id, terminal_id)
    VALUES (p_kind, p_currency, p_card, p_hold, p_store, p_terminal)
    RETURNING id INTO v_entry;
  INSERT INTO postings (entry_id, account_kind, account_ref, amount, currency)
    SELECT v_entry, k, r, a, p_currency
      FROM unnest(p_account_kinds, p_account_refs, p_amounts) AS t(k, r, a)
     WHERE a <> 0;
  RETURN v_entry;
END $$;

CREATE FUNCTION card_json(c cards) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
    'cardId', c.id, 'codeHash', c.code_hash, 'last4', c.code_last4, 'currency', c.currency,
    'status', c.status, 'available', c.available, 'held', c.held, 'version', c.version,
    'expiresAt', c.expires_at);
$$;

CREATE FUNCTION hold_json(h holds) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
    'holdId', h.id, 'status', h.status, 'posReference', h.pos_reference, 'currency', h.currency,
    'requestedAmount', h.requested_amount, 'approvedAmount', h.amount,
    'capturedAmount', h.captured_amount, 'refundedAmount', h.refunded_amount,
    'expiresAt', h.expires_at, 'terminalId', h.terminal_id, 'storeId', h.store_id);
$$;

-- Refuses unless the card can be spent or loaded in this currency right now.
CREATE FUNCTION card_assert_usable(c cards, p_currency char(3)) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF c.status = 'blocked' THEN
    PERFORM ledger_refuse('card_blocked', 'the card is blocked');
  ELSIF c.status = 'expired' OR c.expires_at <= now() THEN
    PERFORM ledger_refuse('card_expired', 'the card has expired');
  ELSIF c.currency <> p_currency THEN
    PERFORM ledger_refuse('currency_mismatch',
      format('the card is in %s, the request in %s', c.currency, p_currency));
  END IF;
END $$;

-- Sells a new card at a till (store_sales -> card) or online (provider_clearing -> card).
CREATE FUNCTION ledger_issue_card(
  p_scope text, p_key text, p_request_hash text,
  p_code_hash text, p_last4 text, p_currency char(3), p_amount bigint, p_expires_at timestamptz,
  p_channel channel, p_store uuid, p_terminal uuid, p_source_ref text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_card cards;
  v_source account_kind := CASE WHEN p_channel = 'online' THEN 'provider_clearing' ELSE 'store_sales' END;
  v_entry bigint;
BEGIN
  v_prior := idempotency_claim(p_scope, p_key, p_request_hash);
  IF v_prior IS NOT NULL THEN RETURN v_prior; END IF;

  INSERT INTO cards (id, code_hash, code_last4, currency, available, expires_at, issuing_store_id, channel)
    VALUES (gen_random_uuid(), p_code_hash, p_last4, p_currency, p_amount, p_expires_at, p_store, p_channel)
    RETURNING * INTO v_card;
  v_entry := ledger_post('issue', p_currency, v_card.id, NULL, p_store, p_terminal,
    ARRAY[v_source, 'card_available']::account_kind[],
    ARRAY[coalesce(p_source_ref, p_store::text), v_card.id::text],
    ARRAY[-p_amount, p_amount]);
  RETURN idempotency_store(p_scope, p_key, p_request_hash,
    card_json(v_card) || jsonb_build_object('entryId', v_entry, 'amount', p_amount));
END $$;

-- Adds value to an existing card at a till.
CREATE FUNCTION ledger_load_card(
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
    card_json(v_card) || jsonb_build_object('entryId', v_entry, 'amount', p_amount));
END $$;

-- Places a hold. The full-amount path is one conditional update (available >= amount), so no
-- interleaving of concurrent authorizations can overspend a card. A partial authorization (when the
-- till allows it) takes what is there under the same row lock.
-- Without an Idempotency-Key the hold is its own idempotency record: it keeps the request's hash
-- and first answer, so a till retrying the same POS reference gets that answer back.
CREATE FUNCTION ledger_authorize(
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

-- Settles a hold: captures p_amount (NULL = all of it) and releases the rest, or voids it whole
-- (p_capture = false). p_reason 'expired' is the hold-expiry path and refuses before expiry. The
-- hold keeps the settling request's hash and answer, so a repeated capture or void replays it.
CREATE FUNCTION ledger_settle_hold(
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

-- Returns captured value from the store that accepted it to the card.
CREATE FUNCTION ledger_refund(
  p_scope text, p_key text, p_request_hash text,
  p_hold uuid, p_store uuid, p_terminal uuid, p_amount bigint
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_hold holds;
  v_card cards;
  v_amount bigint;
  v_entry bigint;
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
  -- A refund restores spendable value even to a card that has since been blocked or expired;
  -- breakage handling, not the refund, decides what happens to it.
  UPDATE cards SET available = available + v_amount, version = version + 1, updated_at = now()
    WHERE id = v_hold.card_id RETURNING * INTO v_card;
  v_entry := ledger_post('refund', v_hold.currency, v_card.id, v_hold.id, v_hold.store_id, p_terminal,
    ARRAY['store_redemptions', 'card_available']::account_kind[],
    ARRAY[v_hold.store_id::text, v_card.id::text],
    ARRAY[-v_amount, v_amount]);

  RETURN idempotency_store(p_scope, p_key, p_request_hash, hold_json(v_hold) || jsonb_build_object(
    'refundAmount', v_amount, 'entryId', v_entry, 'card', card_json(v_card)));
END $$;

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

-- The proof behind `npm run check:ledger`: every row returned is a broken invariant.
CREATE VIEW ledger_violations AS
  SELECT 'unbalanced_entry' AS violation, e.id::text AS subject,
         format('entry %s sums to %s %s', e.id, s.total, s.currency) AS detail
    FROM journal_entries e
    JOIN (SELECT entry_id, currency, sum(amount) AS total FROM postings GROUP BY entry_id, currency) s
      ON s.entry_id = e.id
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
    FROM (SELECT currency, sum(amount) AS total FROM postings GROUP BY currency) t
   WHERE total <> 0;
