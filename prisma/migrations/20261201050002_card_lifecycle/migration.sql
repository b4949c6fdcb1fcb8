-- Card lifecycle (issue #13): activate, deactivate, clear balance, adjust, transfer, extend expiry.
-- Each operation is one SQL function in the ledger's style (prisma/migrations/*_ledger): one
-- atomic statement, its balance update, journal entry, reason and idempotency record commit
-- together. A transition that makes no sense for the card's state is refused with
-- invalid_card_transition (409). The functions of the redemption path (authorize, settle, refund)
-- are untouched; card_assert_usable, which they call, now also refuses pending and deactivated cards.

-- A scratch card may carry its fixed face value until it is activated (NULL: open value).
ALTER TABLE cards ADD COLUMN face_value BIGINT;
ALTER TABLE cards ADD CONSTRAINT cards_face_value_positive CHECK (face_value IS NULL OR face_value > 0);
-- Pending and deactivated cards hold nothing: value exists only on a card that was sold.
ALTER TABLE cards ADD CONSTRAINT cards_pending_or_deactivated_empty
  CHECK (status NOT IN ('pending', 'deactivated') OR (available = 0 AND held = 0));

-- Why an entry was booked and by whom, for the entries whose function is told (the lifecycle's).
CREATE TABLE journal_entry_reasons (
  entry_id BIGINT PRIMARY KEY REFERENCES journal_entries (id),
  reason TEXT,
  actor TEXT NOT NULL,
  details JSONB NOT NULL DEFAULT '{}'
);
CREATE TRIGGER journal_entry_reasons_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON journal_entry_reasons
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_rewrite();

-- Entries touching a card's accounts (a transfer's destination is not its card_id).
CREATE INDEX postings_card_accounts_idx ON postings (account_ref, entry_id)
  WHERE account_kind IN ('card_available', 'card_held');

CREATE OR REPLACE FUNCTION card_assert_usable(c cards, p_currency char(3)) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF c.status = 'pending' THEN
    PERFORM ledger_refuse('card_not_active', 'the card has not been activated; activate it at a till first');
  ELSIF c.status = 'deactivated' THEN
    PERFORM ledger_refuse('card_not_active', 'the card has been deactivated');
  ELSIF c.status = 'blocked' THEN
    PERFORM ledger_refuse('card_blocked', 'the card is blocked');
  ELSIF c.status = 'expired' OR c.expires_at <= now() THEN
    PERFORM ledger_refuse('card_expired', 'the card has expired');
  ELSIF c.currency <> p_currency THEN
    PERFORM ledger_refuse('currency_mismatch',
      format('the card is in %s, the request in %s', c.currency, p_currency));
  END IF;
END $$;

-- Blocking is for active cards (and unblocking for blocked ones): pending and deactivated cards
-- have their own operations.
CREATE OR REPLACE FUNCTION card_set_blocked(p_card uuid, p_blocked boolean) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_card cards;
BEGIN
  SELECT * INTO v_card FROM cards WHERE id = p_card FOR UPDATE;
  IF NOT FOUND THEN PERFORM ledger_refuse('card_not_found', 'no such card'); END IF;
  IF v_card.status = 'expired' OR v_card.expires_at <= now() THEN
    PERFORM ledger_refuse('card_expired', 'the card has expired');
  END IF;
  IF v_card.status IN ('pending', 'deactivated') THEN
    PERFORM card_refuse_transition(v_card, CASE WHEN p_blocked THEN 'block' ELSE 'unblock' END);
  END IF;
  IF v_card.status = (CASE WHEN p_blocked THEN 'blocked' ELSE 'active' END)::card_status THEN
    RETURN card_json(v_card) || jsonb_build_object('changed', false);
  END IF;
  UPDATE cards SET status = CASE WHEN p_blocked THEN 'blocked' ELSE 'active' END::card_status,
                   version = version + 1, updated_at = now()
   WHERE id = p_card RETURNING * INTO v_card;
  RETURN card_json(v_card) || jsonb_build_object('changed', true);
END $$;

CREATE FUNCTION card_refuse_transition(c cards, p_operation text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM ledger_refuse('invalid_card_transition', format('a %s card cannot be %s', c.status,
    CASE p_operation WHEN 'activate' THEN 'activated' WHEN 'deactivate' THEN 'deactivated'
      WHEN 'clear_balance' THEN 'cleared' WHEN 'adjust' THEN 'adjusted' WHEN 'transfer_from' THEN 'transferred from'
      WHEN 'transfer_to' THEN 'transferred to' WHEN 'extend_expiry' THEN 'extended'
      WHEN 'block' THEN 'blocked' WHEN 'unblock' THEN 'unblocked' ELSE p_operation END));
END $$;

CREATE FUNCTION card_lock(p_card uuid) RETURNS cards LANGUAGE plpgsql AS $$
DECLARE
  v_card cards;
BEGIN
  SELECT * INTO v_card FROM cards WHERE id = p_card FOR UPDATE;
  IF NOT FOUND THEN PERFORM ledger_refuse('card_not_found', 'no such card'); END IF;
  RETURN v_card;
END $$;

-- An active or blocked card whose date has not passed: the states value may be changed in.
CREATE FUNCTION card_assert_open(c cards, p_operation text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF c.status NOT IN ('active', 'blocked') THEN PERFORM card_refuse_transition(c, p_operation); END IF;
  IF c.expires_at <= now() THEN PERFORM ledger_refuse('card_expired', 'the card has expired'); END IF;
END $$;

CREATE FUNCTION ledger_note(p_entry bigint, p_reason text, p_actor text, p_details jsonb) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO journal_entry_reasons (entry_id, reason, actor, details) VALUES (p_entry, p_reason, p_actor, coalesce(p_details, '{}'));
$$;

-- Sells a pending card at a till: its face value, or the amount the till gives for an open-value
-- card, moves from the activating store's sales to the card, and the store becomes its issuer
-- (clearing attributes the sale and later redemptions to it).
CREATE FUNCTION ledger_activate_card(
  p_scope text, p_key text, p_request_hash text,
  p_code_hash text, p_currency char(3), p_amount bigint, p_max_balance bigint,
  p_store uuid, p_terminal uuid, p_actor text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_card cards;
  v_amount bigint;
  v_entry bigint;
BEGIN
  v_prior := idempotency_claim(p_scope, p_key, p_request_hash);
  IF v_prior IS NOT NULL THEN RETURN v_prior; END IF;

  SELECT * INTO v_card FROM cards WHERE code_hash = p_code_hash FOR UPDATE;
  IF NOT FOUND THEN PERFORM ledger_refuse('card_not_found', 'no card has this code'); END IF;
  IF v_card.status <> 'pending' THEN PERFORM card_refuse_transition(v_card, 'activate'); END IF;
  IF v_card.expires_at <= now() THEN PERFORM ledger_refuse('card_expired', 'the card has expired'); END IF;
  IF v_card.currency <> p_currency THEN
    PERFORM ledger_refuse('currency_mismatch', format('the card is in %s, the request in %s', v_card.currency, p_currency));
  END IF;
  IF v_card.face_value IS NOT NULL THEN
    IF p_amount IS NOT NULL AND p_amount <> v_card.face_value THEN
      PERFORM ledger_refuse('amount_mismatch', format('the card has a fixed value of %s', v_card.face_value));
    END IF;
    v_amount := v_card.face_value;
  ELSE
    IF p_amount IS NULL THEN
      PERFORM ledger_refuse('amount_required', 'this card has an open value: give the amount to load on activation');
    END IF;
    v_amount := p_amount;
  END IF;
  IF v_amount > p_max_balance THEN
    PERFORM ledger_refuse('balance_limit_exceeded', format('a card may hold at most %s minor units', p_max_balance));
  END IF;

  UPDATE cards SET status = 'active', available = v_amount, issuing_store_id = p_store,
                   version = version + 1, updated_at = now()
   WHERE id = v_card.id RETURNING * INTO v_card;
  v_entry := ledger_post('activate', v_card.currency, v_card.id, NULL, p_store, p_terminal,
    ARRAY['store_sales', 'card_available']::account_kind[],
    ARRAY[p_store::text, v_card.id::text],
    ARRAY[-v_amount, v_amount]);
  PERFORM ledger_note(v_entry, NULL, p_actor, NULL);
  RETURN idempotency_store(p_scope, p_key, p_request_hash,
    card_json(v_card) || jsonb_build_object('entryId', v_entry, 'amount', v_amount));
END $$;

-- Closes a card for good. What is left on it goes to breakage (p_refund false) or back to the
-- source of its sale (the store that sold or activated it, or the payment provider for an online
-- sale); a card whose sale is not in the ledger gives it to breakage. A card with open holds waits
-- for them to settle.
CREATE FUNCTION ledger_deactivate_card(
  p_scope text, p_key text, p_request_hash text, p_card uuid, p_refund boolean, p_reason text, p_actor text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_card cards;
  v_amount bigint;
  v_source_kind account_kind;
  v_source_ref text;
  v_source_store uuid;
  v_kind entry_kind := 'deactivate';
  v_entry bigint;
BEGIN
  v_prior := idempotency_claim(p_scope, p_key, p_request_hash);
  IF v_prior IS NOT NULL THEN RETURN v_prior; END IF;

  v_card := card_lock(p_card);
  IF v_card.status NOT IN ('pending', 'active', 'blocked') THEN PERFORM card_refuse_transition(v_card, 'deactivate'); END IF;
  IF v_card.held > 0 THEN
    PERFORM ledger_refuse('card_has_open_holds', 'the card has open holds; capture or void them first');
  END IF;
  v_amount := v_card.available;
  IF p_refund AND v_amount > 0 THEN
    SELECT p.account_kind, p.account_ref, e.store_id INTO v_source_kind, v_source_ref, v_source_store FROM journal_entries e JOIN postings p ON p.entry_id = e.id
     WHERE e.card_id = v_card.id AND e.kind IN ('issue', 'activate')
       AND p.account_kind IN ('store_sales', 'provider_clearing')
     ORDER BY e.id LIMIT 1;
    IF FOUND THEN v_kind := 'deactivate_refund'; END IF;
  END IF;
  IF v_kind = 'deactivate_refund' THEN
    v_entry := ledger_post(v_kind, v_card.currency, v_card.id, NULL, v_source_store, NULL,
      ARRAY['card_available', v_source_kind]::account_kind[],
      ARRAY[v_card.id::text, v_source_ref],
      ARRAY[-v_amount, v_amount]);
  ELSE
    v_entry := ledger_post(v_kind, v_card.currency, v_card.id, NULL, NULL, NULL,
      ARRAY['card_available', 'breakage']::account_kind[],
      ARRAY[v_card.id::text, v_card.currency::text],
      ARRAY[-v_amount, v_amount]);
  END IF;
  PERFORM ledger_note(v_entry, p_reason, p_actor, jsonb_build_object('refund', v_kind = 'deactivate_refund'));
  UPDATE cards SET status = 'deactivated', available = 0, version = version + 1, updated_at = now()
   WHERE id = v_card.id RETURNING * INTO v_card;
  RETURN idempotency_store(p_scope, p_key, p_request_hash, card_json(v_card) || jsonb_build_object(
    'entryId', v_entry, 'amount', v_amount, 'kind', v_kind,
    'breakage', CASE WHEN v_kind = 'deactivate' THEN v_amount ELSE 0 END));
END $$;

-- Takes the card's spendable value away for a reason (it stays open; held value settles as usual).
CREATE FUNCTION ledger_clear_balance(
  p_scope text, p_key text, p_request_hash text, p_card uuid, p_reason text, p_actor text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_card cards;
  v_amount bigint;
  v_entry bigint;
BEGIN
  v_prior := idempotency_claim(p_scope, p_key, p_request_hash);
  IF v_prior IS NOT NULL THEN RETURN v_prior; END IF;

  v_card := card_lock(p_card);
  PERFORM card_assert_open(v_card, 'clear_balance');
  v_amount := v_card.available;
  v_entry := ledger_post('clear_balance', v_card.currency, v_card.id, NULL, NULL, NULL,
    ARRAY['card_available', 'breakage']::account_kind[],
    ARRAY[v_card.id::text, v_card.currency::text],
    ARRAY[-v_amount, v_amount]);
  PERFORM ledger_note(v_entry, p_reason, p_actor, NULL);
  UPDATE cards SET available = 0, version = version + 1, updated_at = now()
   WHERE id = v_card.id RETURNING * INTO v_card;
  RETURN idempotency_store(p_scope, p_key, p_request_hash,
    card_json(v_card) || jsonb_build_object('entryId', v_entry, 'amount', -v_amount));
END $$;

-- Corrects a card's balance up (p_amount > 0) or down (< 0) against the scheme's adjustments
-- account. Down never goes below zero; up never above the balance limit.
CREATE FUNCTION ledger_adjust_card(
  p_scope text, p_key text, p_request_hash text, p_card uuid, p_amount bigint, p_max_balance bigint,
  p_reason text, p_actor text, p_details jsonb
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_card cards;
  v_entry bigint;
BEGIN
  v_prior := idempotency_claim(p_scope, p_key, p_request_hash);
  IF v_prior IS NOT NULL THEN RETURN v_prior; END IF;
  IF p_amount = 0 THEN PERFORM ledger_refuse('validation_error', 'an adjustment moves a non-zero amount'); END IF;

  v_card := card_lock(p_card);
  PERFORM card_assert_open(v_card, 'adjust');
  IF p_amount < 0 AND v_card.available < -p_amount THEN
    PERFORM ledger_refuse('insufficient_funds', format('the card has %s available, %s was asked', v_card.available, -p_amount));
  END IF;
  IF p_amount > 0 AND v_card.available + v_card.held + p_amount > p_max_balance THEN
    PERFORM ledger_refuse('balance_limit_exceeded', format('a card may hold at most %s minor units', p_max_balance));
  END IF;
  UPDATE cards SET available = available + p_amount, version = version + 1, updated_at = now()
   WHERE id = v_card.id RETURNING * INTO v_card;
  v_entry := ledger_post('adjust', v_card.currency, v_card.id, NULL, NULL, NULL,
    ARRAY['adjustments', 'card_available']::account_kind[],
    ARRAY[v_card.currency::text, v_card.id::text],
    ARRAY[-p_amount, p_amount]);
  PERFORM ledger_note(v_entry, p_reason, p_actor, p_details);
  RETURN idempotency_store(p_scope, p_key, p_request_hash,
    card_json(v_card) || jsonb_build_object('entryId', v_entry, 'amount', p_amount));
END $$;

-- Moves value (all of it when p_amount is NULL) from one card to another of the same currency,
-- atomically. Both rows are locked in id order, so two transfers between the same cards in
-- opposite directions cannot deadlock.
CREATE FUNCTION ledger_transfer_balance(
  p_scope text, p_key text, p_request_hash text, p_from uuid, p_to uuid, p_amount bigint, p_max_balance bigint,
  p_reason text, p_actor text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_from cards;
  v_to cards;
  v_amount bigint;
  v_entry bigint;
BEGIN
  v_prior := idempotency_claim(p_scope, p_key, p_request_hash);
  IF v_prior IS NOT NULL THEN RETURN v_prior; END IF;
  IF p_from = p_to THEN PERFORM ledger_refuse('same_card', 'a card cannot transfer to itself'); END IF;

  IF p_from < p_to THEN
    v_from := card_lock(p_from);
    v_to := card_lock(p_to);
  ELSE
    v_to := card_lock(p_to);
    v_from := card_lock(p_from);
  END IF;
  PERFORM card_assert_open(v_from, 'transfer_from');
  IF v_to.status <> 'active' THEN PERFORM card_refuse_transition(v_to, 'transfer_to'); END IF;
  IF v_to.expires_at <= now() THEN PERFORM ledger_refuse('card_expired', 'the receiving card has expired'); END IF;
  IF v_from.currency <> v_to.currency THEN
    PERFORM ledger_refuse('currency_mismatch', format('the cards are in %s and %s', v_from.currency, v_to.currency));
  END IF;
  v_amount := coalesce(p_amount, v_from.available);
  IF v_amount <= 0 OR v_from.available < v_amount THEN
    PERFORM ledger_refuse('insufficient_funds', format('the card has %s available, %s was asked', v_from.available, v_amount));
  END IF;
  IF v_to.available + v_to.held + v_amount > p_max_balance THEN
    PERFORM ledger_refuse('balance_limit_exceeded', format('a card may hold at most %s minor units', p_max_balance));
  END IF;
  UPDATE cards SET available = available - v_amount, version = version + 1, updated_at = now()
   WHERE id = v_from.id RETURNING * INTO v_from;
  UPDATE cards SET available = available + v_amount, version = version + 1, updated_at = now()
   WHERE id = v_to.id RETURNING * INTO v_to;
  v_entry := ledger_post('transfer', v_from.currency, v_from.id, NULL, NULL, NULL,
    ARRAY['card_available', 'card_available']::account_kind[],
    ARRAY[v_from.id::text, v_to.id::text],
    ARRAY[-v_amount, v_amount]);
  PERFORM ledger_note(v_entry, p_reason, p_actor, jsonb_build_object('fromCardId', v_from.id, 'toCardId', v_to.id));
  RETURN idempotency_store(p_scope, p_key, p_request_hash, card_json(v_from) || jsonb_build_object(
    'entryId', v_entry, 'amount', v_amount, 'toCard', card_json(v_to)));
END $$;

-- Gives a card a later expiry date. Moves no value: the entry has no postings and is there for the
-- card's history (and the webhooks keyed on entry kinds).
CREATE FUNCTION ledger_extend_card_expiry(
  p_scope text, p_key text, p_request_hash text, p_card uuid, p_expires_at timestamptz, p_reason text, p_actor text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_prior jsonb;
  v_card cards;
  v_before timestamptz;
  v_entry bigint;
BEGIN
  v_prior := idempotency_claim(p_scope, p_key, p_request_hash);
  IF v_prior IS NOT NULL THEN RETURN v_prior; END IF;

  v_card := card_lock(p_card);
  IF v_card.status NOT IN ('pending', 'active', 'blocked') THEN PERFORM card_refuse_transition(v_card, 'extend_expiry'); END IF;
  IF p_expires_at <= v_card.expires_at OR p_expires_at <= now() THEN
    PERFORM ledger_refuse('invalid_expiry', format('the new expiry must be later than the current one (%s) and in the future', v_card.expires_at));
  END IF;
  v_before := v_card.expires_at;
  UPDATE cards SET expires_at = p_expires_at, version = version + 1, updated_at = now()
   WHERE id = v_card.id RETURNING * INTO v_card;
  v_entry := ledger_post('extend_expiry', v_card.currency, v_card.id, NULL, NULL, NULL,
    ARRAY[]::account_kind[], ARRAY[]::text[], ARRAY[]::bigint[]);
  PERFORM ledger_note(v_entry, p_reason, p_actor, jsonb_build_object('from', v_before, 'to', p_expires_at));
  RETURN idempotency_store(p_scope, p_key, p_request_hash,
    card_json(v_card) || jsonb_build_object('entryId', v_entry, 'amount', 0, 'previousExpiresAt', v_before));
END $$;

-- A card's history, newest first, paged by entry id: every entry booked on the card or touching its
-- accounts, with what it did to the card's balance and the balance after it. Who did it comes from
-- the entry's reason row, else from the audit entry the ledger wrote with it.
CREATE FUNCTION card_activities(p_card uuid, p_before bigint, p_limit int)
RETURNS TABLE (entry_id bigint, kind entry_kind, booked_at timestamptz, currency char(3), amount bigint,
  available_change bigint, held_change bigint, available_after bigint, held_after bigint,
  store_id uuid, terminal_id uuid, hold_id uuid, reason text, actor text, details jsonb)
LANGUAGE sql STABLE AS $$
  WITH touching AS (
    SELECT id FROM journal_entries WHERE card_id = p_card
    UNION
    SELECT entry_id FROM postings WHERE account_kind IN ('card_available', 'card_held') AND account_ref = p_card::text
  ),
  changes AS (
    SELECT e.id, e.kind, e.booked_at, e.currency, e.amount, e.store_id, e.terminal_id, e.hold_id, e.card_id,
           coalesce((SELECT sum(p.amount) FROM postings p WHERE p.entry_id = e.id AND p.account_kind = 'card_available' AND p.account_ref = p_card::text), 0)::bigint AS available_change,
           coalesce((SELECT sum(p.amount) FROM postings p WHERE p.entry_id = e.id AND p.account_kind = 'card_held' AND p.account_ref = p_card::text), 0)::bigint AS held_change
      FROM journal_entries e JOIN touching t ON t.id = e.id
  ),
  running AS (
    SELECT c.*, sum(c.available_change) OVER w AS available_after, sum(c.held_change) OVER w AS held_after
      FROM changes c WINDOW w AS (ORDER BY c.id)
  )
  SELECT r.id, r.kind, r.booked_at, r.currency, r.amount, r.available_change, r.held_change,
         r.available_after::bigint, r.held_after::bigint, r.store_id, r.terminal_id, r.hold_id,
         n.reason,
         coalesce(n.actor, (SELECT a.actor FROM audit_entries a
                             WHERE a.subject IN ('card:' || r.card_id, 'hold:' || r.hold_id)
                               AND a.details->>'entryId' = r.id::text LIMIT 1)),
         coalesce(n.details, '{}')
    FROM running r LEFT JOIN journal_entry_reasons n ON n.entry_id = r.id
   WHERE p_before IS NULL OR r.id < p_before
   ORDER BY r.id DESC
   LIMIT p_limit;
$$;

-- Clearing counts the lifecycle's value movements: an activation is a sale by the activating
-- store, a refunded deactivation takes a sale back like a cancelled one, a deactivation's or
-- cleared balance's value is breakage, and adjustments move value between the scheme and the
-- card (so the change in liability stays minus everything here). Transfers and expiry extensions
-- move nothing between parties.
CREATE OR REPLACE FUNCTION ledger_movements(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (currency char(3), party_key text, issuer_key text, kind entry_kind, entries bigint, total bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT x.currency,
         coalesce(s.billing_party_id::text, 'scheme'),
         CASE WHEN x.kind IN ('capture', 'refund') THEN coalesce(si.billing_party_id::text, 'scheme') END,
         x.kind, sum(x.entries)::bigint, sum(x.total)::bigint
    FROM (
      SELECT p.currency,
             CASE WHEN p.account_kind IN ('store_sales', 'store_redemptions') THEN e.store_id END AS store_id,
             e.kind, e.issuer_store_id, count(*) AS entries, sum(p.amount) AS total
        FROM journal_entries e
        JOIN postings p ON p.entry_id = e.id
       WHERE e.booked_at >= p_from AND e.booked_at < p_to
         AND e.kind IN ('issue', 'load', 'cancel_sale', 'capture', 'refund', 'expire_card',
                        'activate', 'deactivate', 'deactivate_refund', 'clear_balance', 'adjust')
         AND p.account_kind IN ('store_sales', 'store_redemptions', 'provider_clearing', 'breakage', 'adjustments')
       GROUP BY 1, 2, 3, 4
    ) x
    LEFT JOIN stores s ON s.id = x.store_id
    LEFT JOIN stores si ON si.id = x.issuer_store_id
   GROUP BY 1, 2, 3, 4;
$$;

CREATE OR REPLACE FUNCTION ledger_positions_of(p_moves jsonb)
RETURNS TABLE (currency char(3), party_key text, sales_count bigint, sales_amount bigint,
  redemptions_count bigint, redemptions_amount bigint, refunds_count bigint, refunds_amount bigint,
  breakage_count bigint, breakage_amount bigint, liability_change bigint, net bigint)
LANGUAGE sql IMMUTABLE AS $$
  WITH m AS (
    SELECT * FROM jsonb_to_recordset(coalesce(p_moves, '[]'))
      AS t(currency char(3), party_key text, issuer_key text, kind entry_kind, entries bigint, total bigint)
  ),
  per_party AS (
    SELECT m.currency, m.party_key,
      (coalesce(sum(m.entries) FILTER (WHERE m.kind IN ('issue', 'load', 'activate')), 0)
        - coalesce(sum(m.entries) FILTER (WHERE m.kind IN ('cancel_sale', 'deactivate_refund')), 0))::bigint AS sales_count,
      coalesce(-sum(m.total) FILTER (WHERE m.kind IN ('issue', 'load', 'activate', 'cancel_sale', 'deactivate_refund')), 0)::bigint AS sales_amount,
      coalesce(sum(m.entries) FILTER (WHERE m.kind = 'capture'), 0)::bigint AS redemptions_count,
      coalesce(sum(m.total) FILTER (WHERE m.kind = 'capture'), 0)::bigint AS redemptions_amount,
      coalesce(sum(m.entries) FILTER (WHERE m.kind = 'refund'), 0)::bigint AS refunds_count,
      coalesce(-sum(m.total) FILTER (WHERE m.kind = 'refund'), 0)::bigint AS refunds_amount,
      coalesce(sum(m.entries) FILTER (WHERE m.kind IN ('expire_card', 'deactivate', 'clear_balance')), 0)::bigint AS breakage_count,
      coalesce(sum(m.total) FILTER (WHERE m.kind IN ('expire_card', 'deactivate', 'clear_balance')), 0)::bigint AS breakage_amount,
      sum(m.total)::bigint AS moved
      FROM m GROUP BY m.currency, m.party_key
  ),
  liability AS (SELECT pp.currency, -sum(pp.moved)::bigint AS change FROM per_party pp GROUP BY pp.currency)
  SELECT pp.currency, pp.party_key, pp.sales_count, pp.sales_amount, pp.redemptions_count,
         pp.redemptions_amount, pp.refunds_count, pp.refunds_amount, pp.breakage_count, pp.breakage_amount,
         0::bigint, pp.moved
    FROM per_party pp WHERE pp.party_key <> 'scheme'
  UNION ALL
  SELECT l.currency, 'scheme', coalesce(pp.sales_count, 0), coalesce(pp.sales_amount, 0), 0, 0, 0, 0,
         coalesce(pp.breakage_count, 0), coalesce(pp.breakage_amount, 0), l.change,
         (coalesce(pp.moved, 0) + l.change)::bigint
    FROM liability l LEFT JOIN per_party pp ON pp.currency = l.currency AND pp.party_key = 'scheme';
$$;

-- Four eyes: an adjustment above the configured amount waits for a second back-office user's
-- approval (workflow card-adjustment-<id>). The row is the portal's view of it and the guard that
-- the approver is not the requester; the ledger entry is booked by the workflow once approved.
CREATE TYPE "adjustment_status" AS ENUM ('pending', 'approved', 'refused', 'expired', 'booked', 'failed');
CREATE TABLE card_adjustment_requests (
  id UUID PRIMARY KEY,
  card_id UUID NOT NULL REFERENCES cards (id),
  currency CHAR(3) NOT NULL,
  amount BIGINT NOT NULL CHECK (amount <> 0),
  reason TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requested_by_name TEXT NOT NULL,
  idempotency_scope TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  status adjustment_status NOT NULL DEFAULT 'pending',
  decided_by TEXT,
  decided_by_name TEXT,
  decided_at TIMESTAMPTZ(3),
  entry_id BIGINT REFERENCES journal_entries (id),
  failure TEXT,
  expires_at TIMESTAMPTZ(3) NOT NULL,
  created_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT card_adjustment_requests_key UNIQUE (idempotency_scope, idempotency_key),
  CONSTRAINT card_adjustment_requests_four_eyes CHECK (decided_by IS NULL OR status = 'expired' OR decided_by <> requested_by)
);
CREATE INDEX card_adjustment_requests_status_idx ON card_adjustment_requests (status, created_at);
CREATE INDEX card_adjustment_requests_card_idx ON card_adjustment_requests (card_id);
