// Fraud limits at the till.
//
// Code guessing: a terminal, or a client address, that sends unknown or invalid card codes is
// slowed after a few failures in a window and locked after more (429 too_many_attempts with
// Retry-After), audited and counted. Counts live in Redis, and in PostgreSQL while Redis is down:
// the limit never lapses with the cache. An admin can lift a lock.
//
// Velocity: limits per card, terminal and store, enforced by the ledger's own transaction (the
// journal_entries_velocity trigger, prisma/migrations/*_velocity_limits). This module writes the
// configured defaults and reads and writes the stores' overrides.

import { Redis } from 'ioredis';
import type pg from 'pg';
import { RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { DomainError } from '../domain/errors.ts';
import type { FraudConfig } from '../infra/config.ts';
import { codeGuessFailures, codeGuessLocks, codeGuessRefusals, velocityDeclines } from '../infra/metrics.ts';
import { audit } from './audit.ts';

/** The counters on /metrics (their names are defined with the others, in infra/metrics.ts). */
export const fraudMetrics = {
  codeFailures: codeGuessFailures, codeRefusals: codeGuessRefusals, codeLocks: codeGuessLocks, velocityDeclines,
};

export interface CodeGuessLock {
  subject: string;
  failures: number;
  lockedAt: string;
  lockedUntil: string;
}

export interface CodeGuard {
  /** Refuses while a subject is locked, and waits first while one is slowed. */
  before(subjects: string[]): Promise<void>;
  /** Counts a failed code attempt against each subject; locks (and refuses) when one crosses the limit. */
  failed(subjects: string[], requestId: string | null): Promise<void>;
  /** Locks in force now. */
  locks(): Promise<CodeGuessLock[]>;
  /** Lifts a subject's lock and forgets its failures; false when it was not locked. */
  lift(subject: string, actor: string, requestId: string | null): Promise<boolean>;
  /**
   * Resolves once Redis answers (or after a short wait, or at once without Redis). Until then the
   * counts go to PostgreSQL, and a subject's failures would be split between the two stores.
   */
  ready(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Subjects are `terminal:<id>` and `address:<ip>`. */
export function codeGuessSubjects(terminalId: string, clientIp: string): string[] {
  return [`terminal:${terminalId}`, `address:${clientIp}`];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The PostgreSQL store, and in front of it Redis where there is one: any Redis failure (down, not
 * ready, timeout) falls through to the PostgreSQL store.
 */
function codeGuessLimiters(pool: pg.Pool, redisUrl: string | null, config: FraudConfig['codeGuessing']) {
  const shape = { points: config.lockAfter, duration: config.windowSeconds, blockDuration: config.lockSeconds };
  const database = new RateLimiterPostgres({
    ...shape, storeClient: pool, storeType: 'pool', tableName: 'code_guess_attempts', tableCreated: true, keyPrefix: 'cg',
  });
  let redis: Redis | null = null;
  let limiter: RateLimiterAbstract = database;
  if (redisUrl) {
    redis = new Redis(redisUrl, {
      enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 200, connectTimeout: 1000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    redis.on('error', () => {});
    limiter = new RateLimiterRedis({
      ...shape, storeClient: redis, keyPrefix: 'vc:cg', rejectIfRedisNotReady: true, insuranceLimiter: database,
    });
  }
  return { database, limiter, redis };
}

function refuse(res: RateLimiterRes): never {
  fraudMetrics.codeRefusals.inc();
  const retryAfter = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  throw new DomainError('too_many_attempts',
    `too many unknown or invalid card codes from this terminal or address; try again in ${retryAfter} s`,
    { retry_after_seconds: retryAfter });
}

async function recordLock(pool: pg.Pool, subject: string, res: RateLimiterRes, requestId: string | null): Promise<void> {
  fraudMetrics.codeLocks.inc({ kind: subject.split(':')[0] });
  const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  await pool.query(
    `INSERT INTO code_guess_locks (subject, failures, locked_until) VALUES ($1, $2, now() + make_interval(secs => $3))
     ON CONFLICT (subject) DO UPDATE SET failures = excluded.failures, locked_at = now(),
       locked_until = excluded.locked_until, lifted_at = NULL, lifted_by = NULL`,
    [subject, res.consumedPoints, seconds]);
  await audit(pool, {
    actor: 'system', action: 'code_guessing_locked', subject,
    details: { failures: res.consumedPoints, lockSeconds: seconds }, requestId,
  });
}

export function createCodeGuard(pool: pg.Pool, redisUrl: string | null, config: FraudConfig['codeGuessing']): CodeGuard {
  const { database, limiter, redis } = codeGuessLimiters(pool, redisUrl, config);

  return {
    async ready(timeoutMs = 2_000) {
      if (!redis || redis.status === 'ready') return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        redis!.once('ready', () => { clearTimeout(timer); resolve(); });
      });
    },

    async before(subjects) {
      const states = await Promise.all(subjects.map((s) => limiter.get(s)));
      const worst = states.reduce<RateLimiterRes | null>((w, s) => (s && (!w || s.consumedPoints > w.consumedPoints) ? s : w), null);
      if (!worst) return;
      if (worst.consumedPoints > config.lockAfter) refuse(worst);
      if (worst.consumedPoints >= config.slowAfter) {
        await sleep(Math.min((worst.consumedPoints - config.slowAfter + 1) * config.slowStepMs, 10_000));
      }
    },

    async failed(subjects, requestId) {
      fraudMetrics.codeFailures.inc();
      let locked: RateLimiterRes | null = null;
      for (const subject of subjects) {
        try {
          await limiter.consume(subject);
        } catch (err) {
          if (!(err instanceof RateLimiterRes)) throw err;
          // Exactly one failure crosses the limit; it records and audits the lock.
          if (err.consumedPoints === config.lockAfter + 1) await recordLock(pool, subject, err, requestId);
          locked = err;
        }
      }
      if (locked) refuse(locked);
    },

    async locks() {
      const { rows } = await pool.query<{ subject: string; failures: number; locked_at: Date; locked_until: Date }>(
        `SELECT subject, failures, locked_at, locked_until FROM code_guess_locks
          WHERE lifted_at IS NULL AND locked_until > now() ORDER BY locked_at DESC LIMIT 500`);
      return rows.map((r) => ({
        subject: r.subject, failures: r.failures, lockedAt: r.locked_at.toISOString(), lockedUntil: r.locked_until.toISOString(),
      }));
    },

    async lift(subject, actor, requestId) {
      // Both stores: the one not in use now may be the one in use after the next Redis outage.
      await Promise.all([
        database.delete(subject),
        limiter === database ? null : (limiter as RateLimiterRedis).delete(subject).catch(() => false),
      ]);
      const { rowCount } = await pool.query(
        `UPDATE code_guess_locks SET lifted_at = now(), lifted_by = $2
          WHERE subject = $1 AND lifted_at IS NULL AND locked_until > now()`, [subject, actor]);
      await audit(pool, { actor, action: 'code_guessing_lock_lifted', subject, details: { wasLocked: (rowCount ?? 0) > 0 }, requestId });
      return (rowCount ?? 0) > 0;
    },

    async close() {
      redis?.disconnect();
    },
  };
}

// ---- Velocity limits -------------------------------------------------------------------------

export const VELOCITY_LIMITS = [
  'cardRedemptionsPerHour', 'cardAmountPerHour', 'cardRedemptionsPerDay', 'cardAmountPerDay',
  'terminalSoldPerDay', 'storeSoldPerDay', 'storeRedeemedPerDay',
] as const;
export type VelocityLimitName = (typeof VELOCITY_LIMITS)[number];
export type VelocityLimits = Record<VelocityLimitName, number | null>;

const COLUMN: Record<VelocityLimitName, string> = {
  cardRedemptionsPerHour: 'card_redemptions_per_hour', cardAmountPerHour: 'card_amount_per_hour',
  cardRedemptionsPerDay: 'card_redemptions_per_day', cardAmountPerDay: 'card_amount_per_day',
  terminalSoldPerDay: 'terminal_sold_per_day', storeSoldPerDay: 'store_sold_per_day', storeRedeemedPerDay: 'store_redeemed_per_day',
};
const COLUMNS = VELOCITY_LIMITS.map((k) => COLUMN[k]);

function limitsOf(row: Record<string, string | number | null>): VelocityLimits {
  return Object.fromEntries(VELOCITY_LIMITS.map((k) => [k, row[COLUMN[k]] === null ? null : Number(row[COLUMN[k]])])) as VelocityLimits;
}

/** Writes the configured defaults (and the centre's time zone, whose days the limits count). */
export async function syncVelocityDefaults(pool: pg.Pool, limits: VelocityLimits, timeZone: string): Promise<void> {
  await pool.query(
    `INSERT INTO velocity_limit_defaults (id, time_zone, ${COLUMNS.join(', ')}, updated_at)
     VALUES (true, $1, ${COLUMNS.map((_, i) => `$${i + 2}`).join(', ')}, now())
     ON CONFLICT (id) DO UPDATE SET time_zone = excluded.time_zone, ${COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')},
       updated_at = now()`,
    [timeZone, ...VELOCITY_LIMITS.map((k) => limits[k])]);
}

export interface StoreVelocityLimits {
  storeId: string;
  /** The store's own values; null = the default applies. */
  overrides: VelocityLimits;
  /** What applies at the store now. */
  effective: VelocityLimits;
  updatedBy: string | null;
  updatedAt: string | null;
}

export async function velocityLimits(pool: pg.Pool): Promise<{ defaults: VelocityLimits; stores: StoreVelocityLimits[] }> {
  const [{ rows: [defaults] }, { rows }] = await Promise.all([
    pool.query(`SELECT ${COLUMNS.join(', ')} FROM velocity_limit_defaults`),
    pool.query(
      `SELECT s.id AS store_id, ${COLUMNS.map((c) => `o.${c}`).join(', ')}, o.updated_by, o.updated_at
         FROM stores s LEFT JOIN store_velocity_limits o ON o.store_id = s.id ORDER BY s.name, s.id LIMIT 5000`),
  ]);
  const base = limitsOf(defaults ?? {});
  return {
    defaults: base,
    stores: rows.map((r) => {
      const overrides = limitsOf(r);
      const effective = Object.fromEntries(VELOCITY_LIMITS.map((k) => [k, overrides[k] ?? base[k]])) as VelocityLimits;
      return { storeId: r.store_id, overrides, effective, updatedBy: r.updated_by, updatedAt: r.updated_at?.toISOString() ?? null };
    }),
  };
}

/** Replaces a store's overrides (null = use the default); all null removes them. Audited. */
export async function setStoreVelocityLimits(
  pool: pg.Pool, storeId: string, overrides: VelocityLimits, actor: string, requestId: string | null,
): Promise<void> {
  const values = VELOCITY_LIMITS.map((k) => overrides[k]);
  try {
    if (values.every((v) => v === null)) {
      await pool.query('DELETE FROM store_velocity_limits WHERE store_id = $1', [storeId]);
      const { rowCount } = await pool.query('SELECT 1 FROM stores WHERE id = $1', [storeId]);
      if (!rowCount) throw new DomainError('not_found', 'no such store');
    } else {
      await pool.query(
        `INSERT INTO store_velocity_limits (store_id, ${COLUMNS.join(', ')}, updated_by, updated_at)
         VALUES ($1, ${COLUMNS.map((_, i) => `$${i + 2}`).join(', ')}, $${COLUMNS.length + 2}, now())
         ON CONFLICT (store_id) DO UPDATE SET ${COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')},
           updated_by = excluded.updated_by, updated_at = now()`,
        [storeId, ...values, actor]);
    }
  } catch (err) {
    if ((err as { code?: string }).code === '23503') throw new DomainError('not_found', 'no such store');
    throw err;
  }
  await audit(pool, { actor, action: 'store_limits_set', subject: `store:${storeId}`, details: { overrides }, requestId });
}
