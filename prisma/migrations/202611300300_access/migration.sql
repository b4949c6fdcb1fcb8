-- Sign-in throttling, single-use TOTP steps, recovery codes, sessions that remember their second
-- factor, expiring back-office API keys, and revocation notices for every API replica.

-- One row per e-mail address as typed (known or not, so the answers cannot tell them apart) and per
-- client address ('' is the account's total over all addresses). An attempt is counted here before
-- the password or code is checked.
CREATE TABLE "sign_in_throttles" (
    "email" TEXT NOT NULL,
    "client" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "blocked_until" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sign_in_throttles_pkey" PRIMARY KEY ("email", "client")
);

-- The last TOTP time step accepted: a code is good once.
ALTER TABLE "users" ADD COLUMN "totp_last_step" BIGINT;

-- A session opened without a second factor ends when the user comes to need one.
ALTER TABLE "sessions" ADD COLUMN "second_factor_verified" BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE "recovery_codes" (
    "user_id" UUID NOT NULL,
    "code_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "used_at" TIMESTAMPTZ(3),

    CONSTRAINT "recovery_codes_pkey" PRIMARY KEY ("user_id", "code_hash")
);
ALTER TABLE "recovery_codes" ADD CONSTRAINT "recovery_codes_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "api_clients" ADD COLUMN "expires_at" TIMESTAMPTZ(3);
ALTER TABLE "api_clients" ADD COLUMN "rotated_at" TIMESTAMPTZ(3);

-- Every API replica caches key lookups; this tells them all, through LISTEN, when a key stops
-- being valid (revoked, rotated, expiry moved), whichever code path changed the row.
CREATE FUNCTION notify_terminal_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.revoked_at IS DISTINCT FROM OLD.revoked_at OR NEW.api_key_hash IS DISTINCT FROM OLD.api_key_hash THEN
    PERFORM pg_notify('api_key_changed', 'terminals:' || OLD.api_key_hash);
  END IF;
  RETURN NEW;
END $$;

CREATE FUNCTION notify_api_client_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.revoked_at IS DISTINCT FROM OLD.revoked_at OR NEW.api_key_hash IS DISTINCT FROM OLD.api_key_hash
     OR NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
    PERFORM pg_notify('api_key_changed', 'api_clients:' || OLD.api_key_hash);
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER terminals_key_changed AFTER UPDATE ON "terminals"
  FOR EACH ROW EXECUTE FUNCTION notify_terminal_key_change();
CREATE TRIGGER api_clients_key_changed AFTER UPDATE ON "api_clients"
  FOR EACH ROW EXECUTE FUNCTION notify_api_client_key_change();
