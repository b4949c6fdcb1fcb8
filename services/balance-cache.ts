// Card balances cached in Redis for lookups. The cache is never used to authorize: the ledger
// decides. Writes carry the card's version and a Lua compare-and-set keeps only the newest, so
// concurrent updates finishing out of order cannot put an old balance back. When Redis is
// unreachable every call degrades to a miss (reads) or a no-op (writes) within milliseconds.

import { Redis } from 'ioredis';
import { cacheLookups } from '../infra/metrics.ts';

export interface CachedBalance {
  cardId: string;
  last4: string;
  currency: string;
  status: string;
  available: string;
  held: string;
  version: string;
  expiresAt: string;
  /**
   * With value held: the instant the soonest of its holds expires. The ledger counts that hold as
   * released from then on, so the entry is not served past it. An entry with value held and no
   * validUntil is never served.
   */
  validUntil?: string;
}

// Bounds how long a refresh that timed out without Redis reporting an error can leave an older
// balance on display (lookups only; the ledger never reads the cache).
const TTL_SECONDS = 300;

/** Whether an entry may be served now: one showing held value only before its soonest hold expiry. */
export function servable(balance: CachedBalance, now = Date.now()): boolean {
  if (Number(balance.held) === 0) return true;
  return balance.validUntil !== undefined && Date.parse(balance.validUntil) > now;
}

/** Redis keeps an entry at most TTL_SECONDS, and one with value held no longer than its hold. */
function ttlSeconds(balance: CachedBalance, now = Date.now()): number {
  if (Number(balance.held) === 0 || balance.validUntil === undefined) return TTL_SECONDS;
  return Math.max(1, Math.min(TTL_SECONDS, Math.ceil((Date.parse(balance.validUntil) - now) / 1000)));
}

// KEYS[1] balance key; ARGV[1] version, ARGV[2] json, ARGV[3] ttl
const SET_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'b', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1`;

export interface BalanceCache {
  get(codeHash: string): Promise<CachedBalance | null>;
  put(codeHash: string, balance: CachedBalance): Promise<void>;
  evict(codeHash: string): Promise<void>;
  readonly enabled: boolean;
  /** Throws when Redis does not answer (readiness reports it; nothing else depends on it). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

function key(codeHash: string): string {
  return `vc:bal:${codeHash}`;
}

/** No Redis configured: every lookup reads PostgreSQL. */
function disabledCache(): BalanceCache {
  return {
    enabled: false,
    async get() { return null; },
    async put() {},
    async evict() {},
    async ping() {},
    async close() {},
  };
}

/** A client that fails fast, and after an outage drops what it may have missed. */
function connectRedis(redisUrl: string, log: (msg: string) => void): Redis {
  const redis = new Redis(redisUrl, {
    // Fail fast instead of queueing: a lookup must fall back to PostgreSQL, not wait for Redis.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 100,
    connectTimeout: 1000,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let down = false;
  redis.on('error', (err) => {
    if (!down) log(`balance cache unavailable, serving from PostgreSQL: ${err.message}`);
    down = true;
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    log('balance cache back; dropping entries that may have missed updates');
    void purge();
  });
  // Refreshes that failed during the outage may have left older balances behind.
  async function purge(): Promise<void> {
    try {
      const stream = redis.scanStream({ match: 'vc:bal:*', count: 500 });
      for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.unlink(...keys);
    } catch {
      /* entries also expire on their own */
    }
  }
  redis.defineCommand('setIfNewer', { numberOfKeys: 1, lua: SET_IF_NEWER });
  return redis;
}

export function createBalanceCache(redisUrl: string | null, log: (msg: string) => void = () => {}): BalanceCache {
  if (!redisUrl) return disabledCache();
  const redis = connectRedis(redisUrl, log);

  return {
    enabled: true,
    async get(codeHash) {
      try {
        const json = await redis.hget(key(codeHash), 'b');
        const balance = json ? (JSON.parse(json) as CachedBalance) : null;
        if (balance && !servable(balance)) {
          // A hold in it has expired: the ledger no longer counts it, so neither may a lookup.
          // Dropped, so the fresh balance read next can take its place at the same version.
          cacheLookups.inc({ result: 'miss' });
          await redis.del(key(codeHash));
          return null;
        }
        cacheLookups.inc({ result: balance ? 'hit' : 'miss' });
        return balance;
      } catch {
        cacheLookups.inc({ result: 'error' });
        return null;
      }
    },
    async put(codeHash, balance) {
      try {
        if (!servable(balance)) {
          // Nothing says until when its held value is true: keep no balance for this card.
          await redis.del(key(codeHash));
          return;
        }
        await (redis as unknown as { setIfNewer(...args: string[]): Promise<number> }).setIfNewer(
          key(codeHash), balance.version, JSON.stringify(balance), String(ttlSeconds(balance)));
      } catch {
        // A missed refresh only makes the next lookup read PostgreSQL.
      }
    },
    async evict(codeHash) {
      try {
        await redis.del(key(codeHash));
      } catch {
        /* same as above */
      }
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      redis.disconnect();
    },
  };
}
