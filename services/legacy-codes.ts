// Which stored hash a code a till typed stands for: one of our codes (check character), or a code
// imported from a legacy system under one of the formats imports have registered. A till's call
// stays one round trip for our codes; only a code that could be read two ways is looked up first.

import type pg from 'pg';
import { hasCardCodeShape, hashCardCode, normalizeCardCode } from '../domain/card-code.ts';
import { isLegacyCodeFormat, normalizeLegacyCode, type LegacyCodeFormat } from '../domain/legacy-code.ts';

/** How long a process trusts its copy of the registered formats (a miss refreshes it sooner). */
const FORMATS_TTL_MS = 5_000;
const MISS_REFRESH_MS = 250;

const cached = new WeakMap<pg.Pool, { formats: LegacyCodeFormat[]; at: number }>();

async function registeredFormats(pool: pg.Pool, maxAgeMs = FORMATS_TTL_MS): Promise<LegacyCodeFormat[]> {
  const hit = cached.get(pool);
  if (hit && Date.now() - hit.at < maxAgeMs) return hit.formats;
  let formats: LegacyCodeFormat[];
  try {
    const { rows } = await pool.query<{ format: string }>('SELECT format FROM legacy_code_formats ORDER BY created_at, format');
    formats = rows.map((r) => r.format).filter(isLegacyCodeFormat);
  } catch (err) {
    // Lookups answered from the balance cache keep working while PostgreSQL is away.
    if (hit) return hit.formats;
    throw err;
  }
  cached.set(pool, { formats, at: Date.now() });
  return formats;
}

/** Hashes a typed code may stand for, ours first; empty when it is no code at all. */
export function candidateCodeHashes(input: string, formats: readonly LegacyCodeFormat[], hashKey: Buffer): string[] {
  const readings = [normalizeCardCode(input), ...formats.map((f) => normalizeLegacyCode(input, f))];
  return [...new Set(readings.filter((r): r is string => r !== null))].map((code) => hashCardCode(code, hashKey));
}

/**
 * The hash to look the card up by, or null for input that is no code of any known format. When a
 * code reads two ways (rare: a legacy code in our alphabet), the one a card exists for wins.
 */
export async function resolveCodeHash(pool: pg.Pool, input: string, hashKey: Buffer): Promise<string | null> {
  let hashes = candidateCodeHashes(input, await registeredFormats(pool), hashKey);
  // An import may have registered a format since this process last looked: look once more.
  if (hashes.length === 0) hashes = candidateCodeHashes(input, await registeredFormats(pool, MISS_REFRESH_MS), hashKey);
  // Shaped like our code but failing its check character: a till's typo, answered as an invalid
  // code (the code-guessing limits count it), unless a legacy card really has that code.
  const mistypedOurs = normalizeCardCode(input) === null && hasCardCodeShape(input);
  if (hashes.length <= 1 && !mistypedOurs) return hashes[0] ?? null;
  if (hashes.length === 0) return null;
  const { rows } = await pool.query<{ code_hash: string }>('SELECT code_hash FROM cards WHERE code_hash = ANY($1)', [hashes]);
  const existing = hashes.find((h) => rows.some((r) => r.code_hash === h));
  return mistypedOurs ? existing ?? null : existing ?? hashes[0]!;
}
