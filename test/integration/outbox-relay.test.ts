// The outbox's promise: a committed hold gets its workflow even if Temporal is down when the hold
// is written. Rows wait, with their error, until a relay can deliver them.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { OutboxRelay } from '../../services/outbox-relay.ts';
import { call, issueCard, posRef, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { unusedPort } from '../helpers/net.ts';
import { redemptionWorkflowId } from '../../workflows/names/redemption.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

async function outboxRows(workflowId: string) {
  const { rows } = await h.deps.db.pool.query(
    'SELECT kind, attempts, last_error FROM workflow_outbox WHERE workflow_id = $1 ORDER BY id', [workflowId]);
  return rows;
}

describe('workflow outbox', () => {
  it('keeps starts and signals while Temporal is unreachable, then delivers them', async () => {
    const card = await issueCard(h, 2_000);
    const ref = posRef();
    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 500, currency: 'EUR', posReference: ref } });
    await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: {} });
    const workflowId = redemptionWorkflowId(h.terminalA.id, ref);
    expect((await outboxRows(workflowId)).map((r) => r.kind)).toEqual(['redemption_started', 'redemption_settled']);

    const connection = Connection.lazy({ address: `127.0.0.1:${await unusedPort()}`, connectTimeout: '1s' });
    const down = new OutboxRelay({ pool: h.deps.db.pool, client: new Client({ connection }), taskQueue: h.config.taskQueue });
    await down.relayBatch();
    const waiting = await outboxRows(workflowId);
    expect(waiting).toHaveLength(2);
    expect(waiting.every((r) => r.attempts === 1 && typeof r.last_error === 'string')).toBe(true);
    await connection.close();

    // Each failed row waits its backoff (1 s after the first failure), then goes through.
    const up = new OutboxRelay({ pool: h.deps.db.pool, client: h.client, taskQueue: h.config.taskQueue });
    await waitFor(async () => {
      await up.drain();
      return (await outboxRows(workflowId)).length === 0;
    }, 10_000, 200);
    const handle = h.client.workflow.getHandle(workflowId);
    const history = await handle.fetchHistory();
    const signals = history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signals).toHaveLength(1);
    expect(signals[0]!.workflowExecutionSignaledEventAttributes!.signalName).toBe('holdSettled');
    await handle.terminate('test done');

    // Delivering again (a relay that crashed after Temporal accepted, before its delete) is harmless.
    await h.deps.db.pool.query(
      `INSERT INTO workflow_outbox (workflow_id, kind, payload) SELECT $1, 'redemption_settled', payload FROM
         (SELECT jsonb_build_object('holdId', $2::text, 'terminalId', $3::text, 'storeId', $4::text, 'posReference', $5::text,
           'amount', 500, 'currency', 'EUR', 'expiresAt', now(), 'status', 'captured', 'capturedAmount', 500) AS payload) p`,
      [workflowId, auth.body.id, h.terminalA.id, h.storeA, ref]);
    await up.drain();
    expect(await outboxRows(workflowId)).toEqual([]);
  }, 60_000);

  it('holds a start back for its grace and sends it with the capture that follows as one signal-with-start', async () => {
    const card = await issueCard(h, 3_000);
    const authorize = async () => {
      const ref = posRef();
      const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 100, currency: 'EUR', posReference: ref } });
      expect(auth.status).toBe(200);
      return { id: auth.body.id as string, workflowId: redemptionWorkflowId(h.terminalA.id, ref) };
    };
    const uncaptured = await authorize();
    const captured = await authorize();
    const drained = await authorize();
    expect((await call(h, 'POST', `/v1/redemptions/${captured.id}/capture`, { body: {} })).status).toBe(200);

    const patient = new OutboxRelay({ pool: h.deps.db.pool, client: h.client, taskQueue: h.config.taskQueue, startGraceMs: 600_000 });
    await patient.relayBatch();
    // The capture took its start along: one call, the settle in the workflow's first task.
    expect(await outboxRows(captured.workflowId)).toEqual([]);
    const history = await h.client.workflow.getHandle(captured.workflowId).fetchHistory();
    expect(history.events!.slice(0, 2).map((e) => [!!e.workflowExecutionStartedEventAttributes, e.workflowExecutionSignaledEventAttributes?.signalName]))
      .toEqual([[true, undefined], [false, 'holdSettled']]);
    const [started] = history.events!;
    expect(started!.workflowExecutionStartedEventAttributes!.input!.payloads).toHaveLength(1);
    // Starts without a settle wait out their grace.
    expect(await outboxRows(uncaptured.workflowId)).toMatchObject([{ kind: 'redemption_started', attempts: 0 }]);
    expect(await outboxRows(drained.workflowId)).toMatchObject([{ kind: 'redemption_started', attempts: 0 }]);

    // drain() (tests, shutdown) does not wait for the grace …
    await patient.drain();
    expect(await outboxRows(drained.workflowId)).toEqual([]);
    expect(await outboxRows(uncaptured.workflowId)).toEqual([]);
    // … and a relay delivers a start once its grace is over.
    const again = await authorize();
    const brief = new OutboxRelay({ pool: h.deps.db.pool, client: h.client, taskQueue: h.config.taskQueue, startGraceMs: 300 });
    await waitFor(async () => {
      await brief.relayBatch();
      return (await outboxRows(again.workflowId)).length === 0;
    }, 10_000, 100);
    for (const { workflowId } of [uncaptured, captured, drained, again]) {
      const handle = h.client.workflow.getHandle(workflowId);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await handle.terminate('test done');
    }
  }, 60_000);

  it('does not let rows it cannot deliver hold up the ones behind them', async () => {
    // 300 rows Temporal refuses (a workflow id over its length limit), more than a batch, ahead
    // of a real redemption's.
    await h.deps.db.pool.query(
      `INSERT INTO workflow_outbox (workflow_id, kind, payload)
       SELECT 'redemption-poison-' || g || repeat('x', 2000), 'redemption_started',
              jsonb_build_object('holdId', 'x', 'terminalId', 't', 'storeId', 's', 'posReference', 'p' || g,
                                 'amount', 1, 'currency', 'EUR', 'expiresAt', now())
         FROM generate_series(1, 300) g`);
    const card = await issueCard(h, 1_000);
    const ref = posRef();
    await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 100, currency: 'EUR', posReference: ref } });
    const workflowId = redemptionWorkflowId(h.terminalA.id, ref);

    const relay = new OutboxRelay({ pool: h.deps.db.pool, client: h.client, taskQueue: h.config.taskQueue });
    for (let i = 0; i < 3; i++) await relay.relayBatch();
    expect(await outboxRows(workflowId)).toEqual([]);
    await h.client.workflow.getHandle(workflowId).terminate('test done');
    const { rows: [poison] } = await h.deps.db.pool.query(
      `SELECT count(*)::int AS n, min(attempts) AS attempts, bool_and(next_attempt_at > now()) AS waiting
         FROM workflow_outbox WHERE workflow_id LIKE 'redemption-poison-%'`);
    expect(poison).toMatchObject({ n: 300, attempts: 1, waiting: true });
    await h.deps.db.pool.query(`DELETE FROM workflow_outbox WHERE workflow_id LIKE 'redemption-poison-%'`);
  }, 60_000);

  it('keeps backing off a row that has failed for ages, and one row it cannot update does not undo the batch', async () => {
    // A row that has failed 60 times (2^60 s overflowed the backoff interval and rolled back the
    // whole batch), and a row whose update the database refuses, ahead of a real redemption's.
    await h.deps.db.pool.query(
      `INSERT INTO workflow_outbox (workflow_id, kind, payload, attempts)
       SELECT 'redemption-' || name || repeat('x', 2000), 'redemption_started',
              jsonb_build_object('holdId', 'x', 'terminalId', 't', 'storeId', 's', 'posReference', name,
                                 'amount', 1, 'currency', 'EUR', 'expiresAt', now()), attempts
         FROM (VALUES ('veteran-', 60), ('unupdatable-', 0)) v(name, attempts)`);
    await h.deps.db.pool.query(`
      CREATE FUNCTION test_refuse_outbox_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'test: this row cannot be updated'; END $$;
      CREATE TRIGGER test_refuse_outbox_update BEFORE UPDATE ON workflow_outbox FOR EACH ROW
        WHEN (OLD.workflow_id LIKE 'redemption-unupdatable-%') EXECUTE FUNCTION test_refuse_outbox_update();`);
    try {
      const card = await issueCard(h, 1_000);
      const ref = posRef();
      await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 100, currency: 'EUR', posReference: ref } });
      const workflowId = redemptionWorkflowId(h.terminalA.id, ref);

      const relay = new OutboxRelay({ pool: h.deps.db.pool, client: h.client, taskQueue: h.config.taskQueue });
      const outcome = await relay.relayBatch();
      expect(outcome).toMatchObject({ delivered: 1, failed: true });
      expect(await outboxRows(workflowId)).toEqual([]);
      await h.client.workflow.getHandle(workflowId).terminate('test done');
      const { rows } = await h.deps.db.pool.query(
        `SELECT substr(workflow_id, 1, 30) AS name, attempts, last_error IS NOT NULL AS has_error,
                round(extract(epoch FROM next_attempt_at - now()))::int AS wait_seconds
           FROM workflow_outbox WHERE workflow_id LIKE 'redemption-veteran-%' OR workflow_id LIKE 'redemption-unupdatable-%'
          ORDER BY id`);
      expect(rows[0]).toMatchObject({ attempts: 61, has_error: true });
      expect(rows[0].wait_seconds).toBeGreaterThan(290);
      expect(rows[0].wait_seconds).toBeLessThanOrEqual(300);
      expect(rows[1]).toMatchObject({ attempts: 0, has_error: false });
    } finally {
      await h.deps.db.pool.query(`
        DROP TRIGGER test_refuse_outbox_update ON workflow_outbox; DROP FUNCTION test_refuse_outbox_update();
        DELETE FROM workflow_outbox WHERE workflow_id LIKE 'redemption-veteran-%' OR workflow_id LIKE 'redemption-unupdatable-%'`);
    }
  }, 60_000);
});
