// `npm run bench -- card-batch [--count 100000]`
//
// Generating a scratch-card batch: the card-batch workflow's activity body (codes, serials and
// activation codes derived in Node, written set-based per 10,000-card chunk) against a baseline
// that writes the same number of pending cards with one INSERT ... SELECT FROM generate_series in
// SQL (codes hashed by md5 there: no HMAC, no derivation). Runs against DATABASE_URL (migrated,
// e.g. `npm run db:migrate`); the batches it makes are voided afterwards. Last line: one JSON object.

import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { cardSecrets } from '../api/deps.ts';
import { databaseUrlFromEnv, loadConfig } from '../infra/config.ts';
import { connectDatabase } from '../infra/db.ts';
import { CardBatches } from '../services/card-batches.ts';

const log = (line: string) => console.log(`[bench] ${line}`);

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { count: { type: 'string', default: '100000' } } });
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > 100_000) {
    console.error('--count takes 1 to 100000');
    return 2;
  }
  const config = loadConfig();
  const db = connectDatabase(databaseUrlFromEnv());
  try {
    const batches = new CardBatches(db.pool, cardSecrets(config.cardCodeKey));
    const by = { identity: 'bench', name: 'bench' };
    const { batch } = await batches.create({
      count, faceValue: 2_500, currency: 'EUR', validityDays: 365, issuingStoreId: null, issuingPartyId: null,
      serialPrefix: 'BN', by, scope: 'bench', key: randomUUID(),
    });
    const t0 = performance.now();
    for (;;) {
      const { generated } = await batches.generateNextChunk(batch.id, config.cardLifecycle.batchActivationCodeDigits);
      if (generated >= count) break;
    }
    const projectMs = performance.now() - t0;
    await batches.markGenerated(batch.id);
    log(`project: ${count} cards in ${Math.round(projectMs)} ms`);

    const { batch: base } = await batches.create({
      count, faceValue: 2_500, currency: 'EUR', validityDays: 365, issuingStoreId: null, issuingPartyId: null,
      serialPrefix: 'BB', by, scope: 'bench', key: randomUUID(),
    });
    const t1 = performance.now();
    await db.pool.query(
      `INSERT INTO cards (id, code_hash, code_last4, currency, status, available, expires_at, channel, face_value, batch_id, batch_seq, serial, activation_code)
       SELECT gen_random_uuid(), md5($1 || s), right(md5($1 || s), 4), 'EUR', 'pending', 0, now() + interval '1 year', 'pos', 2500, $1::uuid, s,
              'BB' || lpad($3::text, 5, '0') || '-' || lpad(s::text, 6, '0'), lpad((s * 7919 % 10000000000)::text, 10, '0')
         FROM generate_series(1, $2) s`, [base.id, count, base.number]);
    const baselineMs = performance.now() - t1;
    log(`baseline (one SQL statement, md5 codes): ${Math.round(baselineMs)} ms`);
    await batches.markGenerated(base.id);
    for (const id of [batch.id, base.id]) await batches.void(id, by, 'benchmark');
    console.log(JSON.stringify({ bench: 'card-batch', cards: count, project_ms: Math.round(projectMs), baseline_ms: Math.round(baselineMs),
      ratio: Math.round((projectMs / baselineMs) * 100) / 100, cards_per_second: Math.round(count / (projectMs / 1000)) }));
    return 0;
  } finally {
    await db.close();
  }
}
