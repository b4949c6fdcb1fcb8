-- Personal data at rest: shoppers' and users' e-mail addresses and billing parties' contact
-- addresses are stored sealed (AES-256-GCM under a versioned key from PII_KEYS, see
-- domain/pii-crypto.ts). What must be found by address is found by a keyed hash of the normalised
-- address (`email_hash`), never by the address. Rows written before this migration are sealed by
-- `npm run pii:reencrypt`.

-- Users sign in by the hash of their address; the sealed address itself is unique per row anyway.
ALTER TABLE users DROP CONSTRAINT users_email_lower;
DROP INDEX users_email_key;
ALTER TABLE users ADD COLUMN email_hash TEXT;
CREATE UNIQUE INDEX users_email_hash_key ON users (email_hash);

-- An order's address is erased after the retention period or on request; the order (and the
-- ledger's entries for its card) stay.
ALTER TABLE orders ALTER COLUMN email DROP NOT NULL;
ALTER TABLE orders ADD COLUMN email_hash TEXT, ADD COLUMN pii_erased_at TIMESTAMPTZ(3);
CREATE INDEX orders_email_hash_idx ON orders (email_hash);
-- Housekeeping finds the orders whose address is due for erasure without reading the rest.
CREATE INDEX orders_pii_due_idx ON orders (created_at) WHERE pii_erased_at IS NULL;
-- ...and the expired orders it may forget.
CREATE INDEX orders_expired_idx ON orders (updated_at) WHERE status = 'expired';
