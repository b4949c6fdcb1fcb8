// Brings up the engine as production runs it: the stack's services, a freshly migrated bench
// database, and the API and the worker as separate Node processes (scripts/api.ts,
// scripts/worker.ts). In-process servers would share the load generator's event loop and
// hide the cost of the process boundary, so they would flatter the numbers.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate, resetDatabase } from '../../infra/migrate.ts';
import { ensureBuild } from '../../scripts/cluster/index.ts';
import { startTemporalServer } from '../../scripts/cluster/temporal-server.ts';
import { startStack, type Stack } from '../../scripts/stack/index.ts';
import { freePort, sleep, spawnService, waitUntil, type ServiceProcess } from '../../scripts/stack/processes.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Engine {
  stack: Stack;
  databaseUrl: string;
  apiUrl: string;
  taskQueue: string;
  api: ServiceProcess;
  worker: ServiceProcess;
  /** The worker of role `import` when asked for (`importWorker`), else null. */
  importWorker: ServiceProcess | null;
  /** Stops the children, then the stack; idempotent, also run on Ctrl-C. */
  stop(): Promise<void>;
}

/** The stack with the Temporal Server on PostgreSQL started beside it, and stopped with it. */
async function withTemporalServer(stack: Stack, dataDir: string, log: (line: string) => void): Promise<Stack> {
  const server = await startTemporalServer({
    databaseUrl: stack.databaseUrl, database: 'voucher_bench_temporal', visibilityDatabase: 'voucher_bench_temporal_visibility',
    namespace: 'default', dataDir: path.join(dataDir, 'temporal-server'), logsDir: path.join(dataDir, 'logs'), preferredPort: 17233, log,
  });
  log(server.description);
  return {
    ...stack, temporalAddress: server.address, temporalNamespace: server.namespace,
    started: [...stack.started, server.description],
    stop: async () => {
      await server.stop();
      await stack.stop();
    },
  };
}

/** Migrations go through the Prisma engine shim, which may be mid-edit by a colleague: retry. */
async function migrateFresh(databaseUrl: string, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (let attempt = 1; ; attempt++) {
    // Reset every attempt: a half-applied migration would block `migrate deploy` (P3009).
    await resetDatabase(databaseUrl);
    try {
      await migrate(databaseUrl);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      const first = String((err as Error).message).split('\n').slice(0, 3).join(' | ');
      log(`migrate failed (attempt ${attempt}), retrying in 60 s: ${first}`);
      await sleep(60_000);
    }
  }
}

export interface EngineOptions {
  dataDir: string;
  log: (line: string) => void;
  /** Start stripe-mock too (its URL is then `engine.stack.stripeMockUrl`). */
  stripeMock?: boolean;
  /** Extra environment for the API and the worker, e.g. payment and mail settings. */
  env?: (ctx: { stack: Stack; apiUrl: string }) => NodeJS.ProcessEnv;
  /**
   * Run legacy imports in a worker process of their own (WORKER_ROLE=import) from the production
   * build (dist/, built if stale), as deployed; the engine's worker then polls everything else
   * (WORKER_ROLE=engine). `env` is the import worker's own (e.g. NODE_OPTIONS with its heap limit).
   */
  importWorker?: { env?: NodeJS.ProcessEnv };
  /**
   * Keep the bench database as the last run left it (pending migrations applied) instead of
   * resetting it: a later benchmark reads a month an earlier one took long to generate.
   */
  keepDatabase?: boolean;
  /**
   * `dev`: the Temporal CLI's dev server (SQLite in memory), as the tests use. `server`: the
   * Temporal Server on PostgreSQL as deployed (scripts/cluster/temporal-server.ts), its databases
   * beside the bench database. The dev server adds about 40 ms to every workflow task's dispatch
   * (3-4 ms on the server), so workflow latencies are measured on both.
   */
  temporal?: 'dev' | 'server';
}

