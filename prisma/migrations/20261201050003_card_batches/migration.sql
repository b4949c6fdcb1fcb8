-- Scratch-card batches (issue #13): finance orders a batch, the card-batch-<id> workflow generates
-- its cards (all pending: no value, no liability, nowhere in clearing until a till activates one),
-- the system owner approves it, and its print file is exported exactly once per format.

CREATE TYPE "card_batch_status" AS ENUM ('generating', 'awaiting_approval', 'approved', 'cancelled', 'voided');

CREATE TABLE card_batches (
  id UUID PRIMARY KEY,
  number BIGSERIAL NOT NULL UNIQUE,
  card_count INTEGER NOT NULL CHECK (card_count BETWEEN 1 AND 100000),
  face_value BIGINT CHECK (face_value IS NULL OR face_value > 0),
  currency CHAR(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  expires_at TIMESTAMPTZ(3) NOT NULL,
  issuing_store_id UUID REFERENCES stores (id),
  issuing_party_id UUID REFERENCES billing_parties (id),
  serial_prefix TEXT NOT NULL,
  status card_batch_status NOT NULL DEFAULT 'generating',
  generated INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  created_by_name TEXT NOT NULL,
  idempotency_scope TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  decided_by TEXT,
  decided_by_name TEXT,
  decided_at TIMESTAMPTZ(3),
  csv_exported_at TIMESTAMPTZ(3),
  pdf_exported_at TIMESTAMPTZ(3),
  voided_at TIMESTAMPTZ(3),
  created_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT card_batches_key UNIQUE (idempotency_scope, idempotency_key),
  -- The owner's approval is a second person's.
  CONSTRAINT card_batches_four_eyes CHECK (decided_by IS NULL OR decided_by <> created_by)
);
CREATE INDEX card_batches_status_idx ON card_batches (status, created_at);

ALTER TABLE cards ADD COLUMN batch_id UUID REFERENCES card_batches (id);
ALTER TABLE cards ADD COLUMN batch_seq INTEGER;
ALTER TABLE cards ADD COLUMN serial TEXT;
ALTER TABLE cards ADD COLUMN activation_code TEXT;
CREATE UNIQUE INDEX cards_serial_key ON cards (serial);
CREATE UNIQUE INDEX cards_batch_seq_key ON cards (batch_id, batch_seq) WHERE batch_id IS NOT NULL;

-- Batch cards can only be sold once their batch is approved: activation refuses before that.
CREATE FUNCTION card_batch_assert_sellable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.batch_id IS NOT NULL AND OLD.status = 'pending' AND NEW.status = 'active'
     AND NOT EXISTS (SELECT 1 FROM card_batches WHERE id = NEW.batch_id AND status = 'approved') THEN
    PERFORM ledger_refuse('invalid_card_transition', 'the card''s batch has not been approved (or was voided)');
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER cards_batch_sellable BEFORE UPDATE OF status ON cards
  FOR EACH ROW WHEN (NEW.batch_id IS NOT NULL) EXECUTE FUNCTION card_batch_assert_sellable();
