-- Keys an API client had before its rotations: a replayed create or rotate must not bring one back.
ALTER TABLE "api_clients" ADD COLUMN "retired_key_hashes" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];
