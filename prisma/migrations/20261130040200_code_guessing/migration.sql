-- Code guessing at the till: failed code attempts per terminal and per client address are counted
-- in Redis, and in PostgreSQL while Redis is down (never "no limit"). code_guess_attempts is
-- rate-limiter-flexible's own PostgreSQL layout (key, points, expire in epoch ms); code_guess_locks
-- lists the locks it imposed, for admins to see and lift.

CREATE TABLE "code_guess_attempts" (
    "key" VARCHAR(255) NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "code_guess_attempts_pkey" PRIMARY KEY ("key")
);

CREATE TABLE "code_guess_locks" (
    "subject" TEXT NOT NULL,
    "failures" INTEGER NOT NULL,
    "locked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "locked_until" TIMESTAMPTZ(3) NOT NULL,
    "lifted_at" TIMESTAMPTZ(3),
    "lifted_by" TEXT,

    CONSTRAINT "code_guess_locks_pkey" PRIMARY KEY ("subject")
);

CREATE INDEX "code_guess_locks_locked_until_idx" ON "code_guess_locks"("locked_until");
