// The lint rule that keeps imports one way (eslint.config.js) refuses what the README's
// architecture section forbids, and lets through what it allows.

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages.map((m) => m.ruleId ?? m.message);
}

describe('import boundaries', () => {
  it('refuses backward imports', async () => {
    expect(await problems('domain/x.ts', "import { Ledger } from '../services/ledger.ts';\nexport const x = Ledger;\n"))
      .toContain('import-x/no-restricted-paths');
    expect(await problems('services/x.ts', "import type { AppDeps } from '../api/deps.ts';\nexport type X = AppDeps;\n"))
      .toContain('import-x/no-restricted-paths');
    expect(await problems('api/routers/x.ts', "import { posRouter } from './pos.ts';\nexport const x = posRouter;\n"))
      .toContain('import-x/no-restricted-paths');
    expect(await problems('api/x.ts', "import { createActivities } from '../activities/index.ts';\nexport const x = createActivities;\n"))
      .toContain('import-x/no-restricted-paths');
    expect(await problems('api/x.ts', "import { purchaseWorkflow } from '../workflows/purchase.ts';\nexport const x = purchaseWorkflow;\n"))
      .toContain('import-x/no-restricted-paths');
    expect(await problems('infra/config-x.ts', "import { Ledger } from '../services/ledger.ts';\nexport const x = Ledger;\n"))
      .toContain('import-x/no-restricted-paths');
  });

  it('keeps workflow code free of activity implementations and I/O', async () => {
    expect(await problems('workflows/x.ts', "import { createActivities } from '../activities/index.ts';\nexport const x = createActivities;\n"))
      .toContain('@typescript-eslint/no-restricted-imports');
    expect(await problems('workflows/x.ts', "import { Client } from '@temporalio/client';\nexport const x = Client;\n"))
      .toContain('@typescript-eslint/no-restricted-imports');
    expect(await problems('workflows/x.ts', "import type { PurchaseActivities } from '../activities/purchase.ts';\nexport type X = PurchaseActivities;\n"))
      .toEqual([]);
  });

  it('keeps SQL, Prisma and balance-cache writes out of api/ and activities/', async () => {
    const refused = [
      ['api/routers/x.ts', "import pg from 'pg';\nexport const x = pg;\n", '@typescript-eslint/no-restricted-imports'],
      ['activities/x.ts', "import { inTransaction } from '../infra/db.ts';\nexport const x = inTransaction;\n", '@typescript-eslint/no-restricted-imports'],
      ['api/x.ts', "export const x = (ctx: any) => ctx.deps.db.pool.query('SELECT 1');\n", 'no-restricted-syntax'],
      ['activities/x.ts', "export const x = (deps: any) => deps.pool.query('SELECT 1');\n", 'no-restricted-syntax'],
      ['api/routers/x.ts', "export const x = (ctx: any) => ctx.deps.db.prisma.order.findMany();\n", 'no-restricted-syntax'],
      ['activities/x.ts', "export const x = ({ prisma }: any) => prisma.order.update({});\n", 'no-restricted-syntax'],
      ['api/routers/x.ts', "import { cacheCard } from '../../services/card-view.ts';\nexport const x = (c: any, d: any) => cacheCard(c, d);\n", 'no-restricted-syntax'],
    ] as const;
    for (const [file, code, rule] of refused) expect(await problems(file, code), code).toContain(rule);
    // Types, and handing the pool or client on to a store, stay allowed.
    expect(await problems('activities/x.ts', "import type pg from 'pg';\nimport { cardsDueForExpiry } from '../stores/cards.ts';\nexport const x = (pool: pg.Pool) => cardsDueForExpiry(pool, 1);\n"))
      .toEqual([]);
    expect(await problems('api/x.ts', "import { findOrder } from '../services/orders.ts';\nexport const x = (ctx: any) => findOrder(ctx.deps.db.prisma, 'id');\n"))
      .toEqual([]);
    // Stores and services are where queries live.
    expect(await problems('stores/x.ts', "import type pg from 'pg';\nexport const x = (pool: pg.Pool) => pool.query('SELECT 1');\n")).toEqual([]);
  });

  it('allows the forward direction', async () => {
    expect(await problems('api/x.ts', "import { startPurchase } from '../workflows/clients/purchase.ts';\nexport const x = startPurchase;\n"))
      .toEqual([]);
    expect(await problems('services/x.ts', "import { DomainError } from '../domain/errors.ts';\nexport const x = DomainError;\n"))
      .toEqual([]);
  });
});
