-- Legacy import: the entry kinds and the equity account it books with. Their own migration: a new
-- enum value can only be used once the transaction that added it has committed.
-- import_opening: a voucher's balance as the old system left it, migration -> card_available.
-- legacy_history: one transaction of the old system, with its original time; a memo entry without
-- postings (the opening balance already holds its effect), so it never moves a balance twice.
ALTER TYPE "entry_kind" ADD VALUE 'import_opening';
ALTER TYPE "entry_kind" ADD VALUE 'legacy_history';
ALTER TYPE "account_kind" ADD VALUE 'migration';
