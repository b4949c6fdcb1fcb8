// Fixed-window rate limits in Redis, for public endpoints that cost money or capacity (each order
// creates a payment and a workflow). Fails open: without Redis, requests are not limited. Taking
// the shop down with the cache would be worse than a burst.

import { Redis } from 'ioredis';
import { rateLimitRefusals } from '../infra/metrics.ts';

export interface RateLimiter {
  /** Counts a hit; false when `key` has exceeded `limit` in the current window. */
  allow(key: string, limit: number, windowSeconds: number): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
  close(): Promise<void>;
}

const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('TTL', KEYS[1])}`;

export function createRateLimiter(redisUrl: string | null, commandTimeoutMs = 100): RateLimiter {
  if (!redisUrl) return { async allow() { return { allowed: true, retryAfterSeconds: 0 }; }, async close() {} };
  const redis = new Redis(redisUrl, {
    enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: commandTimeoutMs, connectTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  redis.on('error', () => {});
  redis.defineCommand('hit', { numberOfKeys: 1, lua: HIT });
  return {
    async allow(key, limit, windowSeconds) {
      try {
        const [count, ttl] = await (redis as unknown as { hit(k: string, w: string): Promise<[number, number]> })
          .hit(`vc:rl:${key}`, String(windowSeconds));
        const allowed = count <= limit;
        // The key's prefix names the limit (orders:<address>, sign-in:<address>): a bounded label.
        if (!allowed) rateLimitRefusals.inc({ limit: key.split(':')[0]!.replaceAll('-', '_') });
        return { allowed, retryAfterSeconds: Math.max(ttl, 1) };
      } catch {
        return { allowed: true, retryAfterSeconds: 0 };
      }
    },
    async close() {
      redis.disconnect();
    },
  };
}
