// A clearing's history is bounded: each computation adds a child workflow per party, so a period
// is computed a limited number of times (MAX_COMPUTATIONS; smaller here). Then a rerun is refused
// and the period can still be approved.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from '../../services/directory.ts';
import { clearingProgressQuery, clearingWorkflow, MAX_COMPUTATIONS } from '../../workflows/clearing.ts';
import { call, startHarness, waitFor, type Harness } from '../helpers/harness.ts';

let h: Harness;
let finance: string;

beforeAll(async () => {
  h = await startHarness();
  finance = (await createApiClient(h.deps.db.prisma, { name: 'Finance bounds', role: 'finance' })).apiKey;
});
afterAll(async () => {
  await h?.close();
});

describe('clearing history bound', () => {
  it('refuses a rerun once the period was computed the most times, and still closes on approval', async () => {
    expect(MAX_COMPUTATIONS).toBeGreaterThan(1);
    // A month of its own: the namespace keeps the clearings of earlier runs.
    const period = `${2000 + Math.floor(Math.random() * 24)}-${String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')}`;
    const handle = await h.client.workflow.start(clearingWorkflow, {
      workflowId: `clearing-${period}`, taskQueue: h.config.taskQueue, args: [{ period, maxComputations: 2 }],
      workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    });
    const awaiting = (runs: number) => waitFor(async () => {
      const progress = await handle.query(clearingProgressQuery);
      return progress.step === 'awaiting_approval' && progress.runs === runs;
    }, 30_000, 200);
    await awaiting(1);
    const rerun = () => call(h, 'POST', `/v1/clearing/periods/${period}/rerun`, { key: finance, idempotencyKey: randomUUID() });
    expect((await rerun()).status).toBe(200);
    await awaiting(2);

    const refused = await rerun();
    expect([refused.status, refused.body.error.code]).toEqual([409, 'clearing_not_awaiting_approval']);
    expect(refused.body.error.message).toContain('computed 2 times');
    expect((await handle.query(clearingProgressQuery)).runs).toBe(2);

    const approved = await call(h, 'POST', `/v1/clearing/periods/${period}/approve`, { key: finance, idempotencyKey: randomUUID() });
    expect(approved.status).toBe(200);
    await expect(handle.result()).resolves.toMatchObject({ step: 'closed', runs: 2 });
  });
});
