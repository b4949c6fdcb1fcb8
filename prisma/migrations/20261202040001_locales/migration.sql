-- The language of a shopper's mails and voucher PDF (chosen on the shop page) and of a billing
-- party's statements. Existing rows keep English, the language everything was sent in so far.
ALTER TABLE orders ADD COLUMN locale TEXT NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'de'));
ALTER TABLE billing_parties ADD COLUMN locale TEXT NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'de'));
