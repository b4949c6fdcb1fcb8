// Webhook leftovers: the deliveries list pages through REST with a limit in the query string, and
// the daily housekeeping deletes events (with their deliveries) past WEBHOOK_EVENT_RETENTION_DAYS
// once every delivery has ended, and keeps everything else.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../infra/config.ts';
import { createApiClient } from '../../services/directory.ts';
import { housekeepingWorkflow } from '../../workflows/housekeeping.ts';
import { call, startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
let adminKey: string;
let endpointId: string;

beforeAll(async () => {
  h = await startHarness({ config: { webhooks: { ...loadConfig().webhooks, eventRetentionDays: 10 } } });
  adminKey = (await createApiClient(h.deps.db.prisma, { name: 'webhook housekeeping admin', role: 'admin' })).apiKey;
  // Disabled: the relay sends nothing to it; the rows below are written as the relay would have.
  endpointId = randomUUID();
  await h.deps.db.pool.query(
    `INSERT INTO webhook_endpoints (id, url, event_types, enabled, secret_sealed, secret_last4, idempotency_key_hash, created_by, disabled_reason, disabled_at)
     VALUES ($1, 'https://receiver.example/hook', '{card.created}', false, 'unused', 'xxxx', $2, 'test', 'admin', now())`,
    [endpointId, `test-${endpointId}`]);
});
afterAll(async () => {
  await h?.close();
});

/** An event `ageDays` old, fanned out, with one delivery per given state. Answers the event id. */
async function eventWith(ageDays: number, deliveries: Array<{ status: string; finishedDaysAgo: number | null; redelivery?: boolean }>): Promise<string> {
  const { rows: [event] } = await h.deps.db.pool.query<{ id: string }>(
    `INSERT INTO webhook_events (type, object, created_at, fanned_out) VALUES ('card.created', '{"object":"card"}', now() - make_interval(days => $1), true) RETURNING id`,
    [ageDays]);
  let first: string | null = null;
  for (const d of deliveries) {
    const { rows: [row] }: { rows: Array<{ id: string }> } = await h.deps.db.pool.query(
      `INSERT INTO webhook_deliveries (event_id, endpoint_id, redelivery_of, status, attempts, workflow_started, created_at, finished_at, next_attempt_at)
       VALUES ($1, $2, $3, $4::webhook_delivery_status, 1, true, now() - make_interval(days => $5),
               CASE WHEN $6::int IS NULL THEN NULL ELSE now() - make_interval(days => $6::int) END, NULL) RETURNING id`,
      [event!.id, endpointId, d.redelivery ? first : null, d.status, ageDays, d.finishedDaysAgo]);
    first ??= row!.id;
  }
  return event!.id;
}

const runHousekeeping = () => h.client.workflow.execute(housekeepingWorkflow, {
  workflowId: `housekeeping-test-${randomUUID()}`, taskQueue: h.config.taskQueue, args: [{ idempotencyRetentionHours: 72 }],
});

describe('GET /v1/webhook-endpoints/{id}/deliveries', () => {
  it('takes limit from the query string and pages with before', async () => {
    for (let i = 0; i < 3; i++) await eventWith(0, [{ status: 'succeeded', finishedDaysAgo: 0 }]);
    const first = await call(h, 'GET', `/v1/webhook-endpoints/${endpointId}/deliveries?limit=2`, { key: adminKey });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.deliveries).toHaveLength(2);
    expect(first.body.nextBefore).toBe(first.body.deliveries[1].id);
    const next = await call(h, 'GET', `/v1/webhook-endpoints/${endpointId}/deliveries?limit=2&before=${first.body.nextBefore}`, { key: adminKey });
    expect(next.status).toBe(200);
    expect(next.body.deliveries.length).toBeGreaterThanOrEqual(1);
    expect(BigInt(next.body.deliveries[0].id)).toBeLessThan(BigInt(first.body.deliveries[1].id));
    const all = await call(h, 'GET', `/v1/webhook-endpoints/${endpointId}/deliveries?limit=200&status=succeeded`, { key: adminKey });
    expect(all.status).toBe(200);
    expect(all.body.deliveries.length).toBeGreaterThanOrEqual(3);
  });

  it('refuses a limit out of range or not a number with 400 validation_error', async () => {
    for (const limit of ['0', '201', 'ten', '-1', '1.5', '']) {
      const res = await call(h, 'GET', `/v1/webhook-endpoints/${endpointId}/deliveries?limit=${limit}`, { key: adminKey });
      expect(res.status, `limit=${limit}`).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    }
  });
});

describe('housekeeping of webhook events', () => {
  it('deletes events past retention whose deliveries all ended long ago, with their deliveries, and keeps the rest', async () => {
    const done = await eventWith(40, [{ status: 'succeeded', finishedDaysAgo: 40 }]);
    const failed = await eventWith(30, [{ status: 'failed', finishedDaysAgo: 27 }, { status: 'succeeded', finishedDaysAgo: 20, redelivery: true }]);
    const cancelled = await eventWith(15, [{ status: 'cancelled', finishedDaysAgo: 15 }]);
    const recent = await eventWith(5, [{ status: 'succeeded', finishedDaysAgo: 5 }]);
    const stillPending = await eventWith(40, [{ status: 'succeeded', finishedDaysAgo: 40 }, { status: 'pending', finishedDaysAgo: null, redelivery: true }]);
    const redeliveredLately = await eventWith(40, [{ status: 'failed', finishedDaysAgo: 37 }, { status: 'succeeded', finishedDaysAgo: 2, redelivery: true }]);
    const all = [done, failed, cancelled, recent, stillPending, redeliveredLately];

    const result = await runHousekeeping();
    expect(result.webhookEventsDeleted).toBeGreaterThanOrEqual(3);

    const { rows } = await h.deps.db.pool.query<{ id: string }>(`SELECT id FROM webhook_events WHERE id = ANY($1::uuid[])`, [all]);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set([recent, stillPending, redeliveredLately]));
    const { rows: deliveries } = await h.deps.db.pool.query<{ event_id: string; n: number }>(
      `SELECT event_id, count(*)::int AS n FROM webhook_deliveries WHERE event_id = ANY($1::uuid[]) GROUP BY event_id`, [all]);
    expect(Object.fromEntries(deliveries.map((d) => [d.event_id, d.n]))).toEqual({ [recent]: 1, [stillPending]: 2, [redeliveredLately]: 2 });
    const { rows: audit } = await h.deps.db.pool.query(
      `SELECT details FROM audit_entries WHERE action = 'webhook_events_purged' ORDER BY id DESC LIMIT 1`);
    expect(audit[0].details.count).toBeGreaterThanOrEqual(3);

    // Nothing left to delete: a second run deletes none of what stayed.
    await runHousekeeping();
    const { rowCount } = await h.deps.db.pool.query(`SELECT 1 FROM webhook_events WHERE id = ANY($1::uuid[])`, [all]);
    expect(rowCount).toBe(3);
  });
});
