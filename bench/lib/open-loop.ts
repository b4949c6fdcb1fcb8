// Open-loop load: arrivals follow a schedule fixed in advance (Poisson or evenly spaced), whatever
// the server answers, as customers arrive at a shopping centre's tills. A slow server therefore
// meets a growing queue instead of a politely waiting client (closed-loop load hides overload:
// its clients slow down with the server). Latencies are measured from each arrival's scheduled
// instant, not from when the request left, so a stalled load generator or a full socket pool
// counts against the latency instead of vanishing (coordinated omission).

import { performance } from 'node:perf_hooks';

/** Called once per arrival with its sequence number and scheduled instant (performance.now() ms). */
export type Arrival = (k: number, scheduledAt: number) => Promise<Record<string, number> | void>;

export interface OpenLoopOptions {
  ratePerSecond: number;
  seconds: number;
  arrivals: 'poisson' | 'fixed';
  /** Seeds the Poisson schedule, so runs see the same arrival pattern. */
  seed: number;
  /** Arrivals beyond this many unanswered ones are dropped and counted as errors. */
  maxInFlight: number;
  /** Sequence number of the first arrival (continues across steps). */
  firstK?: number;
  op: Arrival;
  /** Once a second while arrivals run. */
  onSecond?: (s: { t: number; sent: number; done: number; inFlight: number; errors: number }) => void;
}

export interface OpenLoopResult {
  /** Scheduled arrivals, including dropped ones. */
  arrivals: number;
  completed: number;
  dropped: number;
  errors: number;
  errorSamples: string[];
  /** Timings each operation returned, by name (ms). */
  latencies: Record<string, number[]>;
  /** From the first arrival until the last answer (s): longer than `seconds` when answers lag. */
  elapsedSeconds: number;
  /** How late the generator sent arrivals behind their schedule, p99 (ms): over ~10 ms it is the bottleneck. */
  sendLagP99Ms: number;
}

function mulberry32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const random = mulberry32(o.seed);
  const meanGapMs = 1000 / o.ratePerSecond;
  // Exponential gaps make a Poisson process; 1 - random() is in (0, 1], so log() is finite.
  const gap = () => (o.arrivals === 'poisson' ? -Math.log(1 - random()) * meanGapMs : meanGapMs);
  const start = performance.now();
  const end = start + o.seconds * 1000;
  const latencies: Record<string, number[]> = {};
  const errorSamples: string[] = [];
  const sendLags: number[] = [];
  const pending = new Set<Promise<void>>();
  let k = o.firstK ?? 0;
  let arrivals = 0;
  let completed = 0;
  let dropped = 0;
  let errors = 0;

  const fire = (scheduledAt: number) => {
    arrivals++;
    sendLags.push(performance.now() - scheduledAt);
    if (pending.size >= o.maxInFlight) {
      dropped++;
      errors++;
      // One sample of this kind: the count is in `dropped`, and the samples should show why answers lag.
      if (dropped === 1) errorSamples.push(`dropped: ${o.maxInFlight} arrivals already unanswered`);
      return;
    }
    const p = o.op(k++, scheduledAt).then(
      (parts) => {
        completed++;
        for (const [name, v] of Object.entries(parts ?? {})) (latencies[name] ??= []).push(v);
      },
      (err: unknown) => {
        errors++;
        if (errorSamples.length < 5) errorSamples.push((err as Error).message);
      },
    ).finally(() => pending.delete(p));
    pending.add(p);
  };

  let lastSecond = start;
  let sentAtLastSecond = 0;
  let next = start + gap();
  while (next < end) {
    const now = performance.now();
    while (next <= now && next < end) {
      fire(next);
      next += gap();
    }
    if (o.onSecond && now - lastSecond >= 1000) {
      o.onSecond({ t: (now - start) / 1000, sent: arrivals - sentAtLastSecond, done: completed, inFlight: pending.size, errors });
      lastSecond = now;
      sentAtLastSecond = arrivals;
    }
    // setTimeout's resolution is about a millisecond: arrivals due meanwhile go out together,
    // each still timed from its own scheduled instant.
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(next - performance.now(), 20))));
  }
  while (pending.size) await Promise.race(pending);
  sendLags.sort((a, b) => a - b);
  return {
    arrivals, completed, dropped, errors, errorSamples, latencies,
    elapsedSeconds: (performance.now() - start) / 1000,
    sendLagP99Ms: sendLags.length ? sendLags[Math.min(sendLags.length - 1, Math.ceil(0.99 * sendLags.length) - 1)]! : 0,
  };
}
