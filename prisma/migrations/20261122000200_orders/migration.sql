-- CreateEnum
CREATE TYPE "order_status" AS ENUM ('awaiting_payment', 'payment_failed', 'paid', 'issued', 'fulfilled', 'expired', 'refunded', 'failed');

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
CREATE UNIQUE INDEX "orders_idempotency_key_key" ON "orders"("idempotency_key");

-- CreateIndex
CREATE INDEX "orders_status_created_at_idx" ON "orders"("status", "created_at");

-- CreateIndex
CREATE INDEX "orders_payment_id_idx" ON "orders"("payment_id");

-- AddForeignKey
ALTER TABLE "orders" ADD CONSTRAINT "orders_card_id_fkey" FOREIGN KEY ("card_id") REFERENCES "cards"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Money and a card come into being only through the ledger; an order can reach 'issued' or
-- 'fulfilled' only with its card.
ALTER TABLE "orders" ADD CONSTRAINT "orders_amount_positive" CHECK (amount > 0);
ALTER TABLE "orders" ADD CONSTRAINT "orders_fulfilled_has_card"
  CHECK (status NOT IN ('issued', 'fulfilled') OR card_id IS NOT NULL);
