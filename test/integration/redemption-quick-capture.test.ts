// What a quick capture costs Temporal: the relay holds the start back (OUTBOX_START_GRACE_MS), so
// the start and the capture arrive as one signal-with-start and the workflow closes in its first
// workflow task, without a timer. The grace is long here so a slow machine cannot split them.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowNotFoundError } from '@temporalio/client';
import proto from '@temporalio/proto';
import { call, issueCard, posRef, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { redemptionWorkflowId } from '../../workflows/names/redemption.ts';

// @temporalio/proto is CommonJS: Node's ESM loader sees only its default export.
const { EventType } = proto.temporal.api.enums.v1;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: { outboxStartGraceMs: 120_000 } });
});
afterAll(async () => {
  await h?.close();
});

describe('a quick capture', () => {
  it('reaches Temporal as one signal-with-start; the workflow completes in its first task', async () => {
    const card = await issueCard(h, 1_000);
    const ref = posRef();
    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 300, currency: 'EUR', posReference: ref } });
    expect(auth.status).toBe(200);
    expect((await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: {} })).status).toBe(200);

    const handle = h.client.workflow.getHandle(redemptionWorkflowId(h.terminalA.id, ref));
    await waitFor(async () => {
      try {
        return (await handle.describe()).status.name === 'COMPLETED';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    }, 60_000, 200);
    expect(await handle.result()).toMatchObject({ status: 'captured', capturedAmount: 300 });
    const history = await handle.fetchHistory();
    expect(history.events!.map((e) => EventType[e.eventType!])).toEqual([
      'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
      'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED',
      'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
      'EVENT_TYPE_WORKFLOW_TASK_STARTED',
      'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
      'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
      'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
    ]);
  }, 120_000);
});
