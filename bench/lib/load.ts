// Closed-loop load: N workers each run one operation after another (like tills, which wait for
// an answer before the next sale). Only operations that complete inside the measurement window
// count, so warm-up (JIT, connection set-up, caches) stays out of the numbers.

import { performance } from 'node:perf_hooks';

/** An operation; it may return extra named timings (ms), e.g. { authorize: 3.2 }. */
export type Operation = (worker: number) => Promise<Record<string, number> | void>;

export interface LoadOptions {
  name: string;
  concurrency: number;
  warmupSeconds: number;
  seconds: number;
  op: Operation;
  log: (line: string) => void;
  /** Called when the measurement window opens and closes, e.g. to snapshot CPU counters. */
  onWindow?: (edge: 'open' | 'close') => void;
}

export interface LoadResult {
  ops: number;
  opsPerSecond: number;
  /** 'op' is the whole operation; other keys are the operation's own timings. */
  latencies: Record<string, number[]>;
  /** Over warm-up and measurement: a failure in either makes the run suspect. */
  errors: number;
  errorSamples: string[];
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const start = performance.now();
  const measureFrom = start + o.warmupSeconds * 1000;
  const measureTo = measureFrom + o.seconds * 1000;
  const latencies: Record<string, number[]> = { op: [] };
  const errorSamples: string[] = [];
  let errors = 0;
  let ops = 0;
  let completed = 0;

  async function worker(i: number): Promise<void> {
    while (performance.now() < measureTo) {
      const t0 = performance.now();
      try {
        const parts = await o.op(i);
        const t1 = performance.now();
        completed++;
        if (t1 < measureFrom || t1 > measureTo) continue;
        ops++;
        latencies.op!.push(t1 - t0);
        for (const [k, v] of Object.entries(parts ?? {})) (latencies[k] ??= []).push(v);
      } catch (err) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push((err as Error).message);
        // A dead server fails in microseconds; don't spin.
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  let closed = false;
  const close = () => {
    if (!closed) o.onWindow?.('close');
    closed = true;
  };
  const timers = [setTimeout(() => o.onWindow?.('open'), measureFrom - start), setTimeout(close, measureTo - start)];
  let last = 0;
  const progress = setInterval(() => {
    const t = (performance.now() - start) / 1000;
    const phase = performance.now() < measureFrom ? 'warm-up' : 'measure';
    o.log(`${o.name} ${phase} t=${t.toFixed(0)}s ${completed - last} ops/s errors=${errors}`);
    last = completed;
  }, 1000);
  try {
    await Promise.all(Array.from({ length: o.concurrency }, (_, i) => worker(i)));
  } finally {
    clearInterval(progress);
    timers.forEach(clearTimeout);
  }
  close(); // if the last operations finished before the timer ran
  return { ops, opsPerSecond: ops / o.seconds, latencies, errors, errorSamples };
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1]!;
}

export function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
