-- Sixteen audit chains instead of one. Every ledger call appends an audit entry in its own
-- transaction, and one chain head serialised every till's authorize and capture from that append
-- to its commit (the head's row lock is held to the end of the transaction). Each entry now goes
-- to chain (backend pid mod 16): one connection runs one transaction at a time, so two appends
-- only wait for each other when their connections share a chain. Each chain is what the one chain
-- was: seq runs 1..n without a gap, every entry names its predecessor's hash, and its head holds
-- its last entry; `npm run check:audit` follows all sixteen. The entries chained so far form
-- chain 0, unchanged (their hashes do not cover the chain number: moving an entry to another
-- chain leaves a gap in the chain it left, which the check reports). The order of all entries is
-- their id's; seq orders within a chain.

ALTER TABLE audit_chain_head DROP CONSTRAINT audit_chain_head_pkey;
ALTER TABLE audit_chain_head DROP COLUMN only_row;
ALTER TABLE audit_chain_head ADD COLUMN chain smallint NOT NULL DEFAULT 0;
ALTER TABLE audit_chain_head ALTER COLUMN chain DROP DEFAULT;
ALTER TABLE audit_chain_head ADD CONSTRAINT audit_chain_head_pkey PRIMARY KEY (chain);
ALTER TABLE audit_chain_head ADD CONSTRAINT audit_chain_head_chain_range CHECK (chain BETWEEN 0 AND 15);
INSERT INTO audit_chain_head (chain, seq, hash) SELECT c, 0, repeat('0', 64) FROM generate_series(1, 15) c;

ALTER TABLE audit_entries ADD COLUMN chain smallint NOT NULL DEFAULT 0;
DROP INDEX audit_entries_seq_key;
CREATE UNIQUE INDEX audit_entries_chain_seq_key ON audit_entries (chain, seq);

CREATE OR REPLACE FUNCTION audit_chain_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_head audit_chain_head;
BEGIN
  NEW.chain := pg_backend_pid() % 16;
  SELECT * INTO v_head FROM audit_chain_head WHERE chain = NEW.chain FOR UPDATE;
  NEW.seq := v_head.seq + 1;
  NEW.prev_hash := v_head.hash;
  -- The column keeps milliseconds: hash the value as it will be stored.
  NEW.created_at := now()::timestamptz(3);
  NEW.details := coalesce(NEW.details, '{}'::jsonb);
  NEW.hash := audit_entry_hash(NEW);
  UPDATE audit_chain_head SET seq = NEW.seq, hash = NEW.hash WHERE chain = NEW.chain;
  RETURN NEW;
END $$;
