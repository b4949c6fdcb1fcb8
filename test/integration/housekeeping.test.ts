// The daily housekeeping schedule and what its workflow does.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { engineSchedules, ensureSchedules, HOUSEKEEPING_SCHEDULE_ID } from '../../infra/schedules.ts';
import { housekeepingWorkflow } from '../../workflows/housekeeping.ts';
import { cardSecrets } from '../../api/deps.ts';
import { seedDemo } from '../../services/demo-seed.ts';
import { call, startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.client.schedule.getHandle(HOUSEKEEPING_SCHEDULE_ID).delete().catch(() => {});
  await h?.close();
});

describe('housekeeping', () => {
  it('is scheduled daily at 03:30 Berlin time, and re-registering applies changed settings', async () => {
    await ensureSchedules(h.client, engineSchedules(h.config.taskQueue, 72));
    await ensureSchedules(h.client, engineSchedules(h.config.taskQueue, 48));
    const schedule = await h.client.schedule.getHandle(HOUSEKEEPING_SCHEDULE_ID).describe();
    expect(schedule.spec.timezone).toBe('Europe/Berlin');
    expect(schedule.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 3, end: 3, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }] });
    expect(schedule.policies.overlap).toBe('SKIP');
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'housekeepingWorkflow', taskQueue: h.config.taskQueue });
    expect((schedule.action as { args: unknown[] }).args).toEqual([{ idempotencyRetentionHours: 48 }]);
    const next = schedule.info.nextActionTimes[0]!;
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' }).format(next)).toBe('03:30');
  });

  it('forgets idempotency records past the retention window and keeps recent ones', async () => {
    const scope = `test-${randomUUID()}`;
    await h.deps.db.pool.query(
      `INSERT INTO idempotency_records (scope, key, request_hash, response, created_at) VALUES
         ($1, 'old', 'h', '{}', now() - interval '73 hours'), ($1, 'recent', 'h', '{}', now() - interval '1 hour')`, [scope]);
    const result = await h.client.workflow.execute(housekeepingWorkflow, {
      workflowId: `housekeeping-test-${randomUUID()}`, taskQueue: h.config.taskQueue, args: [{ idempotencyRetentionHours: 72 }],
    });
    expect(result.purged).toBeGreaterThanOrEqual(1);
    const { rows } = await h.deps.db.pool.query('SELECT key FROM idempotency_records WHERE scope = $1', [scope]);
    expect(rows.map((r) => r.key)).toEqual(['recent']);
  });

  /** Ages the given idempotency records past retention and runs the real purge. */
  async function purgeAfterRetention(scope: string, keys: string[]): Promise<void> {
    await h.deps.db.pool.query(
      `UPDATE idempotency_records SET created_at = now() - interval '100 hours' WHERE scope = $1 AND key = ANY($2)`, [scope, keys]);
    await h.client.workflow.execute(housekeepingWorkflow, {
      workflowId: `housekeeping-test-${randomUUID()}`, taskQueue: h.config.taskQueue, args: [{ idempotencyRetentionHours: 72 }],
    });
    const { rowCount } = await h.deps.db.pool.query('SELECT 1 FROM idempotency_records WHERE scope = $1 AND key = ANY($2)', [scope, keys]);
    expect(rowCount).toBe(0);
  }

  it('answers a till that re-uses a sale\'s Idempotency-Key after retention with a clear refusal, and changes nothing', async () => {
    const key = randomUUID();
    const first = await call(h, 'POST', '/v1/cards', { body: { amount: 2_000, currency: 'EUR' }, idempotencyKey: key });
    expect(first.status).toBe(200);
    const replay = await call(h, 'POST', '/v1/cards', { body: { amount: 2_000, currency: 'EUR' }, idempotencyKey: key });
    expect(replay.body).toMatchObject({ code: first.body.code, replayed: true });

    await purgeAfterRetention(`terminal:${h.terminalA.id}`, [key]);
    const cards = await h.deps.db.prisma.card.count();
    const late = await call(h, 'POST', '/v1/cards', { body: { amount: 2_000, currency: 'EUR' }, idempotencyKey: key });
    expect(late.status).toBe(422);
    expect(late.body.error).toMatchObject({ code: 'idempotency_key_reused', message: expect.stringMatching(/new Idempotency-Key/) });
    expect(await h.deps.db.prisma.card.count()).toBe(cards);
    // A new key sells a new card as usual.
    const fresh = await call(h, 'POST', '/v1/cards', { body: { amount: 2_000, currency: 'EUR' }, idempotencyKey: randomUUID() });
    expect(fresh.status).toBe(200);
  });

  it('re-seeds the demo scheme at any age, and only in development mode', async () => {
    const secrets = cardSecrets(`demo-seed-test-${randomUUID()}`);
    const deps = { ...h.deps, secrets, config: { ...h.config, mode: 'development' as const } };
    const first = await seedDemo(deps);
    await purgeAfterRetention('demo-seed', ['card-0', 'card-1', 'card-2']);
    const again = await seedDemo(deps);
    expect(again.cards).toEqual(first.cards);
    expect(again.apiKey).toBe(first.apiKey);
    await expect(seedDemo({ ...deps, config: { ...h.config, mode: 'production' } })).rejects.toThrow(/development mode only/);
    await expect(seedDemo({ ...deps, config: { ...h.config, mode: 'test' } })).rejects.toThrow(/development mode only/);
  });

  it('replays a run recorded before personal-data retention was added (the change is patched)', async () => {
    // Recorded from the previous workflow code: the History proto, binary-encoded (the SDK's JSON
    // reader trips over the two protobufjs copies installed under @temporalio/*).
    const history = proto.temporal.api.history.v1.History.decode(
      readFileSync(new URL('../fixtures/histories/housekeeping-before-retention.bin', import.meta.url)));
    await expect(Worker.runReplayHistory(
      { workflowBundle: { code: readFileSync(inject('workflowBundlePath'), 'utf8') } }, history, 'housekeeping-recorded')).resolves.toBeUndefined();
  });
});
