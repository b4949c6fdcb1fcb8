// `npm run check:ledger`: proves the ledger is sound or exits non-zero.
// Checks that every journal entry sums to zero per currency, that each card's available and
// held balances equal its postings, that held equals the open holds, and that all postings of
// each currency sum to zero (value is only ever moved, never created or lost), and that no value
// is stranded: left on an expired card, or on a card whose expiry was never booked as breakage.

import pg from 'pg';
import { databaseUrlFromEnv } from '../infra/config.ts';

const databaseUrl = databaseUrlFromEnv();
const client = new pg.Client({ connectionString: databaseUrl });
await client.connect();
try {
  // One snapshot for every check, so concurrent traffic cannot produce a false alarm.
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  const { rows: [counts] } = await client.query(`
    SELECT (SELECT count(*) FROM journal_entries) AS entries, (SELECT count(*) FROM postings) AS postings,
           (SELECT count(*) FROM cards) AS cards, (SELECT count(*) FROM holds WHERE status = 'authorized') AS open_holds`);
  const { rows: totals } = await client.query(`
    SELECT account_kind, currency, sum(amount)::text AS total FROM postings GROUP BY 1, 2 ORDER BY 2, 1`);
  const { rows: violations } = await client.query('SELECT violation, subject, detail FROM ledger_violations');
  await client.query('COMMIT');

  console.log(`checked ${counts.entries} journal entries, ${counts.postings} postings, ${counts.cards} cards, ${counts.open_holds} open holds`);
  for (const t of totals) console.log(`  ${t.currency} ${t.account_kind.padEnd(18)} ${t.total}`);
  if (violations.length > 0) {
    console.error(`LEDGER BROKEN: ${violations.length} violation(s)`);
    for (const v of violations.slice(0, 50)) console.error(`  ${v.violation}: ${v.detail}`);
    process.exitCode = 1;
  } else {
    console.log('ledger OK: every entry balances, every card equals its postings, no value is stranded');
  }
} finally {
  await client.end();
}
