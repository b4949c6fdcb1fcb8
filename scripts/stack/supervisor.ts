// Keeps the development launcher's children alive: a worker or API that crashes is started again
// (after a pause that grows while it keeps crashing) instead of taking the whole stack down, as a
// process manager or Kubernetes would. Only a crash loop gives up.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface SupervisedSpec {
  name: string;
  command: string;
  args: string[];
  options: SpawnOptions;
  log: (line: string) => void;
  /** Restarts within `crashWindowMs` after which the launcher gives up (default 5 in 60 s). */
  maxRestarts?: number;
  crashWindowMs?: number;
  /** Called when the child crash-loops and is left down. */
  onGiveUp?: () => void;
}

export interface Supervised {
  readonly name: string;
  /** The process now running (it changes after a restart). */
  current(): ChildProcess;
  restarts(): number;
  /** Stops for good: SIGTERM, then SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
}

export function supervise(spec: SupervisedSpec): Supervised {
  const maxRestarts = spec.maxRestarts ?? 5;
  const windowMs = spec.crashWindowMs ?? 60_000;
  const crashes: number[] = [];
  let stopping = false;
  let restartCount = 0;
  let child = start();

  function start(): ChildProcess {
    const c = spawn(spec.command, spec.args, spec.options);
    c.once('exit', (code, signal) => {
      if (stopping) return;
      const now = Date.now();
      crashes.push(now);
      while (crashes.length && crashes[0]! < now - windowMs) crashes.shift();
      if (crashes.length > maxRestarts) {
        spec.log(`${spec.name} exited (${signal ?? code}) ${crashes.length} times within ${windowMs / 1000} s; leaving it down`);
        spec.onGiveUp?.();
        return;
      }
      const delay = Math.min(250 * 2 ** (crashes.length - 1), 5_000);
      spec.log(`${spec.name} exited (${signal ?? code}); restarting in ${delay} ms`);
      setTimeout(() => {
        if (stopping) return;
        restartCount++;
        child = start();
      }, delay).unref();
    });
    return c;
  }

  return {
    name: spec.name,
    current: () => child,
    restarts: () => restartCount,
    stop(graceMs = 10_000) {
      stopping = true;
      const c = child;
      return new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
        setTimeout(() => c.kill('SIGKILL'), graceMs).unref();
      });
    },
  };
}
