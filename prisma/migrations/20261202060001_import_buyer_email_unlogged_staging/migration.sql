-- Legacy import: the buyer's e-mail address of an imported voucher, sealed like every other
-- address at rest (domain/pii-crypto.ts: AES-256-GCM under PII_KEYS, with a keyed lookup hash so
-- the shopper's right to erasure finds it). A table of its own: most vouchers have none, and the
-- cards table (the tills' hot path) stays as narrow as it was.
CREATE TABLE card_buyer_emails (
  card_id UUID PRIMARY KEY REFERENCES cards (id),
  import_id UUID NOT NULL REFERENCES imports (id),
  -- Sealed; NULL once erased.
  email TEXT,
  email_hash TEXT,
  pii_erased_at TIMESTAMPTZ(3),
  created_at TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CHECK ((email IS NULL) = (email_hash IS NULL))
);
CREATE INDEX card_buyer_emails_email_hash ON card_buyer_emails (email_hash) WHERE email_hash IS NOT NULL;

-- Staged vouchers carry the address already sealed: staging is at rest too.
ALTER TABLE import_staged_vouchers ADD COLUMN buyer_email TEXT, ADD COLUMN buyer_email_hash TEXT;

-- Staging rows are scratch that can be read again from the files: not written to the WAL (each
-- staged row would otherwise be written twice, then once more into the ledger). A database crash empties unlogged
-- tables; the import notices (the staged rows no longer match its committed chunks) and stages
-- again from the start, or, once checked, refuses to publish (services/legacy-import/store.ts).
ALTER TABLE import_staged_vouchers SET UNLOGGED;
ALTER TABLE import_staged_history SET UNLOGGED;
