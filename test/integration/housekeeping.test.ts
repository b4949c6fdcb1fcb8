// The daily housekeeping schedule and what its workflow does.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { engineSchedules, ensureSchedules, HOUSEKEEPING_SCHEDULE_ID } from '../../infra/schedules.ts';
import { housekeepingWorkflow } from '../../workflows/housekeeping.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';

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

  it('replays a run recorded before personal-data retention was added (the change is patched)', async () => {
    // Recorded from the previous workflow code: the History proto, binary-encoded (the SDK's JSON
    // reader trips over the two protobufjs copies installed under @temporalio/*).
    const history = proto.temporal.api.history.v1.History.decode(
      readFileSync(new URL('../fixtures/histories/housekeeping-before-retention.bin', import.meta.url)));
    await expect(Worker.runReplayHistory(
      { workflowBundle: { code: readFileSync(inject('workflowBundlePath'), 'utf8') } }, history, 'housekeeping-recorded')).resolves.toBeUndefined();
  });
});
