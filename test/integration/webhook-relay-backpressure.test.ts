// A burst of webhook events must not become tens of thousands of workflows queued at once: the
// relay starts an endpoint's deliveries only while fewer than a bounded number of them are still
// before their first attempt, and an endpoint that hangs does not hold up another's events.
// The relay here starts its workflows on a task queue no worker polls, so every delivery it
// starts stays before its first attempt: what the limit sees when a receiver hangs.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookRelay } from '../../services/webhook-relay.ts';
import { WebhookStore } from '../../services/webhooks.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
const endpointIds: string[] = [];

beforeAll(async () => {
  // No worker: its relay would start these deliveries on a queue that is polled.
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  await h?.deps.db.pool.query(`UPDATE webhook_endpoints SET enabled = false WHERE id = ANY($1::uuid[])`, [endpointIds]);
  await h?.close();
});

async function endpoint(eventType: string): Promise<string> {
  const store = new WebhookStore(h.deps.db.pool, h.deps.pii, h.deps.secrets.deriveKey, h.config.webhooks);
  const { endpoint } = await store.create(randomUUID(), 'test', { url: `https://hooks.example.com/${randomUUID()}`, description: 'burst', eventTypes: [eventType], enabled: true });
  endpointIds.push(endpoint.id);
  return endpoint.id;
}

async function record(eventType: string, n: number): Promise<void> {
  await h.deps.db.pool.query(
    `SELECT webhook_record($1, jsonb_build_object('object', 'card_activity', 'id', 'burst-' || gen_random_uuid(), 'kind', 'load',
       'amount', 100, 'currency', 'EUR', 'bookedAt', webhook_time(now()))) FROM generate_series(1, $2::int)`, [eventType, n]);
}

async function started(endpointId: string): Promise<number> {
  const { rows } = await h.deps.db.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND workflow_started', [endpointId]);
  return rows[0]!.n;
}

describe('the webhook relay under a burst', () => {
  it('starts about 200 deliveries per endpoint ahead of their first attempt (one batch more at most), per endpoint', async () => {
    const burstType = 'card.loaded';
    const hanging = await endpoint(burstType);
    const relay = new WebhookRelay({
      pool: h.deps.db.pool, client: h.client, taskQueue: `unpolled-${randomUUID()}`, config: h.config.webhooks, batchSize: 100,
    });
    await h.deps.db.pool.query(`UPDATE webhook_endpoints SET enabled = false WHERE enabled AND NOT (id = ANY($1::uuid[]))`, [endpointIds]);
    await record(burstType, 350);
    await relay.drain();
    // The limit is checked per batch: a batch that finds 199 starts up to 100 more.
    const first = await started(hanging);
    expect(first).toBeGreaterThanOrEqual(200);
    expect(first).toBeLessThan(300);

    // Another endpoint's events still go out while the first is at its limit.
    const other = await endpoint('card.blocked');
    await record('card.blocked', 30);
    await relay.drain();
    expect(await started(other)).toBe(30);
    expect(await started(hanging)).toBe(first);

    // As the first attempts are made, the rest follow.
    await h.deps.db.pool.query(
      `UPDATE webhook_deliveries SET attempts = 1, status = 'succeeded' WHERE endpoint_id = $1 AND workflow_started`, [hanging]);
    await relay.drain();
    expect(await started(hanging)).toBe(350);
  });
});
