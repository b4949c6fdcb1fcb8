-- Velocity limits at the till: per card (redemptions per hour and per day, by count and amount),
-- per terminal (value sold and loaded per day: the classic staff fraud) and per store (value sold
-- and loaded, value redeemed, per day). The scheme's defaults come from configuration (the API
-- writes them at start); an admin overrides them per store.
--
-- Enforced in the ledger's own transaction: a trigger on every journal entry a till books now
-- (authorize, issue, load) takes its share from a counter row with one conditional upsert. The row
-- lock serializes concurrent takes, so N parallel authorizations against a limit pass exactly as
-- many as fit, under any interleaving. A refusal raises velocity_limit_exceeded and rolls the
-- whole operation back. Windows are calendar hours and days (days in the centre's time zone).

CREATE TABLE "velocity_limit_defaults" (
    "id" BOOLEAN NOT NULL DEFAULT true,
    "time_zone" TEXT NOT NULL DEFAULT 'Europe/Berlin',
    "card_redemptions_per_hour" INTEGER,
    "card_amount_per_hour" BIGINT,
    "card_redemptions_per_day" INTEGER,
    "card_amount_per_day" BIGINT,
    "terminal_sold_per_day" BIGINT,
    "store_sold_per_day" BIGINT,
    "store_redeemed_per_day" BIGINT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "velocity_limit_defaults_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "velocity_limit_defaults_one_row" CHECK ("id")
);

-- Until the API writes the configured ones: the same defaults as the configuration's.
INSERT INTO velocity_limit_defaults (id, card_redemptions_per_hour, card_amount_per_hour, card_redemptions_per_day,
                                     card_amount_per_day, terminal_sold_per_day)
  VALUES (true, 10, 250000, 30, 1000000, 5000000);

-- NULL = the scheme's default.
CREATE TABLE "store_velocity_limits" (
    "store_id" UUID NOT NULL,
    "card_redemptions_per_hour" INTEGER,
    "card_amount_per_hour" BIGINT,
    "card_redemptions_per_day" INTEGER,
    "card_amount_per_day" BIGINT,
    "terminal_sold_per_day" BIGINT,
    "store_sold_per_day" BIGINT,
    "store_redeemed_per_day" BIGINT,
    "updated_by" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "store_velocity_limits_pkey" PRIMARY KEY ("store_id")
);

ALTER TABLE "store_velocity_limits" ADD CONSTRAINT "store_velocity_limits_store_id_fkey"
  FOREIGN KEY ("store_id") REFERENCES "stores"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE velocity_limit_defaults ADD CONSTRAINT velocity_limit_defaults_non_negative CHECK (
  card_redemptions_per_hour >= 0 AND card_amount_per_hour >= 0 AND card_redemptions_per_day >= 0
  AND card_amount_per_day >= 0 AND terminal_sold_per_day >= 0 AND store_sold_per_day >= 0 AND store_redeemed_per_day >= 0);
ALTER TABLE store_velocity_limits ADD CONSTRAINT store_velocity_limits_non_negative CHECK (
  card_redemptions_per_hour >= 0 AND card_amount_per_hour >= 0 AND card_redemptions_per_day >= 0
  AND card_amount_per_day >= 0 AND terminal_sold_per_day >= 0 AND store_sold_per_day >= 0 AND store_redeemed_per_day >= 0);

-- One row per (metric, subject): the current hour's and day's count and amount. A new window
-- starts the counts again, so the table grows with cards, terminals and stores, not with time.
CREATE TABLE "velocity_counters" (
    "metric" TEXT NOT NULL,
    "subject" UUID NOT NULL,
    "day" DATE NOT NULL,
    "day_count" INTEGER NOT NULL,
    "day_amount" BIGINT NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "hour_count" INTEGER NOT NULL,
    "hour_amount" BIGINT NOT NULL,

    CONSTRAINT "velocity_counters_pkey" PRIMARY KEY ("metric", "subject")
);
ALTER TABLE velocity_counters SET (fillfactor = 80);

-- Takes one operation of p_amount from a subject's counter if every given limit (NULL = none) still
-- holds afterwards; false otherwise, and then nothing is counted. One statement: the insert, or
-- the update under the row's lock, re-checks the limits against the latest committed counts.
CREATE FUNCTION velocity_take(
  p_metric text, p_subject uuid, p_amount bigint, p_day date, p_hour timestamptz,
  p_max_hour_count int, p_max_hour_amount bigint, p_max_day_count int, p_max_day_amount bigint
) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO velocity_counters AS c (metric, subject, day, day_count, day_amount, hour, hour_count, hour_amount)
  SELECT p_metric, p_subject, p_day, 1, p_amount, p_hour, 1, p_amount
   WHERE 1 <= coalesce(p_max_hour_count, 1) AND p_amount <= coalesce(p_max_hour_amount, p_amount)
     AND 1 <= coalesce(p_max_day_count, 1) AND p_amount <= coalesce(p_max_day_amount, p_amount)
  ON CONFLICT (metric, subject) DO UPDATE SET
    -- A transaction that began before the window turned counts into the newer window.
    day = greatest(c.day, excluded.day),
    day_count = CASE WHEN c.day >= excluded.day THEN c.day_count ELSE 0 END + 1,
    day_amount = CASE WHEN c.day >= excluded.day THEN c.day_amount ELSE 0 END + excluded.day_amount,
    hour = greatest(c.hour, excluded.hour),
    hour_count = CASE WHEN c.hour >= excluded.hour THEN c.hour_count ELSE 0 END + 1,
    hour_amount = CASE WHEN c.hour >= excluded.hour THEN c.hour_amount ELSE 0 END + excluded.hour_amount
  WHERE CASE WHEN c.hour >= excluded.hour THEN c.hour_count ELSE 0 END + 1 <= coalesce(p_max_hour_count, 2147483647)
    AND CASE WHEN c.hour >= excluded.hour THEN c.hour_amount ELSE 0 END + p_amount <= coalesce(p_max_hour_amount, 9223372036854775807 - p_amount)
    AND CASE WHEN c.day >= excluded.day THEN c.day_count ELSE 0 END + 1 <= coalesce(p_max_day_count, 2147483647)
    AND CASE WHEN c.day >= excluded.day THEN c.day_amount ELSE 0 END + p_amount <= coalesce(p_max_day_amount, 9223372036854775807 - p_amount);
  RETURN FOUND;
END $$;

-- The limits that apply at a store: its overrides, else the scheme's defaults.
CREATE FUNCTION velocity_limits_at(p_store uuid)
RETURNS TABLE (time_zone text, card_redemptions_per_hour int, card_amount_per_hour bigint,
  card_redemptions_per_day int, card_amount_per_day bigint, terminal_sold_per_day bigint,
  store_sold_per_day bigint, store_redeemed_per_day bigint)
LANGUAGE sql STABLE AS $$
  SELECT d.time_zone,
         coalesce(s.card_redemptions_per_hour, d.card_redemptions_per_hour),
         coalesce(s.card_amount_per_hour, d.card_amount_per_hour),
         coalesce(s.card_redemptions_per_day, d.card_redemptions_per_day),
         coalesce(s.card_amount_per_day, d.card_amount_per_day),
         coalesce(s.terminal_sold_per_day, d.terminal_sold_per_day),
         coalesce(s.store_sold_per_day, d.store_sold_per_day),
         coalesce(s.store_redeemed_per_day, d.store_redeemed_per_day)
    FROM velocity_limit_defaults d LEFT JOIN store_velocity_limits s ON s.store_id = p_store;
$$;

CREATE FUNCTION velocity_enforce() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  l record;
  v_day date;
  v_hour timestamptz := date_trunc('hour', now());
BEGIN
  SELECT * INTO l FROM velocity_limits_at(NEW.store_id);
  v_day := (now() AT TIME ZONE l.time_zone)::date;
  IF NEW.kind = 'authorize' THEN
    IF num_nonnulls(l.card_redemptions_per_hour, l.card_amount_per_hour, l.card_redemptions_per_day, l.card_amount_per_day) > 0
       AND NOT velocity_take('card_redemptions', NEW.card_id, NEW.amount, v_day, v_hour,
         l.card_redemptions_per_hour, l.card_amount_per_hour, l.card_redemptions_per_day, l.card_amount_per_day) THEN
      PERFORM ledger_refuse('velocity_limit_exceeded', format(
        'this card has reached its redemption limit (per hour: %s redemptions / %s; per day: %s / %s); try again later',
        coalesce(l.card_redemptions_per_hour::text, 'any'), coalesce(l.card_amount_per_hour::text, 'any'),
        coalesce(l.card_redemptions_per_day::text, 'any'), coalesce(l.card_amount_per_day::text, 'any')));
    END IF;
    IF l.store_redeemed_per_day IS NOT NULL
       AND NOT velocity_take('store_redemptions', NEW.store_id, NEW.amount, v_day, v_hour, NULL, NULL, NULL, l.store_redeemed_per_day) THEN
      PERFORM ledger_refuse('velocity_limit_exceeded',
        format('this store has redeemed its limit of %s for today', l.store_redeemed_per_day));
    END IF;
  ELSE
    IF l.terminal_sold_per_day IS NOT NULL
       AND NOT velocity_take('terminal_sales', NEW.terminal_id, NEW.amount, v_day, v_hour, NULL, NULL, NULL, l.terminal_sold_per_day) THEN
      PERFORM ledger_refuse('velocity_limit_exceeded',
        format('this terminal has sold and loaded its limit of %s for today', l.terminal_sold_per_day));
    END IF;
    IF l.store_sold_per_day IS NOT NULL
       AND NOT velocity_take('store_sales', NEW.store_id, NEW.amount, v_day, v_hour, NULL, NULL, NULL, l.store_sold_per_day) THEN
      PERFORM ledger_refuse('velocity_limit_exceeded',
        format('this store has sold and loaded its limit of %s for today', l.store_sold_per_day));
    END IF;
  END IF;
  RETURN NULL;
END $$;

-- Only what a till books now: entries written with an explicit past booking time (imports,
-- generated benchmark months) are history, not till traffic.
CREATE TRIGGER journal_entries_velocity
  AFTER INSERT ON journal_entries FOR EACH ROW
  WHEN (NEW.kind IN ('authorize', 'issue', 'load') AND NEW.terminal_id IS NOT NULL AND NEW.booked_at = now()::timestamptz(3))
  EXECUTE FUNCTION velocity_enforce();
