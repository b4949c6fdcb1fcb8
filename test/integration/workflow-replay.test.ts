// Replays the recorded history of every workflow type (test/fixtures/histories/<recording>/, recorded
// from real runs by `npm run record:histories`, one folder per workflow code version) against the
// current workflow code, with the worker's replay
// API. A change that executions already running could not replay (an activity, timer or child
// added, removed or reordered without `patched()`) fails here instead of in production.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, inject } from 'vitest';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { installTemporalRuntime } from '../../infra/worker.ts';
import * as workflows from '../../workflows/index.ts';
import { historyFromJson } from '../helpers/history-json.ts';

const FIXTURES = path.resolve('test/fixtures/histories');

interface Fixture {
  name: string;
  workflowId: string;
  workflowType: string;
  history: unknown;
}

const fixtures: Fixture[] = readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).sort().map((file) => ({
  name: file.replace(/\.json$/, ''),
  ...JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as Omit<Fixture, 'name'>,
}));

/** Replays the fixtures against a workflow bundle: fixture name -> the replay's error, if any. */
async function replay(code: string, which: Fixture[]): Promise<Record<string, string>> {
  installTemporalRuntime();
  const byRunId = new Map<string, string>();
  const histories = which.map((f) => {
    const history = historyFromJson(f.history);
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    byRunId.set(started.originalExecutionRunId!, f.name);
    return { workflowId: f.workflowId, history };
  });
  const errors: Record<string, string> = {};
  let replayed = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: { code } }, histories)) {
    replayed++;
    if (result.error) errors[byRunId.get(result.runId) ?? result.workflowId] = `${result.error.name}: ${result.error.message}`;
  }
  expect(replayed).toBe(which.length);
  return errors;
}

describe('workflow versioning', () => {
  it('has a recorded history of every workflow type the worker runs', () => {
    const recorded = new Set(fixtures.map((f) => f.workflowType));
    const missing = Object.keys(workflows).filter((type) => !recorded.has(type));
    expect(missing).toEqual([]);
  });

  it('replays every recorded history on the current workflow code', async () => {
    const errors = await replay(readFileSync(inject('workflowBundlePath'), 'utf8'), fixtures);
    expect(errors).toEqual({});
  }, 120_000);

  it('fails a workflow change that is not versioned', async () => {
    const divergent = await bundleWorkflowCode({
      workflowsPath: path.resolve('test/fixtures/divergent-workflows.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) },
    });
    const purchases = fixtures.filter((f) => f.workflowType === 'purchaseWorkflow');
    const errors = await replay(divergent.code, purchases);
    expect(Object.keys(errors).sort()).toEqual(purchases.map((f) => f.name).sort());
    for (const error of Object.values(errors)) expect(error).toMatch(/DeterminismViolationError|[Nn]ondetermin/);
  }, 120_000);
});
