-- Outbound webhooks: endpoints that third parties register, the events the engine records, and
-- each delivery of an event to an endpoint.
--
-- Events are written by triggers, in the transaction of the change that causes them: no event
-- without its change, no change without its event, whichever code path (ledger function, portal,
-- workflow, import) makes it. What becomes which event is one table, webhook_event_map: a new
-- journal entry kind or card status is mapped by adding a row, not by changing a trigger or a
-- ledger function. A source key without a row records nothing.

CREATE TABLE webhook_event_types (
  type TEXT PRIMARY KEY CHECK (type ~ '^[a-z_]+(\.[a-z_]+)+$'),
  description TEXT NOT NULL
);

CREATE TABLE webhook_event_map (
  -- journal_entry: key = entry kind; card_status: key = new status, or 'old->new' (checked first);
  -- order_status: key = new status; clearing_status: key = new status; clearing_statement: key = 'ready'.
  source TEXT NOT NULL CHECK (source IN ('journal_entry', 'card_status', 'order_status', 'clearing_status', 'clearing_statement')),
  key TEXT NOT NULL,
  event_type TEXT NOT NULL REFERENCES webhook_event_types(type),
  PRIMARY KEY (source, key)
);

INSERT INTO webhook_event_types (type, description) VALUES
  ('card.created', 'A card was sold or issued (at a till, online, or imported)'),
  ('card.activated', 'A card was activated'),
  ('card.blocked', 'A card was blocked'),
  ('card.unblocked', 'A blocked card was unblocked'),
  ('card.deactivated', 'A card was deactivated'),
  ('card.expired', 'A card expired; its remaining value went to breakage'),
  ('card.loaded', 'Value was loaded onto a card'),
  ('card.sale_cancelled', 'A sale was cancelled and its card emptied'),
  ('card.balance_cleared', 'A card''s balance was cleared'),
  ('card.adjusted', 'A card''s balance was adjusted'),
  ('card.transferred', 'Value moved between cards'),
  ('redemption.captured', 'A redemption was captured'),
  ('redemption.voided', 'A redemption hold was voided'),
  ('redemption.refunded', 'Captured value was refunded to the card'),
  ('hold.expired', 'A redemption hold expired unsettled'),
  ('purchase.fulfilled', 'A Print@Home purchase was fulfilled (voucher e-mailed)'),
  ('purchase.refunded', 'A Print@Home purchase was refunded'),
  ('clearing.statement_ready', 'A billing party''s clearing statement is ready'),
  ('clearing.period_closed', 'A clearing period was approved and closed');

INSERT INTO webhook_event_map (source, key, event_type) VALUES
  ('journal_entry', 'issue', 'card.created'),
  ('journal_entry', 'import', 'card.created'),
  ('journal_entry', 'load', 'card.loaded'),
  ('journal_entry', 'capture', 'redemption.captured'),
  ('journal_entry', 'void', 'redemption.voided'),
  ('journal_entry', 'expire_hold', 'hold.expired'),
  ('journal_entry', 'refund', 'redemption.refunded'),
  ('journal_entry', 'expire_card', 'card.expired'),
  ('journal_entry', 'cancel_sale', 'card.sale_cancelled'),
  -- Kinds the card lifecycle work adds; mapped ahead so their entries become events as they land.
  ('journal_entry', 'activate', 'card.activated'),
  ('journal_entry', 'deactivate', 'card.deactivated'),
  ('journal_entry', 'clear_balance', 'card.balance_cleared'),
  ('journal_entry', 'adjust', 'card.adjusted'),
  ('journal_entry', 'transfer', 'card.transferred'),
  ('card_status', 'blocked', 'card.blocked'),
  ('card_status', 'blocked->active', 'card.unblocked'),
  ('order_status', 'fulfilled', 'purchase.fulfilled'),
  ('order_status', 'refunded', 'purchase.refunded'),
  ('clearing_status', 'closed', 'clearing.period_closed'),
  ('clearing_statement', 'ready', 'clearing.statement_ready');

