-- The trace context (W3C traceparent/tracestate, as JSON) of the request whose ledger change queued
-- an outbox row, so the worker that relays it starts the workflow inside the same trace.
-- The ledger functions insert outbox rows themselves; the column takes its value from a
-- transaction-local setting the API sets in the same statement (services/ledger.ts), so no ledger
-- function changes. Without tracing nothing sets it and the column stays NULL.
ALTER TABLE "workflow_outbox"
  ADD COLUMN "trace_context" JSONB DEFAULT nullif(current_setting('voucher.trace_context', true), '')::jsonb;
