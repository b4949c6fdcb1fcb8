// Key rotation for personal data at rest: rewrites every sealed value (and its lookup hash) that is
// not under the current PII key, and seals values written before encryption existed. Safe to run
// while the engine serves: each row is rewritten only if it still holds what was read.

import type pg from 'pg';
import { inTransaction } from '../infra/db.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';

interface SealedColumn {
  table: string;
  key: string;
  column: string;
  /** The column holding the value's lookup hash, where the value is looked up. */
  hashColumn?: string;
}

const SEALED: SealedColumn[] = [
  { table: 'orders', key: 'id', column: 'email', hashColumn: 'email_hash' },
  { table: 'users', key: 'id', column: 'email', hashColumn: 'email_hash' },
  { table: 'billing_parties', key: 'id', column: 'contact_email' },
  { table: 'card_buyer_emails', key: 'card_id', column: 'email', hashColumn: 'email_hash' },
];

const BATCH = 500;

/** Re-encrypts under the current key; returns how many values each table had rewritten. */
export async function reencryptPersonalData(pool: pg.Pool, pii: PiiCipher, actor: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const current = `pii:${pii.currentKeyId}:%`;
  for (const c of SEALED) {
    counts[c.table] = 0;
    for (;;) {
      const { rows } = await pool.query<{ id: string; value: string }>(
        `SELECT ${c.key}::text AS id, ${c.column} AS value FROM ${c.table}
          WHERE ${c.column} IS NOT NULL AND ${c.column} NOT LIKE $1 LIMIT $2`, [current, BATCH]);
      if (rows.length === 0) break;
      await inTransaction(pool, async (client) => {
        for (const r of rows) {
          const plain = pii.open(r.value);
          const sets = [`${c.column} = $2`];
          const values: unknown[] = [r.id, pii.seal(plain), r.value];
          if (c.hashColumn) {
            sets.push(`${c.hashColumn} = $4`);
            values.push(pii.lookupHash(plain));
          }
          const updated = await client.query(`UPDATE ${c.table} SET ${sets.join(', ')} WHERE ${c.key}::text = $1 AND ${c.column} = $3`, values);
          counts[c.table]! += updated.rowCount ?? 0;
        }
      });
    }
  }
  await pool.query(
    `INSERT INTO audit_entries (actor, action, subject, details) VALUES ($1, 'pii_reencrypted', 'personal_data', $2)`,
    [actor, JSON.stringify({ keyVersion: pii.currentKeyId, ...counts })]);
  return counts;
}
