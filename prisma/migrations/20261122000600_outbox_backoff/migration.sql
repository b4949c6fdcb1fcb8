-- A row the relay cannot deliver waits before its next attempt, so it no longer blocks the rows
-- behind it. Rows are never dropped: every hold needs its workflow. The oldest waiting row's
-- age is what to alert on.

-- AlterTable
ALTER TABLE "workflow_outbox" ADD COLUMN     "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
