-- The audit log becomes tamper-evident: append-only (the database refuses UPDATE, DELETE and
-- TRUNCATE) and hash-chained. Every row stores the SHA-256 of its content together with the
-- previous row's hash, so changing or removing any row breaks the chain (`npm run check:audit`).
--
-- Chaining happens in a BEFORE INSERT trigger, so every writer (services/audit.ts, the ledger's
-- ledger_audited, housekeeping statements) gets it without knowing about it. Appends are
-- serialised on the single chain-head row: its row lock is held until the appending transaction
-- commits or rolls back, so the chain's order is the commit order and `seq` has no gaps.

ALTER TABLE audit_entries
  ADD COLUMN client_request_id TEXT,
  ADD COLUMN seq BIGINT,
  ADD COLUMN prev_hash TEXT,
  ADD COLUMN hash TEXT;

CREATE TABLE audit_chain_head (
  only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);

-- The exact text that is hashed: a JSON array is unambiguous whatever the fields contain, and the
-- time is in epoch milliseconds so no session time zone changes it. check:audit hashes the same
-- text, read back through this function.
CREATE FUNCTION audit_entry_canonical(
  p_seq bigint, p_created_at timestamptz, p_actor text, p_action text, p_subject text, p_details jsonb,
  p_request_id text, p_client_request_id text, p_prev_hash text
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_array(p_seq, (extract(epoch FROM p_created_at) * 1000)::bigint, p_actor, p_action, p_subject,
    p_details, p_request_id, p_client_request_id, p_prev_hash)::text;
$$;

CREATE FUNCTION audit_entry_hash(e audit_entries) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(audit_entry_canonical(e.seq, e.created_at, e.actor, e.action, e.subject, e.details,
    e.request_id, e.client_request_id, e.prev_hash), 'UTF8')), 'hex');
$$;

-- Entries written before the chain existed are chained now, in the order they were written.
INSERT INTO audit_chain_head (seq, hash) VALUES (0, repeat('0', 64));
DO $$
DECLARE
  v_row audit_entries;
  v_seq bigint := 0;
  v_hash text := repeat('0', 64);
BEGIN
  FOR v_row IN SELECT * FROM audit_entries ORDER BY id LOOP
    v_seq := v_seq + 1;
    v_row.seq := v_seq;
    v_row.prev_hash := v_hash;
    v_hash := audit_entry_hash(v_row);
    UPDATE audit_entries SET seq = v_seq, prev_hash = v_row.prev_hash, hash = v_hash WHERE id = v_row.id;
  END LOOP;
  UPDATE audit_chain_head SET seq = v_seq, hash = v_hash;
END $$;

ALTER TABLE audit_entries
  ALTER COLUMN seq SET NOT NULL,
  ALTER COLUMN prev_hash SET NOT NULL,
  ALTER COLUMN hash SET NOT NULL;
CREATE UNIQUE INDEX audit_entries_seq_key ON audit_entries (seq);

CREATE FUNCTION audit_chain_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_head audit_chain_head;
BEGIN
  SELECT * INTO v_head FROM audit_chain_head FOR UPDATE;
  NEW.seq := v_head.seq + 1;
  NEW.prev_hash := v_head.hash;
  -- The column keeps milliseconds: hash the value as it will be stored.
  NEW.created_at := now()::timestamptz(3);
  NEW.details := coalesce(NEW.details, '{}'::jsonb);
  NEW.hash := audit_entry_hash(NEW);
  UPDATE audit_chain_head SET seq = NEW.seq, hash = NEW.hash;
  RETURN NEW;
END $$;

CREATE TRIGGER audit_entries_chain BEFORE INSERT ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_chain_append();

CREATE FUNCTION audit_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'VE500';
END $$;

CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_entries
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_rewrite();
-- The head only moves through audit_chain_append; nobody deletes it.
CREATE TRIGGER audit_chain_head_kept BEFORE DELETE OR TRUNCATE ON audit_chain_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_rewrite();

-- Ledger calls are audited in the same statement as the change (one round trip, one transaction):
-- services/ledger.ts wraps every ledger function as ledger_audited(ledger_x(...), ...). Nothing
-- is written when nothing changed (expiry after the till settled, blocking a blocked card).
-- Card code hashes and balances stay out of the log; the entry, amounts and state go in.
CREATE FUNCTION ledger_audited(
  r jsonb, p_actor text, p_action text, p_request_id text, p_client_request_id text
) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(r->>'changed', 'true') <> 'false' THEN
    INSERT INTO audit_entries (actor, action, subject, details, request_id, client_request_id) VALUES (
      p_actor, p_action,
      coalesce('hold:' || (r->>'holdId'), 'card:' || (r->>'cardId'), 'ledger'),
      jsonb_strip_nulls(jsonb_build_object(
        'entryId', r->'entryId', 'currency', r->'currency', 'amount', r->'amount',
        'approvedAmount', r->'approvedAmount', 'capturedAmount', r->'capturedAmount',
        'releasedAmount', r->'releasedAmount', 'refundAmount', r->'refundAmount', 'breakage', r->'breakage',
        'status', r->'status', 'posReference', r->'posReference', 'terminalId', r->'terminalId',
        'replayed', coalesce(r->'replayed', 'false'::jsonb))),
      p_request_id, p_client_request_id);
  END IF;
  RETURN r;
END $$;

-- Shop orders: every state change is audited by the database itself, in the transaction that
-- makes it, whichever process (API, worker, support) makes it.
CREATE FUNCTION orders_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO audit_entries (actor, action, subject, details)
      VALUES ('system', 'order_deleted', 'order:' || OLD.id, jsonb_build_object('status', OLD.status));
    RETURN OLD;
  END IF;
  INSERT INTO audit_entries (actor, action, subject, details)
    VALUES ('system', 'order_' || NEW.status, 'order:' || NEW.id,
      jsonb_build_object('from', OLD.status, 'amount', NEW.amount, 'currency', NEW.currency, 'provider', NEW.provider));
  RETURN NEW;
END $$;

CREATE TRIGGER orders_audited AFTER UPDATE OF status ON orders
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION orders_audit();
CREATE TRIGGER orders_deletion_audited AFTER DELETE ON orders
  FOR EACH ROW EXECUTE FUNCTION orders_audit();
