// A clearing period is written YYYY-MM from 2000 on. The pattern is defined once
// (domain/period.ts, PERIOD_PATTERN); the database's CHECK and clearing_open_period() must test
// the same, and the OpenAPI document publishes it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { inject } from 'vitest';
import { isPeriod, PERIOD_PATTERN } from '../../domain/period.ts';

let pool: pg.Pool;
beforeAll(() => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
});
afterAll(async () => {
  await pool.end();
});

const SAMPLES = ['2026-11', '2000-01', '2999-12', '1999-12', '2026-13', '2026-00', '2026-1', '26-11', '2026-11-01', ' 2026-11', '３０２６-11', ''];

describe('period format', () => {
  it('is the pattern of the CHECK on clearing_periods and of clearing_open_period()', async () => {
    const { rows: [check] } = await pool.query<{ def: string }>(
      "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'clearing_periods_period_format'");
    expect(check!.def).toContain(`'${PERIOD_PATTERN}'`);
    const { rows: [fn] } = await pool.query<{ def: string }>(
      "SELECT pg_get_functiondef('clearing_open_period(text, text)'::regprocedure) AS def");
    expect(fn!.def).toContain(`'${PERIOD_PATTERN}'`);
  });

  it('accepts and refuses the same periods in TypeScript and in PostgreSQL', async () => {
    for (const sample of SAMPLES) {
      const { rows: [r] } = await pool.query<{ ok: boolean }>('SELECT $1 ~ $2 AS ok', [sample, PERIOD_PATTERN]);
      expect({ sample, ok: isPeriod(sample) }).toEqual({ sample, ok: r!.ok });
    }
    // The database refuses a malformed period before it writes anything.
    await expect(pool.query("SELECT clearing_open_period('2026-13', 'Europe/Berlin')")).rejects.toThrow();
  });
});