CREATE TABLE webhook_events (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  seq BIGSERIAL NOT NULL UNIQUE,
  type TEXT NOT NULL REFERENCES webhook_event_types(type),
  object JSONB NOT NULL,
  created_at TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
  -- Set by the relay once a delivery row exists for every endpoint subscribed at that moment.
  fanned_out BOOLEAN NOT NULL DEFAULT false
);
ALTER TABLE webhook_events SET (fillfactor = 90);
CREATE INDEX webhook_events_pending_idx ON webhook_events (seq) WHERE NOT fanned_out;
CREATE INDEX webhook_events_created_at_idx ON webhook_events (created_at);

CREATE TABLE webhook_endpoints (
  id UUID PRIMARY KEY,
  url TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  event_types TEXT[] NOT NULL,
  enabled BOOLEAN NOT NULL DEFAULT true,
  -- Signing secrets, sealed like personal data (PII_KEYS). During a rotation's overlap the
  -- previous secret signs too (a second v1= in the header).
  secret_sealed TEXT NOT NULL,
  secret_last4 TEXT NOT NULL,
  previous_secret_sealed TEXT,
  previous_secret_expires_at TIMESTAMPTZ(3),
  rotation_key_hash TEXT,
  idempotency_key_hash TEXT NOT NULL UNIQUE,
  -- Start of the current run of failed attempts; cleared by any success.
  failing_since TIMESTAMPTZ(3),
  disabled_reason TEXT CHECK (disabled_reason IN ('admin', 'failing')),
  disabled_at TIMESTAMPTZ(3),
  disabled_notice_sent_at TIMESTAMPTZ(3),
  created_by TEXT NOT NULL,
  created_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT webhook_endpoints_event_types_nonempty CHECK (cardinality(event_types) > 0)
);

CREATE TYPE webhook_delivery_status AS ENUM ('pending', 'succeeded', 'failed', 'cancelled');

CREATE TABLE webhook_deliveries (
  id BIGSERIAL PRIMARY KEY,
  -- Names the delivery's workflow, webhook-delivery-<uid>: unique across databases sharing a namespace.
  uid UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  event_id UUID NOT NULL REFERENCES webhook_events(id),
  endpoint_id UUID NOT NULL REFERENCES webhook_endpoints(id),
  -- A redelivery an admin asked for is a delivery of its own.
  redelivery_of BIGINT REFERENCES webhook_deliveries(id),
  requested_by TEXT,
  status webhook_delivery_status NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status_code INTEGER,
  last_error TEXT,
  last_attempt_at TIMESTAMPTZ(3),
  next_attempt_at TIMESTAMPTZ(3) DEFAULT CURRENT_TIMESTAMP,
  -- The delivery's workflow was started; rows without one are the relay's outbox.
  workflow_started BOOLEAN NOT NULL DEFAULT false,
  created_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  finished_at TIMESTAMPTZ(3)
);
ALTER TABLE webhook_deliveries SET (fillfactor = 85);
CREATE UNIQUE INDEX webhook_deliveries_once_idx ON webhook_deliveries (event_id, endpoint_id) WHERE redelivery_of IS NULL;
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC);
CREATE INDEX webhook_deliveries_unstarted_idx ON webhook_deliveries (id) WHERE NOT workflow_started;

