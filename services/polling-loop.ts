// The loop behind the relays that poll a table (outbox-relay.ts, webhook-relay.ts): rounds back to
// back while there is work, a short idle pause when there is none, and an exponential back-off
// (to 5 s) after consecutive failed rounds instead of hammering a dependency that is down. `stop`
// wakes a sleeping loop and waits for the round in progress.

export interface PollingRound {
  /** Found work: the next round follows at once. */
  busy: boolean;
  /** Counts towards the back-off (the round failed and got nothing done). */
  failed: boolean;
}

export interface PollingLoopOptions {
  /** Names the loop in its log lines. */
  name: string;
  idleDelayMs: number;
  round: () => Promise<PollingRound>;
  log?: (msg: string) => void;
}

const MAX_BACKOFF_MS = 5_000;

export class PollingLoop {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly opts: PollingLoopOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const idle = this.opts.idleDelayMs;
    let failures = 0;
    while (this.running) {
      let outcome: PollingRound = { busy: false, failed: true };
      try {
        outcome = await this.opts.round();
      } catch (err) {
        this.opts.log?.(`${this.opts.name}: ${(err as Error).message}`);
      }
      failures = outcome.failed ? failures + 1 : 0;
      if (!outcome.busy && this.running) await this.sleep(failures === 0 ? idle : Math.min(idle * 2 ** failures, MAX_BACKOFF_MS));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => { clearTimeout(timer); resolve(); };
    });
  }
}
