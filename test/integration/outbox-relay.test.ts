// The outbox's promise: a committed hold gets its workflow even if Temporal is down when the hold
// is written. Rows wait, with their error, until a relay can deliver them.

import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { OutboxRelay } from '../../services/outbox-relay.ts';
import { call, issueCard, posRef, startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

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
    const workflowId = `redemption-${h.terminalA.id}-${ref}`;
    expect((await outboxRows(workflowId)).map((r) => r.kind)).toEqual(['redemption_started', 'redemption_settled']);

    const connection = Connection.lazy({ address: `127.0.0.1:${await closedPort()}`, connectTimeout: '1s' });
    const down = new OutboxRelay({ pool: h.deps.db.pool, client: new Client({ connection }), taskQueue: h.config.taskQueue });
    await down.relayBatch();
    const waiting = await outboxRows(workflowId);
    expect(waiting).toHaveLength(2);
    expect(waiting.every((r) => r.attempts === 1 && typeof r.last_error === 'string')).toBe(true);
    await connection.close();

    const up = new OutboxRelay({ pool: h.deps.db.pool, client: h.client, taskQueue: h.config.taskQueue });
    await up.drain();
    expect(await outboxRows(workflowId)).toEqual([]);
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
});
