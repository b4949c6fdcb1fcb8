-- The webhook relay counts, per endpoint, the deliveries started but not yet through their first
-- attempt, and starts no more for an endpoint past its limit (services/webhook-relay.ts). This
-- index holds only those rows: a few hundred at most, however long the deliveries table grows.
CREATE INDEX webhook_deliveries_in_first_attempt_idx ON webhook_deliveries (endpoint_id)
  WHERE workflow_started AND attempts = 0 AND status = 'pending';
