
-- CreateEnum
CREATE TYPE "clearing_status" AS ENUM ('running', 'awaiting_approval', 'closed');

-- CreateEnum
CREATE TYPE "api_client_role" AS ENUM ('admin', 'finance', 'billing_party');

-- CreateTable
CREATE TABLE "clearing_periods" (
    "period" TEXT NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "status" "clearing_status" NOT NULL DEFAULT 'running',
    "compute_count" INTEGER NOT NULL DEFAULT 0,
    "frozen_at" TIMESTAMPTZ(3),
    "computed_at" TIMESTAMPTZ(3),
    "approved_by" TEXT,
    "closed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "clearing_periods_pkey" PRIMARY KEY ("period")
);

-- CreateTable
CREATE TABLE "clearing_positions" (
    "period" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "party_key" TEXT NOT NULL,
    "billing_party_id" UUID,
    "sales_count" BIGINT NOT NULL DEFAULT 0,
    "sales_amount" BIGINT NOT NULL DEFAULT 0,
    "redemptions_count" BIGINT NOT NULL DEFAULT 0,
    "redemptions_amount" BIGINT NOT NULL DEFAULT 0,
    "refunds_count" BIGINT NOT NULL DEFAULT 0,
    "refunds_amount" BIGINT NOT NULL DEFAULT 0,
    "breakage_count" BIGINT NOT NULL DEFAULT 0,
    "breakage_amount" BIGINT NOT NULL DEFAULT 0,
    "liability_change" BIGINT NOT NULL DEFAULT 0,
    "net" BIGINT NOT NULL,

    CONSTRAINT "clearing_positions_pkey" PRIMARY KEY ("period","currency","party_key")
);

-- CreateTable
CREATE TABLE "clearing_counterparties" (
    "period" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "party_key" TEXT NOT NULL,
    "issuer_key" TEXT NOT NULL,
    "redemptions_count" BIGINT NOT NULL,
    "redemptions_amount" BIGINT NOT NULL,
    "refunds_amount" BIGINT NOT NULL,

    CONSTRAINT "clearing_counterparties_pkey" PRIMARY KEY ("period","currency","party_key","issuer_key")
);

-- CreateTable
CREATE TABLE "clearing_statements" (
    "period" TEXT NOT NULL,
    "billing_party_id" UUID NOT NULL,
    "pdf" BYTEA NOT NULL,
    "pdf_sha256" TEXT NOT NULL,
    "emailed_to" TEXT,
    "emailed_at" TIMESTAMPTZ(3),
    "email_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "clearing_statements_pkey" PRIMARY KEY ("period","billing_party_id")
);

-- CreateTable
CREATE TABLE "api_clients" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "role" "api_client_role" NOT NULL,
    "billing_party_id" UUID,
    "api_key_hash" TEXT NOT NULL,
    "api_key_last4" TEXT NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "api_clients_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "journal_entries" ADD COLUMN     "issuer_store_id" UUID;

-- CreateIndex
CREATE INDEX "clearing_periods_ends_at_idx" ON "clearing_periods"("ends_at");

-- CreateIndex
CREATE UNIQUE INDEX "api_clients_api_key_hash_key" ON "api_clients"("api_key_hash");

-- AddForeignKey
ALTER TABLE "clearing_positions" ADD CONSTRAINT "clearing_positions_period_fkey" FOREIGN KEY ("period") REFERENCES "clearing_periods"("period") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "clearing_counterparties" ADD CONSTRAINT "clearing_counterparties_period_fkey" FOREIGN KEY ("period") REFERENCES "clearing_periods"("period") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "clearing_statements" ADD CONSTRAINT "clearing_statements_period_fkey" FOREIGN KEY ("period") REFERENCES "clearing_periods"("period") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_clients" ADD CONSTRAINT "api_clients_billing_party_id_fkey" FOREIGN KEY ("billing_party_id") REFERENCES "billing_parties"("id") ON DELETE SET NULL ON UPDATE CASCADE;



-- Clearing: the ledger side of the monthly `clearing-<period>` workflow.
--
-- A period is a calendar month in the centre's time zone, and an entry belongs to the period of
-- its booked_at. Freezing a period raises the ledger's horizon to the period's end: from then on
-- no entry can be booked before it, so the period's entries are fixed and every computation over
-- them (positions, statements, reruns) gives the same result.

ALTER TABLE clearing_periods ADD CONSTRAINT clearing_periods_period_format
  CHECK (period ~ '^2[0-9]{3}-(0[1-9]|1[0-2])$');