export async function startEngine(opts: EngineOptions): Promise<Engine> {
  const { log } = opts;
  const children: ServiceProcess[] = [];
  let stack: Stack | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    // Children first: they hold connections to the services the stack is about to stop.
    await Promise.all(children.map((c) => c.stop(20_000)));
    await stack?.stop();
  })());

  // Ctrl-C: stop everything we started before exiting (the stack's own hook stands aside when
  // the application handles the signal itself).
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping the API, the worker and the stack`);
    void stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const onServer = opts.temporal === 'server';
    stack = await startStack({ purpose: 'bench', dataDir: opts.dataDir, stripeMock: opts.stripeMock, withoutTemporal: onServer });
    if (onServer) stack = await withTemporalServer(stack, opts.dataDir, log);
    if (opts.keepDatabase) {
      log('keeping the bench database as it is, applying pending migrations');
      await migrate(stack.databaseUrl);
    } else {
      log('resetting the bench database and applying migrations');
      await migrateFresh(stack.databaseUrl, log);
    }

    const port = await freePort();
    // A task queue of its own: a developer's worker on the same Temporal must not take our tasks.
    const taskQueue = `bench-${Date.now().toString(36)}`;
    const apiUrl = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: stack.databaseUrl,
      REDIS_URL: stack.redisUrl ?? 'off',
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_NAMESPACE: stack.temporalNamespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
      PORT: String(port),
      HOST: '127.0.0.1',
      ...opts.env?.({ stack, apiUrl }),
      ...(opts.importWorker ? { WORKER_ROLE: 'engine' } : {}),
    };
    const logsDir = path.join(opts.dataDir, 'logs');
    const spawnNode = (name: string, script: string, extraEnv: NodeJS.ProcessEnv = {}) => {
      const args = script.startsWith('dist/') ? [script] : ['--import', 'tsx', script];
      const proc = spawnService({
        name, command: process.execPath, args, env: { ...env, ...extraEnv }, cwd: ROOT,
        logFile: path.join(logsDir, `${name}.log`),
      });
      children.push(proc);
      return proc;
    };
    const workerLog = path.join(logsDir, 'worker.log');
    // The log is appended to across runs: only what this run writes counts.
    const logStart = existsSync(workerLog) ? readFileSync(workerLog, 'utf8').length : 0;
    const api = spawnNode('api', 'scripts/api.ts');
    const worker = spawnNode('worker', 'scripts/worker.ts');
    const importLog = path.join(logsDir, 'import-worker.log');
    const importLogStart = existsSync(importLog) ? readFileSync(importLog, 'utf8').length : 0;
    if (opts.importWorker) ensureBuild(log);
    const importWorker = opts.importWorker ? spawnNode('import-worker', 'dist/worker.js', { WORKER_ROLE: 'import', WORKER_OPS_PORT: '0', ...opts.importWorker.env }) : null;

    await waitUntil(async () => (await fetch(`${apiUrl}/health`)).ok, { what: 'API /health', timeoutMs: 60_000, proc: api });
    log(`API up at ${apiUrl} (pid ${api.pid}, log ${api.logFile})`);
    // The worker bundles the workflow code at start (webpack): tens of seconds on 2 cores.
    await waitUntil(async () => readFileSync(worker.logFile, 'utf8').slice(logStart).includes('polling task queue'),
      { what: 'worker', timeoutMs: 180_000, intervalMs: 500, proc: worker });
    log(`worker polling ${taskQueue} (pid ${worker.pid}, log ${worker.logFile})`);
    if (importWorker) {
      await waitUntil(async () => readFileSync(importWorker.logFile, 'utf8').slice(importLogStart).includes('polling task queue'),
        { what: 'import worker', timeoutMs: 180_000, intervalMs: 500, proc: importWorker });
      log(`import worker polling ${taskQueue}-import (pid ${importWorker.pid}, log ${importWorker.logFile})`);
    }

    return { stack, databaseUrl: stack.databaseUrl, apiUrl, taskQueue, api, worker, importWorker, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `--temporal dev|server` of the benchmarks that start an engine: see EngineOptions.temporal. */
export const TEMPORAL_OPTION = { temporal: { type: 'string', default: 'dev' } } as const;

/** The option's value, or null after saying on stderr what it takes. */
export function temporalKind(value: string | undefined): 'dev' | 'server' | null {
  if (value === 'dev' || value === 'server') return value;
  console.error('--temporal takes dev (the CLI dev server) or server (Temporal Server on PostgreSQL)');
  return null;
}
