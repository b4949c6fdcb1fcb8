// The API and the worker as their own processes (scripts/api.ts, scripts/worker.ts) on a
// harness's database and Temporal namespace, with their JSON logs written to files: for tests of
// what production processes emit (traces, logs).

import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processEnv, waitFor, type Harness } from './harness.ts';
import { unusedPort } from './net.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface EngineProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr, as a file. */
  logFile: string;
  exited: Promise<number | null>;
  log(): string;
}

function startProcess(script: string, env: Record<string, string>, logFile: string): EngineProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const file = createWriteStream(logFile);
  child.stdout!.pipe(file, { end: false });
  child.stderr!.pipe(file, { end: false });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    file.end(() => resolve(code));
  }));
  return { child, logFile, exited, log: () => readFileSync(logFile, 'utf8') };
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

export interface EngineProcesses {
  api: EngineProcess;
  worker: EngineProcess;
  apiUrl: string;
  taskQueue: string;
  /** SIGTERM to both; resolves with their exit codes once their logs are flushed. */
  stop(): Promise<[number | null, number | null]>;
}

/** Starts an API and a worker on a task queue of their own and waits until both are ready. */
export async function startEngineProcesses(h: Harness, opts: { env?: Record<string, string>; logDir: string }): Promise<EngineProcesses> {
  const [apiPort, opsPort] = [await unusedPort(), await unusedPort()];
  const taskQueue = `processes-${randomUUID()}`;
  const env = { ...process.env, ...processEnv(h), TEMPORAL_TASK_QUEUE: taskQueue, SHUTDOWN_GRACE_MS: '5000', ...opts.env } as Record<string, string>;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const api = startProcess('scripts/api.ts', { ...env, PORT: String(apiPort), PUBLIC_URL: apiUrl }, path.join(opts.logDir, 'api.log'));
  const worker = startProcess('scripts/worker.ts', { ...env, WORKER_OPS_PORT: String(opsPort) }, path.join(opts.logDir, 'worker.log'));
  const stop = async (): Promise<[number | null, number | null]> => {
    for (const p of [api, worker]) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    return Promise.all([api.exited, worker.exited]);
  };
  try {
    await waitFor(async () => {
      for (const p of [api, worker]) if (p.child.exitCode !== null) throw new Error(`${p.logFile}: exited early\n${p.log()}`);
      return (await answers(`${apiUrl}/health/ready`)) && (await answers(`http://127.0.0.1:${opsPort}/health/ready`));
    }, 120_000, 250);
    // Orders need the API's Temporal connection, made in the background.
    await waitFor(async () => (await (await fetch(`${apiUrl}/health/ready`)).json()).checks?.temporal?.status === 'up', 60_000, 250);
  } catch (err) {
    await stop();
    throw err;
  }
  return { api, worker, apiUrl, taskQueue, stop };
}