ALTER TABLE clearing_periods ADD CONSTRAINT clearing_periods_bounds CHECK (starts_at < ends_at);
ALTER TABLE api_clients ADD CONSTRAINT api_clients_party_role
  CHECK ((role = 'billing_party') = (billing_party_id IS NOT NULL));

-- Entries are booked at their transaction's start time. One whose transaction began before the
-- horizon but inserts after the freeze is refused with VE409, which the ledger client retries in
-- a new transaction, booked now, in the open period.
CREATE FUNCTION ledger_refuse_frozen_booking() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_horizon timestamptz;
BEGIN
  SELECT max(ends_at) INTO v_horizon FROM clearing_periods WHERE frozen_at IS NOT NULL;
  IF v_horizon IS NOT NULL AND EXISTS (SELECT 1 FROM inserted WHERE booked_at < v_horizon) THEN
    RAISE EXCEPTION USING ERRCODE = 'VE409', MESSAGE = 'booking_in_frozen_period',
      DETAIL = format('the ledger is frozen until %s', v_horizon);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER journal_entries_not_in_frozen_period
  AFTER INSERT ON journal_entries REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_frozen_booking();

-- Registers a period that has ended. Its bounds are midnight on the 1st in the centre's time zone.
CREATE FUNCTION clearing_open_period(p_period text, p_time_zone text) RETURNS clearing_periods
LANGUAGE plpgsql AS $$
DECLARE
  v clearing_periods;
  v_starts timestamptz;
  v_ends timestamptz;
BEGIN
  IF p_period !~ '^2[0-9]{3}-(0[1-9]|1[0-2])$' THEN
    PERFORM ledger_refuse('invalid_period', 'a period is a month written YYYY-MM, from 2000 on');
  END IF;
  SELECT * INTO v FROM clearing_periods WHERE period = p_period;
  IF FOUND THEN RETURN v; END IF;
  v_starts := (p_period || '-01')::timestamp AT TIME ZONE p_time_zone;
  v_ends := ((p_period || '-01')::timestamp + interval '1 month') AT TIME ZONE p_time_zone;
  IF v_ends > now() THEN
    PERFORM ledger_refuse('period_not_ended',
      format('%s ends at %s; it can be cleared after that', p_period, v_ends));
  END IF;
  INSERT INTO clearing_periods (period, starts_at, ends_at) VALUES (p_period, v_starts, v_ends)
    ON CONFLICT (period) DO NOTHING;
  SELECT * INTO v FROM clearing_periods WHERE period = p_period;
  RETURN v;
END $$;

CREATE FUNCTION clearing_freeze(p_period text) RETURNS clearing_periods LANGUAGE plpgsql AS $$
DECLARE
  v clearing_periods;
BEGIN
  SELECT * INTO v FROM clearing_periods WHERE period = p_period FOR UPDATE;
  IF NOT FOUND THEN PERFORM ledger_refuse('period_not_found', 'no such clearing period'); END IF;
  IF v.frozen_at IS NULL THEN
    -- Waits until every transaction writing the ledger has committed and holds new writers back
    -- for the instant it takes to raise the horizon: afterwards nothing is booked into the period.
    LOCK TABLE journal_entries IN SHARE MODE;
    UPDATE clearing_periods SET frozen_at = now() WHERE period = p_period RETURNING * INTO v;
  END IF;
  RETURN v;
END $$;

-- A redemption or refund records whose voucher it was: the store that sold the card (NULL for an
-- online sale). Clearing then attributes counterparties from the entries alone.
CREATE FUNCTION ledger_record_issuer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.issuer_store_id := (SELECT issuing_store_id FROM cards WHERE id = NEW.card_id);
  RETURN NEW;
END $$;

-- Entries booked before this migration get theirs once, here (the ledger is append-only for the
-- engine; the migration is the schema owner's one-off correction of a derived column).
ALTER TABLE journal_entries DISABLE TRIGGER journal_entries_append_only;
UPDATE journal_entries e SET issuer_store_id = c.issuing_store_id
  FROM cards c WHERE c.id = e.card_id AND e.kind IN ('capture', 'refund') AND e.issuer_store_id IS NULL;
ALTER TABLE journal_entries ENABLE TRIGGER journal_entries_append_only;

CREATE TRIGGER journal_entries_record_issuer BEFORE INSERT ON journal_entries
  FOR EACH ROW WHEN (NEW.kind IN ('capture', 'refund')) EXECUTE FUNCTION ledger_record_issuer();

-- What moved between parties in [p_from, p_to): per currency, party, issuer and kind, the number of
-- entries and the sum of the party-side postings. Party 'scheme' is the centre itself: online
-- sales (provider_clearing) and breakage. Issuer (redemptions and refunds only) is the party
-- that sold the card, or 'scheme' for online sales. Authorizations, voids and hold expiries move
-- value between a card's own accounts and are left out; every entry balances, so the change in
-- card liability is minus the sum of everything here.
-- One pass over the period's entries, aggregated per store before stores are looked up; a plain
-- SELECT of it runs on parallel workers (the function is inlined).
CREATE FUNCTION ledger_movements(p_from timestamptz, p_to timestamptz)
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
         AND e.kind IN ('issue', 'load', 'capture', 'refund', 'expire_card')
         AND p.account_kind IN ('store_sales', 'store_redemptions', 'provider_clearing', 'breakage')
       GROUP BY 1, 2, 3, 4
    ) x
    LEFT JOIN stores s ON s.id = x.store_id
    LEFT JOIN stores si ON si.id = x.issuer_store_id
   GROUP BY 1, 2, 3, 4;
