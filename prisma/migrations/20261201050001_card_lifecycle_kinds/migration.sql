-- Card lifecycle (issue #13): the states a card passes through and the journal entry kinds of the
-- operations that move it. Their own migration: a new enum value can only be used once the
-- transaction that added it has committed.
--   pending      printed or issued but not sold: no value, no liability, not spendable
--   deactivated  permanently closed (its remaining value went to breakage or back to the buyer)
ALTER TYPE "card_status" ADD VALUE 'pending';
ALTER TYPE "card_status" ADD VALUE 'deactivated';

-- Entry kinds, one per lifecycle operation (outbound webhooks key on them):
--   activate           a pending card sold at a till: store_sales -> card
--   deactivate         remaining value to breakage, card closed for good
--   deactivate_refund  remaining value back to the sale's source (store or payment provider), card closed
--   clear_balance      value removed for a reason (suspicious activity, card reused, support issue): card -> breakage
--   adjust             a correction up or down against the scheme's adjustments account
--   transfer           value moved from one card to another (merge)
--   extend_expiry      a new expiry date; moves no value (an entry without postings, for the history)
ALTER TYPE "entry_kind" ADD VALUE 'activate';
ALTER TYPE "entry_kind" ADD VALUE 'deactivate';
ALTER TYPE "entry_kind" ADD VALUE 'deactivate_refund';
ALTER TYPE "entry_kind" ADD VALUE 'clear_balance';
ALTER TYPE "entry_kind" ADD VALUE 'adjust';
ALTER TYPE "entry_kind" ADD VALUE 'transfer';
ALTER TYPE "entry_kind" ADD VALUE 'extend_expiry';

-- The scheme's own account for corrections (one per currency).
ALTER TYPE "account_kind" ADD VALUE 'adjustments';
