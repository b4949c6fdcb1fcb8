// A pending card (printed, not sold) straight in the database, as a scratch-card batch leaves it.

import type { Harness } from './harness.ts';
import { cardCodeLast4, formatCardCode, generateCardCode, hashCardCode } from '../../domain/card-code.ts';

export async function pendingCard(h: Harness, opts: { faceValue?: number | null; currency?: string } = {}): Promise<{ code: string; id: string }> {
  const code = generateCardCode();
  const { rows: [row] } = await h.deps.db.pool.query<{ id: string }>(
    `INSERT INTO cards (id, code_hash, code_last4, currency, status, available, expires_at, channel, face_value)
     VALUES (gen_random_uuid(), $1, $2, $3, 'pending', 0, now() + interval '1 year', 'pos', $4) RETURNING id`,
    [hashCardCode(code, h.deps.secrets.hashKey), cardCodeLast4(code), opts.currency ?? 'EUR', opts.faceValue === undefined ? 2_500 : opts.faceValue]);
  return { code: formatCardCode(code), id: row!.id };
}
