// How long after a till's capture its redemption workflow closed. The capture is answered by the
// API (ledger + outbox in one transaction); the workflow hears of it later, when the relay
// delivers the outbox row, so this lag is the engine's asynchronous backlog as a customer's hold
// would feel it. The close time comes from Temporal's visibility store, asked for a sample of
// workflows in batches: one list call per batch, not a describe per workflow, so measuring costs
// the server little. Visibility may record a close a moment late; the close time it records is
// still the workflow's own.

import type { Client } from '@temporalio/client';

interface Sample {
  workflowId: string;
  /** Epoch ms when the till had the capture's answer. */
  capturedAt: number;
}

export interface LagSample {
  capturedAt: number;
  lagMs: number;
  /** Not closed when we stopped waiting: lagMs is a lower bound. */
  censored: boolean;
}

const BATCH = 50;

export class WorkflowLagTracker {
  private pending = new Map<string, Sample>();
  private done: LagSample[] = [];
  private polling: Promise<void> | null = null;
  lastError: string | null = null;

  constructor(private readonly client: Client) {}

  add(workflowId: string, capturedAt: number): void {
    this.pending.set(workflowId, { workflowId, capturedAt });
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** One round over the samples not yet seen closed; concurrent calls share the round. */
  poll(): Promise<void> {
    return (this.polling ??= this.pollOnce().finally(() => (this.polling = null)));
  }

  private async pollOnce(): Promise<void> {
    const ids = [...this.pending.keys()];
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids.slice(i, i + BATCH);
      const query = `WorkflowId IN (${batch.map((id) => `"${id}"`).join(', ')}) AND ExecutionStatus != "Running"`;
      try {
        for await (const wf of this.client.workflow.list({ query, pageSize: BATCH })) {
          const s = this.pending.get(wf.workflowId);
          if (!s || !wf.closeTime) continue;
          this.pending.delete(wf.workflowId);
          this.done.push({ capturedAt: s.capturedAt, lagMs: Math.max(0, wf.closeTime.getTime() - s.capturedAt), censored: false });
        }
      } catch (err) {
        this.lastError = (err as Error).message;
      }
    }
  }

  /** Polls until every sample closed or `timeoutMs` passed; then returns all samples, open ones censored at now. */
  async settle(timeoutMs: number, intervalMs = 500): Promise<LagSample[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.poll();
      if (this.pending.size === 0 || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    const now = Date.now();
    const open = [...this.pending.values()].map((s) => ({ capturedAt: s.capturedAt, lagMs: now - s.capturedAt, censored: true }));
    const all = [...this.done, ...open].sort((a, b) => a.capturedAt - b.capturedAt);
    this.done = [];
    this.pending.clear();
    return all;
  }
}
