// Signatures of outbound webhooks, as Stripe signs its own: the header
//   Voucher-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">[,v1=<…>]
// carries one v1 per secret that currently signs (two during a secret rotation's overlap). A
// receiver recomputes the HMAC over the exact bytes it received and refuses old timestamps, so a
// captured request cannot be replayed later.

import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Voucher-Signature';
/** How old a signed timestamp receivers should accept by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signatureOf(secret: string, timestamp: number, payload: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${payload}`).digest('hex');
}

export function signatureHeader(secrets: string[], timestamp: number, payload: string): string {
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${signatureOf(s, timestamp, payload)}`)].join(',');
}

export type VerifyFailure = 'malformed_header' | 'timestamp_out_of_tolerance' | 'no_matching_signature';

/** What a receiver does (the README shows the same code): true, or why not. */
export function verifySignature(
  header: string | undefined, payload: string, secret: string,
  { toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now = Date.now() } = {},
): { ok: true; timestamp: number } | { ok: false; reason: VerifyFailure } {
  if (!header) return { ok: false, reason: 'malformed_header' };
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  const candidates = parts.filter(([k, v]) => k === 'v1' && /^[0-9a-f]{64}$/.test(v ?? '')).map(([, v]) => Buffer.from(v!, 'hex'));
  if (!Number.isSafeInteger(t) || candidates.length === 0) return { ok: false, reason: 'malformed_header' };
  if (Math.abs(now / 1000 - t) > toleranceSeconds) return { ok: false, reason: 'timestamp_out_of_tolerance' };
  const expected = Buffer.from(signatureOf(secret, t, payload), 'hex');
  return candidates.some((c) => timingSafeEqual(c, expected)) ? { ok: true, timestamp: t } : { ok: false, reason: 'no_matching_signature' };
}