$$;

-- Party positions from movements (ledger_movements rows as jsonb): sales and refunds reduce what
-- a party is owed, redemptions add to it. The scheme's line takes online sales, breakage and the
-- change in liability, so that the nets of each currency sum to zero.
CREATE FUNCTION ledger_positions_of(p_moves jsonb)
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
      coalesce(sum(m.entries) FILTER (WHERE m.kind IN ('issue', 'load')), 0)::bigint AS sales_count,
      coalesce(-sum(m.total) FILTER (WHERE m.kind IN ('issue', 'load')), 0)::bigint AS sales_amount,
      coalesce(sum(m.entries) FILTER (WHERE m.kind = 'capture'), 0)::bigint AS redemptions_count,
      coalesce(sum(m.total) FILTER (WHERE m.kind = 'capture'), 0)::bigint AS redemptions_amount,
      coalesce(sum(m.entries) FILTER (WHERE m.kind = 'refund'), 0)::bigint AS refunds_count,
      coalesce(-sum(m.total) FILTER (WHERE m.kind = 'refund'), 0)::bigint AS refunds_amount,
      coalesce(sum(m.entries) FILTER (WHERE m.kind = 'expire_card'), 0)::bigint AS breakage_count,
      coalesce(sum(m.total) FILTER (WHERE m.kind = 'expire_card'), 0)::bigint AS breakage_amount,
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

-- Stores a frozen period's positions and counterparties from its movements (ledger_movements over
-- the period, which the caller runs as a plain, parallel query). Deterministic: the period's entries
-- cannot change once it is frozen, so a rerun writes the same rows.
CREATE FUNCTION clearing_compute(p_period text, p_moves jsonb) RETURNS clearing_periods LANGUAGE plpgsql AS $$
DECLARE
  v clearing_periods;
  v_unbalanced text;
BEGIN
  SELECT * INTO v FROM clearing_periods WHERE period = p_period FOR UPDATE;
  IF NOT FOUND THEN PERFORM ledger_refuse('period_not_found', 'no such clearing period'); END IF;
  IF v.status = 'closed' THEN PERFORM ledger_refuse('period_closed', 'the period is closed'); END IF;
  IF v.frozen_at IS NULL THEN PERFORM ledger_refuse('period_not_frozen', 'freeze the period first'); END IF;
  -- Only a running clearing computes: a stale attempt (timed out, then finishing after the
  -- workflow moved on) must not reopen a period that awaits approval. A rerun reopens it first.
  IF v.status <> 'running' THEN
    PERFORM ledger_refuse('clearing_not_running', format('the period is %s; ask for a rerun', v.status));
  END IF;

  DELETE FROM clearing_positions WHERE period = p_period;
  DELETE FROM clearing_counterparties WHERE period = p_period;

  INSERT INTO clearing_positions (period, currency, party_key, billing_party_id, sales_count, sales_amount,
      redemptions_count, redemptions_amount, refunds_count, refunds_amount, breakage_count, breakage_amount,
      liability_change, net)
    SELECT p_period, p.currency, p.party_key,
           CASE WHEN p.party_key = 'scheme' THEN NULL ELSE p.party_key::uuid END,
           p.sales_count, p.sales_amount, p.redemptions_count, p.redemptions_amount, p.refunds_count,
           p.refunds_amount, p.breakage_count, p.breakage_amount, p.liability_change, p.net
      FROM ledger_positions_of(p_moves) p;

  INSERT INTO clearing_counterparties (period, currency, party_key, issuer_key, redemptions_count,
      redemptions_amount, refunds_amount)
    SELECT p_period, m.currency, m.party_key, m.issuer_key,
           coalesce(sum(m.entries) FILTER (WHERE m.kind = 'capture'), 0),
           coalesce(sum(m.total) FILTER (WHERE m.kind = 'capture'), 0),
           coalesce(-sum(m.total) FILTER (WHERE m.kind = 'refund'), 0)
      FROM jsonb_to_recordset(coalesce(p_moves, '[]'))
        AS m(currency char(3), party_key text, issuer_key text, kind entry_kind, entries bigint, total bigint)
     WHERE m.kind IN ('capture', 'refund')
     GROUP BY m.currency, m.party_key, m.issuer_key;

  -- The scheme line is minus the sum of the others, so this holds by construction; what makes the
  -- scheme line right is every entry balancing, which the ledger enforces on insert (and the
  -- clearing tests check the liability change against hand-computed card balances). It guards
  -- this function's own arithmetic.
  SELECT currency INTO v_unbalanced FROM clearing_positions WHERE period = p_period
   GROUP BY currency HAVING sum(net) <> 0 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'clearing % does not net to zero in %', p_period, v_unbalanced USING ERRCODE = 'VE500';
  END IF;

  UPDATE clearing_periods SET computed_at = now(), compute_count = compute_count + 1
   WHERE period = p_period RETURNING * INTO v;
  RETURN v;
