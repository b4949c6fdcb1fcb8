// Terminal API keys carry 192 random bits, so a plain SHA-256 is the right stored form: a slow
// password hash would add latency to every POS call and no security for keys this long.

import { createHash, randomBytes } from 'node:crypto';

/** Terminal keys; back-office API clients have their own prefix, so neither works as the other. */
export const TERMINAL_KEY_PREFIX = 'vk_';
export const BACKOFFICE_KEY_PREFIX = 'vb_';

export function generateApiKey(prefix = TERMINAL_KEY_PREFIX): string {
  return prefix + randomBytes(24).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function apiKeyLast4(key: string): string {
  return key.slice(-4);
}

export function looksLikeApiKey(value: string, prefix = TERMINAL_KEY_PREFIX): boolean {
  return value.startsWith(prefix) && value.length === prefix.length + 32;
}
