-- Journal entries written with an explicit past booking time (imports of history, the benchmarks'
-- generated months: millions of rows in a few statements) are history, not news: they record no
-- webhook events, as they count against no velocity limit. Skipping them in the WHEN clause also
-- keeps them out of the deferred-trigger queue, which would otherwise hold one entry per row
-- until commit. Everything booked now (tills, shop, portal, workflows, an import that books at
-- the time it runs) records its events as before.
DROP TRIGGER journal_entries_webhook_events ON journal_entries;
CREATE CONSTRAINT TRIGGER journal_entries_webhook_events AFTER INSERT ON journal_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (NEW.booked_at = now()::timestamptz(3))
  EXECUTE FUNCTION webhook_on_journal_entry();