END $$;

CREATE FUNCTION clearing_set_status(p_period text, p_from clearing_status, p_to clearing_status, p_by text)
RETURNS clearing_periods LANGUAGE plpgsql AS $$
DECLARE
  v clearing_periods;
BEGIN
  SELECT * INTO v FROM clearing_periods WHERE period = p_period FOR UPDATE;
  IF NOT FOUND THEN PERFORM ledger_refuse('period_not_found', 'no such clearing period'); END IF;
  IF v.status = p_to THEN RETURN v; END IF;
  IF v.status = 'closed' THEN PERFORM ledger_refuse('period_closed', 'the period is closed'); END IF;
  IF v.status <> p_from THEN
    PERFORM ledger_refuse('clearing_not_awaiting_approval', format('the period is %s', v.status));
  END IF;
  UPDATE clearing_periods
     SET status = p_to,
         approved_by = CASE WHEN p_to = 'closed' THEN p_by ELSE approved_by END,
         closed_at = CASE WHEN p_to = 'closed' THEN now() ELSE closed_at END
   WHERE period = p_period RETURNING * INTO v;
  RETURN v;
END $$;

-- A closed period is a record: its row, positions, counterparties and statements stay as they are.
CREATE FUNCTION clearing_refuse_closed_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_period text := CASE WHEN TG_OP = 'DELETE' THEN OLD.period ELSE NEW.period END;
BEGIN
  IF TG_TABLE_NAME = 'clearing_periods' THEN
    IF OLD.status = 'closed' THEN
      PERFORM ledger_refuse('period_closed', format('%s is closed', OLD.period));
    END IF;
  ELSIF EXISTS (SELECT 1 FROM clearing_periods WHERE period = v_period AND status = 'closed') THEN
    PERFORM ledger_refuse('period_closed', format('%s is closed', v_period));
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER clearing_periods_closed_immutable BEFORE UPDATE OR DELETE ON clearing_periods
  FOR EACH ROW EXECUTE FUNCTION clearing_refuse_closed_change();
CREATE TRIGGER clearing_positions_closed_immutable BEFORE INSERT OR UPDATE OR DELETE ON clearing_positions
  FOR EACH ROW EXECUTE FUNCTION clearing_refuse_closed_change();
CREATE TRIGGER clearing_counterparties_closed_immutable BEFORE INSERT OR UPDATE OR DELETE ON clearing_counterparties
  FOR EACH ROW EXECUTE FUNCTION clearing_refuse_closed_change();
CREATE TRIGGER clearing_statements_closed_immutable BEFORE INSERT OR UPDATE OR DELETE ON clearing_statements
  FOR EACH ROW EXECUTE FUNCTION clearing_refuse_closed_change();

-- Which party a store belongs to decides who is owed what for every entry it ever booked, so a
-- store with ledger entries cannot move to another party (open a new store instead). Closed
-- statements and their CSVs stay true.
CREATE FUNCTION stores_refuse_party_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.billing_party_id IS DISTINCT FROM OLD.billing_party_id
     AND EXISTS (SELECT 1 FROM journal_entries WHERE store_id = OLD.id) THEN
    PERFORM ledger_refuse('store_has_history', 'this store has ledger entries; it cannot move to another billing party');
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER stores_party_fixed BEFORE UPDATE OF billing_party_id ON stores
  FOR EACH ROW EXECUTE FUNCTION stores_refuse_party_change();
