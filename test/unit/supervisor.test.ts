import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { supervise } from '../../scripts/stack/supervisor.ts';

const waitFor = async (check: () => boolean, ms = 10_000) => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('supervisor', () => {
  it('starts a killed child again and stops it for good on request', async () => {
    const lines: string[] = [];
    const s = supervise({
      name: 'sleeper', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'],
      options: { stdio: 'ignore' }, log: (l) => lines.push(l),
    });
    const first = s.current();
    await once(first, 'spawn');
    first.kill('SIGKILL');
    await waitFor(() => s.restarts() === 1);
    const second = s.current();
    expect(second.pid).not.toBe(first.pid);
    expect(second.exitCode).toBeNull();
    await s.stop(2_000);
    expect(second.signalCode).toBe('SIGTERM');
    await new Promise((r) => setTimeout(r, 400));
    expect(s.restarts()).toBe(1);
    expect(lines).toEqual([expect.stringMatching(/^sleeper exited \(SIGKILL\); restarting in \d+ ms$/)]);
  });

  it('leaves a crash-looping child down and says so', async () => {
    const lines: string[] = [];
    let gaveUp = false;
    const s = supervise({
      name: 'crasher', command: process.execPath, args: ['-e', 'process.exit(3)'], options: { stdio: 'ignore' },
      log: (l) => lines.push(l), maxRestarts: 2, crashWindowMs: 60_000, onGiveUp: () => { gaveUp = true; },
    });
    await waitFor(() => gaveUp);
    expect(s.restarts()).toBe(2);
    expect(lines.at(-1)).toBe('crasher exited (3) 3 times within 60 s; leaving it down');
    await s.stop();
  });
});