-- The event type for a change, or NULL.
CREATE FUNCTION webhook_event_type(p_source text, p_key text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT event_type FROM webhook_event_map WHERE source = p_source AND key = p_key;
$$;

CREATE FUNCTION webhook_record(p_type text, p_object jsonb) RETURNS void LANGUAGE sql AS $$
  INSERT INTO webhook_events (type, object) VALUES (p_type, p_object);
$$;

-- A card as the API shows it (GET/lookup answers: services/card-view.ts).
CREATE FUNCTION webhook_card_object(c cards) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'object', 'card', 'id', c.id, 'last4', c.code_last4, 'currency', c.currency,
    'status', CASE WHEN c.status = 'active' AND c.expires_at <= now() THEN 'expired' ELSE c.status::text END,
    'available', c.available, 'held', c.held,
    'expiresAt', to_char(c.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
$$;

CREATE FUNCTION webhook_time(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
$$;

-- Journal entries: deferred to the end of the transaction, so the card in the event is the card
-- as the transaction leaves it (the ledger functions update the card after writing the entry).
CREATE FUNCTION webhook_on_journal_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_type text := webhook_event_type('journal_entry', NEW.kind::text);
  v_card cards;
  v_hold holds;
BEGIN
  IF v_type IS NULL THEN RETURN NULL; END IF;
  SELECT * INTO v_card FROM cards WHERE id = NEW.card_id;
  IF NEW.hold_id IS NOT NULL THEN SELECT * INTO v_hold FROM holds WHERE id = NEW.hold_id; END IF;
  PERFORM webhook_record(v_type, jsonb_strip_nulls(jsonb_build_object(
    'object', 'card_activity', 'id', NEW.id::text, 'kind', NEW.kind::text,
    'amount', NEW.amount, 'currency', NEW.currency, 'bookedAt', webhook_time(NEW.booked_at),
    'storeId', NEW.store_id, 'terminalId', NEW.terminal_id,
    'redemption', CASE WHEN NEW.hold_id IS NULL THEN NULL ELSE jsonb_build_object(
      'id', v_hold.id, 'status', v_hold.status, 'posReference', v_hold.pos_reference,
      'approvedAmount', v_hold.amount, 'capturedAmount', v_hold.captured_amount,
      'refundedAmount', v_hold.refunded_amount, 'expiresAt', webhook_time(v_hold.expires_at)) END,
    'card', CASE WHEN v_card.id IS NULL THEN NULL ELSE webhook_card_object(v_card) END)));
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER journal_entries_webhook_events AFTER INSERT ON journal_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_journal_entry();

CREATE FUNCTION webhook_on_card_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_type text := coalesce(
    webhook_event_type('card_status', OLD.status::text || '->' || NEW.status::text),
    webhook_event_type('card_status', NEW.status::text));
BEGIN
  IF v_type IS NOT NULL THEN PERFORM webhook_record(v_type, webhook_card_object(NEW)); END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER cards_webhook_events AFTER UPDATE OF status ON cards
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION webhook_on_card_status();

-- The shopper's e-mail address stays out: events carry no personal data.
CREATE FUNCTION webhook_on_order_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_type text := webhook_event_type('order_status', NEW.status::text);
BEGIN
  IF v_type IS NOT NULL THEN
    PERFORM webhook_record(v_type, jsonb_build_object(
      'object', 'order', 'id', NEW.id, 'status', NEW.status, 'amount', NEW.amount, 'currency', NEW.currency,
      'cardId', NEW.card_id, 'createdAt', webhook_time(NEW.created_at),
      'fulfilledAt', CASE WHEN NEW.fulfilled_at IS NULL THEN NULL ELSE webhook_time(NEW.fulfilled_at) END));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER orders_webhook_events AFTER UPDATE OF status ON orders
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION webhook_on_order_status();

CREATE FUNCTION webhook_on_clearing_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_type text := webhook_event_type('clearing_status', NEW.status::text);
BEGIN
  IF v_type IS NOT NULL THEN
    PERFORM webhook_record(v_type, jsonb_build_object(
      'object', 'clearing_period', 'id', NEW.period, 'status', NEW.status,
      'startsAt', webhook_time(NEW.starts_at), 'endsAt', webhook_time(NEW.ends_at),
      'closedAt', CASE WHEN NEW.closed_at IS NULL THEN NULL ELSE webhook_time(NEW.closed_at) END));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER clearing_periods_webhook_events AFTER UPDATE OF status ON clearing_periods
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION webhook_on_clearing_status();

-- A statement is ready when it is written, and again when a rerun changes it.
CREATE FUNCTION webhook_on_clearing_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_type text := webhook_event_type('clearing_statement', 'ready');
BEGIN
  IF v_type IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.pdf_sha256 IS DISTINCT FROM NEW.pdf_sha256) THEN
    PERFORM webhook_record(v_type, jsonb_build_object(
      'object', 'clearing_statement', 'period', NEW.period, 'billingPartyId', NEW.billing_party_id,
      'pdfSha256', NEW.pdf_sha256, 'createdAt', webhook_time(NEW.created_at)));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER clearing_statements_webhook_events AFTER INSERT OR UPDATE OF pdf_sha256 ON clearing_statements
  FOR EACH ROW EXECUTE FUNCTION webhook_on_clearing_statement();
