-- A cancelled sale: the card's whole value goes back where it came from (the payment provider for
-- an online sale, the store for a till sale). Its own migration: a new enum value can only be used
-- once the transaction that added it has committed.
-- AlterEnum
ALTER TYPE "entry_kind" ADD VALUE 'cancel_sale';
