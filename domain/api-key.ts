// Terminal API keys carry 192 random bits, so a plain SHA-256 is the right stored form: a slow
// password hash would add latency to every POS call and no security for keys this long.

import { createHash, randomBytes } from 'node:crypto';

const PREFIX = 'vk_';

export function generateApiKey(): string {
  return PREFIX + randomBytes(24).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function apiKeyLast4(key: string): string {
  return key.slice(-4);
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(PREFIX) && value.length === PREFIX.length + 32;
}
