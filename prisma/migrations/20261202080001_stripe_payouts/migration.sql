-- Stripe's payout reconciliation reports (itemized), uploaded by finance: which balance
-- transactions each payout carried, matched to our online orders by payment intent id. A line is
-- kept once (its balance transaction id), so overlapping reports add only what is new.
CREATE TABLE stripe_payout_imports (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sha256      text NOT NULL UNIQUE,
  lines       integer NOT NULL,
  new_lines   integer NOT NULL,
  uploaded_by text NOT NULL,
  uploaded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stripe_payout_lines (
  balance_transaction_id text PRIMARY KEY,
  import_id          uuid NOT NULL REFERENCES stripe_payout_imports(id),
  payout_id          text NOT NULL,
  payout_effective_at timestamptz,
  reporting_category text NOT NULL,
  payment_intent_id  text,
  charge_id          text,
  currency           char(3) NOT NULL,
  gross              bigint NOT NULL,
  fee                bigint NOT NULL,
  net                bigint NOT NULL,
  order_id           uuid REFERENCES orders(id),
  -- matched: a charge or refund of one of our orders, for its amount; wrong_amount: of our order,
  -- another amount; unknown: a charge or refund no order of ours made; other: fees, disputes and
  -- adjustments, listed with their amounts.
  status             text NOT NULL CHECK (status IN ('matched', 'wrong_amount', 'unknown', 'other')),
  expected_amount    bigint,
  CHECK (gross - fee = net)
);
CREATE INDEX stripe_payout_lines_payment_intent ON stripe_payout_lines (payment_intent_id);
CREATE INDEX stripe_payout_lines_payout ON stripe_payout_lines (payout_id);
