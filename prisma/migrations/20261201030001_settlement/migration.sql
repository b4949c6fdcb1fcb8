-- Settling a closed period (issue 17): bank details per billing party with four-eyes approval,
-- one payment per party, period and currency (credit transfer, direct debit, invoice or manual),
-- the ISO 20022 files they went out in, and what the bank's statements (camt.053) said about them.

-- A party's bank details. A change is proposed by one back-office user and takes effect only when
-- another approves it: until then the previous version stays active. IBAN and account holder are
-- personal data, sealed like e-mail addresses (pii:<key>:…); the last four IBAN characters are kept
-- in clear to show them masked.
CREATE TABLE party_bank_details (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  billing_party_id   uuid NOT NULL REFERENCES billing_parties(id),
  status             text NOT NULL CHECK (status IN ('pending', 'active', 'superseded', 'rejected')),
  iban               text NOT NULL,
  iban_last4         text NOT NULL,
  iban_country       text NOT NULL,
  bic                text NOT NULL,
  account_holder     text NOT NULL,
  mandate_reference  text,
  mandate_signed_on  date,
  proposed_by        text NOT NULL,
  proposed_by_id     text NOT NULL,
  proposed_at        timestamptz NOT NULL DEFAULT now(),
  decided_by         text,
  decided_at         timestamptz,
  CHECK ((mandate_reference IS NULL) = (mandate_signed_on IS NULL))
);
CREATE UNIQUE INDEX party_bank_details_one_active ON party_bank_details (billing_party_id) WHERE status = 'active';
CREATE UNIQUE INDEX party_bank_details_one_pending ON party_bank_details (billing_party_id) WHERE status = 'pending';

-- A settlement run per closed period.
CREATE TABLE settlement_runs (
  period      text PRIMARY KEY REFERENCES clearing_periods(period),
  runs        integer NOT NULL DEFAULT 0,
  started_at  timestamptz NOT NULL DEFAULT now(),
  planned_at  timestamptz
);

-- An ISO 20022 payment initiation file, stored as offered (validated against its schema first).
CREATE TABLE settlement_files (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  period      text NOT NULL REFERENCES settlement_runs(period),
  kind        text NOT NULL CHECK (kind IN ('credit_transfers', 'direct_debits')),
  seq         integer NOT NULL,
  msg_id      text NOT NULL UNIQUE,
  schema      text NOT NULL,
  xml         text NOT NULL,
  sha256      text NOT NULL,
  payments    integer NOT NULL,
  control_sum bigint NOT NULL,
  created_at  timestamptz NOT NULL,
  UNIQUE (period, kind, seq)
);

-- One payment per party, period and currency: the key makes a second one impossible, so a rerun
-- finds the first. file_id is set once, when the payment goes into a file.
CREATE TABLE settlement_payments (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  period            text NOT NULL REFERENCES settlement_runs(period),
  billing_party_id  uuid NOT NULL REFERENCES billing_parties(id),
  currency          text NOT NULL,
  direction         text NOT NULL CHECK (direction IN ('payout', 'collection')),
  amount            bigint NOT NULL CHECK (amount > 0),
  method            text NOT NULL CHECK (method IN ('credit_transfer', 'direct_debit', 'invoice', 'manual')),
  end_to_end_id     text NOT NULL UNIQUE,
  bank_details_id   uuid REFERENCES party_bank_details(id),
  file_id           uuid REFERENCES settlement_files(id),
  status            text NOT NULL CHECK (status IN (
                      'awaiting_bank_details', 'to_invoice', 'manual', 'in_file', 'paid', 'returned', 'missing', 'wrong_amount')),
  reason            text,
  return_reason     text,
  reconciled_at     timestamptz,
  UNIQUE (period, billing_party_id, currency)
);
CREATE INDEX settlement_payments_file ON settlement_payments (file_id);

-- An uploaded bank statement (camt.053), once per file content.
CREATE TABLE bank_statement_imports (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  period        text NOT NULL REFERENCES settlement_runs(period),
  sha256        text NOT NULL,
  schema        text NOT NULL,
  statement_id  text NOT NULL,
  entries       integer NOT NULL,
  uploaded_by   text NOT NULL,
  uploaded_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (period, sha256)
);

-- What a statement did not agree with: wrong amount, unknown payment, a return (with its reason
-- code), a payment missing. The latest import of a period supersedes the earlier ones' list.
CREATE TABLE settlement_differences (
  id              bigserial PRIMARY KEY,
  import_id       uuid NOT NULL REFERENCES bank_statement_imports(id),
  period          text NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('wrong_amount', 'unknown_payment', 'returned', 'missing')),
  end_to_end_id   text,
  payment_id      uuid REFERENCES settlement_payments(id),
  expected_amount bigint,
  actual_amount   bigint,
  currency        text,
  reason_code     text,
  detail          text NOT NULL,
  superseded_at   timestamptz
);
CREATE INDEX settlement_differences_open ON settlement_differences (period) WHERE superseded_at IS NULL;
