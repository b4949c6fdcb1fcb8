-- Scheduled jobs in the audit log: the monthly clearing's steps (started by the schedule or by
-- finance) are recorded by the database in the transaction that takes them: a period opened,
-- frozen, computed (each run, with its count), sent for approval and closed.
CREATE FUNCTION clearing_periods_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_action text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    v_action := 'clearing_opened';
  ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
    v_action := 'clearing_' || NEW.status;
  ELSIF NEW.frozen_at IS DISTINCT FROM OLD.frozen_at THEN
    v_action := 'clearing_frozen';
  ELSIF NEW.compute_count IS DISTINCT FROM OLD.compute_count THEN
    v_action := 'clearing_computed';
  ELSE
    RETURN NULL;
  END IF;
  INSERT INTO audit_entries (actor, action, subject, details)
    VALUES (coalesce(NEW.approved_by, 'clearing-workflow'), v_action, 'clearing:' || NEW.period,
      jsonb_build_object('status', NEW.status, 'computeCount', NEW.compute_count));
  RETURN NULL;
END $$;

CREATE TRIGGER clearing_periods_audited AFTER INSERT OR UPDATE ON clearing_periods
  FOR EACH ROW EXECUTE FUNCTION clearing_periods_audit();
