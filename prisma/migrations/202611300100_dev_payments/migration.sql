-- The development payment provider's payments, kept as Stripe keeps PaymentIntents: the purchase
-- re-reads a payment before it issues a card, and a cancel and a "Pay with test card" decide
-- against each other on this row.
CREATE TABLE "dev_payments" (
    "payment_id" TEXT NOT NULL,
    "order_id" UUID NOT NULL,
    "amount" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "status" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "dev_payments_pkey" PRIMARY KEY ("payment_id"),
    CONSTRAINT "dev_payments_status_check" CHECK ("status" IN ('open', 'succeeded', 'canceled'))
);
