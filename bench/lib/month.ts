// A month of a large scheme written straight into the ledger tables, for the benchmarks that need
// millions of rows: per card a sale at one store, then an authorization and a capture (of most of
// it) at another, spread evenly over the month, with the card rows they imply. The ledger's own
// triggers check every chunk (balanced entries, nothing in a frozen period, issuers recorded).

import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import { PiiCipher } from '../../domain/pii-crypto.ts';
import { loadConfig } from '../../infra/config.ts';
import { createApiClient, createBillingParty, createStore, createTerminal } from '../../services/directory.ts';

const CHUNK = 100_000;

/**
 * Writes the month in chunks: per card a sale at one store, then an authorization and a capture
 * (of most of it) at another, spread evenly over the month, with the card rows they imply. The
 * ledger's own triggers check every chunk (balanced entries, nothing in a frozen period).
 */
export async function generateMonth(pool: pg.Pool, starts: Date, ends: Date, n: number, log: (line: string) => void): Promise<void> {
  const started = performance.now();
  const db = await pool.connect();
  try {
    // A chunk's inserts grow slower with the ledger's indexes (past 3,900,000 redemptions one took
    // longer than the pool's statement timeout): this session waits as long as they take.
    await db.query('SET statement_timeout = 0');
    const { rows: [meta] } = await db.query<{ stores: string[]; terminals: string[]; first_entry: string }>(
      `SELECT array_agg(s.id ORDER BY s.name) AS stores, array_agg(t.id ORDER BY s.name) AS terminals,
              (SELECT coalesce(max(id), 0) + 1 FROM journal_entries)::text AS first_entry
         FROM stores s JOIN terminals t ON t.store_id = s.id`);
    const firstEntry = BigInt(meta!.first_entry);
    for (let from = 0; from < n; from += CHUNK) {
      const to = Math.min(n, from + CHUNK) - 1;
      await db.query('BEGIN');
      await db.query(`
        CREATE TEMP TABLE gen ON COMMIT DROP AS
        SELECT i, gen_random_uuid() AS card,
               $1::bigint + i * 3 AS entry,
               (i % cardinality($5::uuid[])) + 1 AS sold_at,
               ((i * 7 + 3) % cardinality($5::uuid[])) + 1 AS redeemed_at,
               (1000 + (i % 40) * 250)::bigint AS amount,
               (500 + (i % 40) * 200)::bigint AS spent,
               $3::timestamptz + ($4::timestamptz - $3::timestamptz - interval '1 minute') * (i::float8 / $2) AS t
          FROM generate_series($6::bigint, $7::bigint) AS i`,
        [firstEntry, n, starts, ends, meta!.stores, from, to]);
      await db.query(`
        INSERT INTO cards (id, code_hash, code_last4, currency, available, held, version, expires_at, issuing_store_id, channel, created_at, updated_at)
        SELECT card, md5(card::text), upper(substr(md5(i::text), 1, 4)), 'EUR', amount - spent, 0, 3,
               t + interval '3 years', ($1::uuid[])[sold_at], 'pos', t, t
          FROM gen`, [meta!.stores]);
      await db.query(`
        INSERT INTO journal_entries (id, kind, currency, card_id, store_id, terminal_id, booked_at, amount)
        SELECT entry, 'issue'::entry_kind, 'EUR', card, ($1::uuid[])[sold_at], ($2::uuid[])[sold_at], t, amount FROM gen
        UNION ALL
        SELECT entry + 1, 'authorize'::entry_kind, 'EUR', card, ($1::uuid[])[redeemed_at], ($2::uuid[])[redeemed_at], t + interval '10 seconds', spent FROM gen
        UNION ALL
        -- The ledger's trigger records each capture's issuing store, as it does for a till's capture.
        SELECT entry + 2, 'capture'::entry_kind, 'EUR', card, ($1::uuid[])[redeemed_at], ($2::uuid[])[redeemed_at], t + interval '20 seconds', spent FROM gen`,
        [meta!.stores, meta!.terminals]);
      await db.query(`
        INSERT INTO postings (entry_id, account_kind, account_ref, amount, currency)
        SELECT entry, 'store_sales'::account_kind, (($1::uuid[])[sold_at])::text, -amount, 'EUR' FROM gen
        UNION ALL SELECT entry, 'card_available'::account_kind, card::text, amount, 'EUR' FROM gen
        UNION ALL SELECT entry + 1, 'card_available'::account_kind, card::text, -spent, 'EUR' FROM gen
        UNION ALL SELECT entry + 1, 'card_held'::account_kind, card::text, spent, 'EUR' FROM gen
        UNION ALL SELECT entry + 2, 'card_held'::account_kind, card::text, -spent, 'EUR' FROM gen
        UNION ALL SELECT entry + 2, 'store_redemptions'::account_kind, (($1::uuid[])[redeemed_at])::text, spent, 'EUR' FROM gen`,
        [meta!.stores]);
      await db.query('COMMIT');
      const done = to + 1;
      const rate = done / ((performance.now() - started) / 1000);
      log(`generated ${done.toLocaleString('en')} / ${n.toLocaleString('en')} redemptions with their sales ` +
        `(${Math.round(rate).toLocaleString('en')}/s, ~${Math.round((n - done) / rate)} s left)`);
    }
    await db.query(`SELECT setval(pg_get_serial_sequence('journal_entries', 'id'), (SELECT max(id) FROM journal_entries))`);
    log('VACUUM ANALYZE of the ledger tables');
    await db.query('VACUUM ANALYZE cards, journal_entries, postings');
  } catch (err) {
    await db.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    db.release();
  }
  log(`month generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}


/** Billing parties with stores and a terminal each; returns a finance API key. */
export async function seedScheme(prisma: PrismaClient, storeCount: number, partyCount: number, log: (line: string) => void): Promise<string> {
  log(`creating ${partyCount} billing parties and ${storeCount} stores`);
  const parties = [];
  for (let i = 0; i < partyCount; i++) {
    parties.push(await createBillingParty(prisma, new PiiCipher(loadConfig().privacy.piiKeys), { name: `Party ${String(i + 1).padStart(2, '0')}`, contactEmail: `party${i + 1}@bench.test` }));
  }
  for (let i = 0; i < storeCount; i++) {
    const store = await createStore(prisma, { billingPartyId: parties[i % partyCount]!.id, name: `Store ${String(i + 1).padStart(3, '0')}` });
    await createTerminal(prisma, { storeId: store.id, name: 'Till 1' });
  }
  return (await createApiClient(prisma, { name: 'Bench finance', role: 'finance' })).apiKey;
}
