-- CreateEnum
CREATE TYPE "card_status" AS ENUM ('active', 'blocked', 'expired');

-- CreateEnum
CREATE TYPE "channel" AS ENUM ('pos', 'online');

-- CreateEnum
CREATE TYPE "hold_status" AS ENUM ('authorized', 'captured', 'voided', 'expired');

-- CreateEnum
CREATE TYPE "entry_kind" AS ENUM ('issue', 'load', 'authorize', 'capture', 'void', 'expire_hold', 'refund', 'expire_card');

-- CreateEnum
CREATE TYPE "account_kind" AS ENUM ('card_available', 'card_held', 'store_sales', 'store_redemptions', 'provider_clearing', 'breakage');

-- CreateEnum
CREATE TYPE "order_status" AS ENUM ('awaiting_payment', 'payment_failed', 'paid', 'issued', 'fulfilled', 'expired', 'refunded', 'failed');

-- CreateTable
CREATE TABLE "billing_parties" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "contact_email" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "billing_parties_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stores" (
    "id" UUID NOT NULL,
    "billing_party_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "hold_ttl_seconds" INTEGER NOT NULL DEFAULT 900,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stores_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "terminals" (
    "id" UUID NOT NULL,
    "store_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "api_key_hash" TEXT NOT NULL,
    "api_key_last4" TEXT NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "terminals_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cards" (
    "id" UUID NOT NULL,
    "code_hash" TEXT NOT NULL,
    "code_last4" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "status" "card_status" NOT NULL DEFAULT 'active',
    "available" BIGINT NOT NULL,
    "held" BIGINT NOT NULL DEFAULT 0,
    "version" BIGINT NOT NULL DEFAULT 1,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "issuing_store_id" UUID,
    "channel" "channel" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cards_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "holds" (
    "id" UUID NOT NULL,
    "card_id" UUID NOT NULL,
    "terminal_id" UUID NOT NULL,
    "store_id" UUID NOT NULL,
    "pos_reference" TEXT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "requested_amount" BIGINT NOT NULL,
    "amount" BIGINT NOT NULL,
    "captured_amount" BIGINT NOT NULL DEFAULT 0,
    "refunded_amount" BIGINT NOT NULL DEFAULT 0,
    "status" "hold_status" NOT NULL DEFAULT 'authorized',
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "settled_at" TIMESTAMPTZ(3),
    "request_hash" TEXT,
    "authorize_response" JSONB,
    "settle_request_hash" TEXT,
    "settle_response" JSONB,

    CONSTRAINT "holds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "journal_entries" (
    "id" BIGSERIAL NOT NULL,
    "kind" "entry_kind" NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "card_id" UUID NOT NULL,
    "hold_id" UUID,
    "store_id" UUID,
    "terminal_id" UUID,
    "booked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "journal_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "postings" (
    "id" BIGSERIAL NOT NULL,
    "entry_id" BIGINT NOT NULL,
    "account_kind" "account_kind" NOT NULL,
    "account_ref" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,

    CONSTRAINT "postings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_records" (
    "scope" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "response" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "idempotency_records_pkey" PRIMARY KEY ("scope","key")
);

-- CreateTable
CREATE TABLE "workflow_outbox" (
    "id" BIGSERIAL NOT NULL,
    "workflow_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workflow_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_entries" (
    "id" BIGSERIAL NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "details" JSONB NOT NULL,
    "request_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "orders" (
    "id" UUID NOT NULL,
    "idempotency_key" TEXT,
    "email" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "status" "order_status" NOT NULL DEFAULT 'awaiting_payment',
    "provider" TEXT NOT NULL,
    "payment_id" TEXT,
    "card_id" UUID,
    "refund_id" TEXT,
    "failure_reason" TEXT,
    "paid_at" TIMESTAMPTZ(3),
    "email_sent_at" TIMESTAMPTZ(3),
    "fulfilled_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "orders_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "stores_billing_party_id_idx" ON "stores"("billing_party_id");

-- CreateIndex
CREATE UNIQUE INDEX "terminals_api_key_hash_key" ON "terminals"("api_key_hash");

-- CreateIndex
CREATE INDEX "terminals_store_id_idx" ON "terminals"("store_id");

-- CreateIndex
CREATE UNIQUE INDEX "cards_code_hash_key" ON "cards"("code_hash");

-- CreateIndex
CREATE INDEX "cards_issuing_store_id_idx" ON "cards"("issuing_store_id");

-- CreateIndex
CREATE INDEX "holds_card_id_idx" ON "holds"("card_id");

-- CreateIndex
CREATE INDEX "holds_status_expires_at_idx" ON "holds"("status", "expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "holds_terminal_id_pos_reference_key" ON "holds"("terminal_id", "pos_reference");

-- CreateIndex
CREATE INDEX "journal_entries_card_id_idx" ON "journal_entries"("card_id");

-- CreateIndex
CREATE INDEX "journal_entries_booked_at_idx" ON "journal_entries"("booked_at");

-- CreateIndex
CREATE INDEX "journal_entries_hold_id_idx" ON "journal_entries"("hold_id");

-- CreateIndex
CREATE INDEX "postings_entry_id_idx" ON "postings"("entry_id");

-- CreateIndex
CREATE INDEX "postings_account_kind_account_ref_idx" ON "postings"("account_kind", "account_ref");

-- CreateIndex
CREATE INDEX "idempotency_records_created_at_idx" ON "idempotency_records"("created_at");

-- CreateIndex
CREATE INDEX "audit_entries_subject_idx" ON "audit_entries"("subject");

-- CreateIndex
CREATE INDEX "audit_entries_created_at_idx" ON "audit_entries"("created_at");

-- CreateIndex
CREATE UNIQUE INDEX "orders_idempotency_key_key" ON "orders"("idempotency_key");

-- CreateIndex
CREATE INDEX "orders_status_created_at_idx" ON "orders"("status", "created_at");

-- CreateIndex
CREATE INDEX "orders_payment_id_idx" ON "orders"("payment_id");

-- AddForeignKey
ALTER TABLE "stores" ADD CONSTRAINT "stores_billing_party_id_fkey" FOREIGN KEY ("billing_party_id") REFERENCES "billing_parties"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "terminals" ADD CONSTRAINT "terminals_store_id_fkey" FOREIGN KEY ("store_id") REFERENCES "stores"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cards" ADD CONSTRAINT "cards_issuing_store_id_fkey" FOREIGN KEY ("issuing_store_id") REFERENCES "stores"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "holds" ADD CONSTRAINT "holds_card_id_fkey" FOREIGN KEY ("card_id") REFERENCES "cards"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "holds" ADD CONSTRAINT "holds_terminal_id_fkey" FOREIGN KEY ("terminal_id") REFERENCES "terminals"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "holds" ADD CONSTRAINT "holds_store_id_fkey" FOREIGN KEY ("store_id") REFERENCES "stores"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "postings" ADD CONSTRAINT "postings_entry_id_fkey" FOREIGN KEY ("entry_id") REFERENCES "journal_entries"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "orders" ADD CONSTRAINT "orders_card_id_fkey" FOREIGN KEY ("card_id") REFERENCES "cards"("id") ON DELETE SET NULL ON UPDATE CASCADE;

