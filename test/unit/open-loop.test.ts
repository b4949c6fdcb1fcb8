// The capacity benchmark's load generator: arrivals keep their schedule whatever the answers
// take, latency counts from the scheduled instant, and overload is dropped and counted.

import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { runOpenLoop } from '../../bench/lib/open-loop.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runOpenLoop', () => {
  it('sends a fixed schedule on time although every answer takes longer than the gap between arrivals', async () => {
    const seen: number[] = [];
    const r = await runOpenLoop({
      ratePerSecond: 100, seconds: 1, arrivals: 'fixed', seed: 1, maxInFlight: 1000,
      op: async (k, scheduledAt) => {
        seen.push(k);
        await sleep(50); // five arrivals' worth: a closed loop would send a fifth as many
        return { latency: performance.now() - scheduledAt };
      },
    });
    // 10 ms apart from 10 ms on, the last strictly before 1 s: 99 arrivals.
    expect(r.arrivals).toBe(99);
    expect(r.completed).toBe(99);
    expect(r.errors).toBe(0);
    expect(seen).toEqual(Array.from({ length: 99 }, (_, i) => i));
    // Timed from the schedule: never less than the answer's own 50 ms.
    expect(Math.min(...r.latencies.latency!)).toBeGreaterThanOrEqual(49);
  });

  it('draws Poisson arrivals around the mean rate, the same ones for the same seed', async () => {
    const run = (seed: number) => runOpenLoop({ ratePerSecond: 400, seconds: 1, arrivals: 'poisson', seed, maxInFlight: 1000, firstK: 7, op: async () => {} });
    const [a, b] = [await run(42), await run(42)];
    expect(a.arrivals).toBe(b.arrivals);
    // 400 ± 4 standard deviations (sqrt(400) = 20).
    expect(a.arrivals).toBeGreaterThan(320);
    expect(a.arrivals).toBeLessThan(480);
  });

  it('drops arrivals beyond the in-flight cap and counts them, and counts failed operations as errors', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    setTimeout(() => release(), 600);
    const r = await runOpenLoop({
      ratePerSecond: 50, seconds: 0.5, arrivals: 'fixed', seed: 1, maxInFlight: 5,
      op: async (k) => {
        await gate;
        if (k === 0) throw new Error('refused');
      },
    });
    expect(r.arrivals).toBe(24);
    expect(r.dropped).toBe(19);
    expect(r.completed).toBe(4);
    expect(r.errors).toBe(20);
    expect(r.errorSamples[0]).toMatch(/dropped: 5 arrivals already unanswered/);
    expect(r.errorSamples).toContain('refused');
  });
});
