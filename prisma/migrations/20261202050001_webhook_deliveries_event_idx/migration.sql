-- Housekeeping deletes old webhook events with all their deliveries (redeliveries included); the
-- delete and its foreign-key check look deliveries up by event. The partial unique index on
-- (event_id, endpoint_id) leaves out redeliveries, so it cannot answer that.
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);
