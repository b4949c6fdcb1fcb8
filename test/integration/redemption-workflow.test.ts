// The redemption workflow alone, with its activity mocked: @temporalio/testing's
// TestWorkflowEnvironment on the local Temporal CLI (the time-skipping server is a download), and
// MockActivityEnvironment for the activity's refusal mapping.

import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MockActivityEnvironment, TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { temporalBinary } from '../../scripts/stack/go-binaries.ts';
import { ensureSearchAttributes } from '../../infra/temporal.ts';
import { DomainError } from '../../domain/errors.ts';
import { createRedemptionActivities, type ExpireOutcome } from '../../activities/redemption.ts';
import type { Ledger } from '../../services/ledger.ts';
import type { redemptionWorkflow } from '../../workflows/redemption.ts';
import { holdSettledSignal, REDEMPTION_WORKFLOW, type RedemptionInput } from '../../workflows/names/redemption.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  const path = await temporalBinary(() => {});
  env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path } } });
  // The workflow upserts the engine's search attributes: the fresh server needs them registered.
  await ensureSearchAttributes(env.client, env.namespace ?? 'default');
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

function input(expiresInMs: number): RedemptionInput {
  return {
    holdId: randomUUID(), terminalId: randomUUID(), storeId: randomUUID(), posReference: 'pos-1', amount: 500,
    currency: 'EUR', expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
  };
}

async function withWorker<T>(expireHold: (holdId: string) => Promise<ExpireOutcome>, run: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `redemption-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue,
    workflowBundle: { code: readFileSync(inject('workflowBundlePath'), 'utf8') },
    activities: { expireHold },
  });
  return worker.runUntil(run(taskQueue));
}

describe('redemption workflow with mocked activities', () => {
  it('records a capture signalled before expiry, and never expires the hold', async () => {
    const expired: string[] = [];
    const state = await withWorker(async (holdId) => {
      expired.push(holdId);
      return { status: 'expired', capturedAmount: 0 };
    }, async (taskQueue) => {
      const handle = await env.client.workflow.start<typeof redemptionWorkflow>(REDEMPTION_WORKFLOW, {
        workflowId: `redemption-test-${randomUUID()}`, taskQueue, args: [input(60_000)] });
      await handle.signal(holdSettledSignal, { status: 'captured', capturedAmount: 400 });
      return handle.result();
    });
    expect(state).toMatchObject({ status: 'captured', capturedAmount: 400 });
    expect(expired).toEqual([]);
  });

  it('voids the hold through expireHold when its time runs out', async () => {
    const hold = input(1_000);
    const expired: string[] = [];
    const state = await withWorker(async (holdId) => {
      expired.push(holdId);
      return { status: 'expired', capturedAmount: 0 };
    }, async (taskQueue) => env.client.workflow.execute<typeof redemptionWorkflow>(REDEMPTION_WORKFLOW, {
      workflowId: `redemption-test-${randomUUID()}`, taskQueue, args: [hold] }));
    expect(state).toMatchObject({ status: 'expired', capturedAmount: 0 });
    expect(expired).toEqual([hold.holdId]);
  });
});

describe('expireHold activity with a mocked ledger', () => {
  it('answers the ledger\'s outcome, and fails a refusal typed with its code for the retry policy', async () => {
    const activityEnv = new MockActivityEnvironment();
    const settled = createRedemptionActivities({
      ledger: { expireHold: async () => ({ status: 'captured', capturedAmount: 300 }) } as unknown as Ledger });
    expect(await activityEnv.run(settled.expireHold, 'h1')).toEqual({ status: 'captured', capturedAmount: 300 });

    const refused = createRedemptionActivities({
      ledger: { expireHold: async () => { throw new DomainError('hold_not_found', 'no such hold'); } } as unknown as Ledger });
    const failure = await activityEnv.run(refused.expireHold, 'h2').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe('hold_not_found');
    expect((failure as ApplicationFailure).nonRetryable).toBe(false);
  });
});
