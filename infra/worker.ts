// The worker process's moving parts: a Temporal worker for workflows and activities, and the
// outbox relay that starts and signals workflows for committed ledger changes.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleOption, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createActivities, type ActivityDeps } from '../activities/index.ts';
import { OutboxRelay } from '../services/outbox-relay.ts';
import { WebhookRelay } from '../services/webhook-relay.ts';
import { connectWorkerConnection } from './temporal.ts';
import { temporalActivityInterceptors, temporalTracingSinks } from './tracing.ts';
import type pg from 'pg';
import type { Logger as PinoLogger } from 'pino';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** Bundled with the workflows, always: it traces only workflows started with a trace. */
export const WORKFLOW_TRACING_INTERCEPTORS = fileURLToPath(new URL('../workflows/tracing-interceptors.ts', import.meta.url));
/** Written by `npm run build` beside the built worker (dist/); absent when running from source. */
const PREBUILT_BUNDLE = fileURLToPath(new URL('./workflow-bundle.js', import.meta.url));

/** Bundles workflow code once; tests and benchmarks reuse the bundle across workers. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: [WORKFLOW_TRACING_INTERCEPTORS], logger: quietBundlerLogger });
}

const quietBundlerLogger = {
  log() {}, trace() {}, debug() {}, info() {},
  warn: (msg: string) => console.warn(msg),
  error: (msg: string) => console.error(msg),
};

let runtimeInstalled = false;

export interface TemporalRuntimeOptions {
  /** The SDK logs every state change and the whole webpack report at INFO; WARN keeps warnings and errors. */
  logLevel?: 'WARN' | 'INFO' | 'DEBUG';
  /** host:port for the SDK's Prometheus exporter (worker task slots, poll latencies, failures); none when unset. */
  prometheusBindAddress?: string | null;
  /** Where the SDK's own log lines go (the process's JSON log); the console when unset. */
  logger?: Pick<PinoLogger, 'trace' | 'debug' | 'info' | 'warn' | 'error'>;
}

/** Installs the SDK's process-wide runtime once: log level and metrics exporter. */
export function installTemporalRuntime(opts: TemporalRuntimeOptions = {}): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new DefaultLogger(opts.logLevel ?? 'WARN', opts.logger ? (entry) => {
        const level = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
        opts.logger![level]({ ...entry.meta, source: 'temporal-sdk' }, entry.message);
      } : undefined),
      ...(opts.prometheusBindAddress
        ? { telemetryOptions: { metrics: { prometheus: { bindAddress: opts.prometheusBindAddress, countersTotalSuffix: true, useSecondsForDurations: true } } } }
        : {}),
    });
  } catch {
    // Already installed by the host process: keep its choice.
  }
}

export interface EngineWorkerOptions {
  temporalAddress: string;
  namespace: string;
  /** Every queue this worker polls, each with the same code and activities. */
  taskQueues: string[];
  /**
   * The relays' queues: redemptions start on `taskQueue`, webhook deliveries on `webhookTaskQueue`.
   * Null for a worker that only polls (an import worker): it starts no workflows of its own.
   */
  relays: { taskQueue: string; webhookTaskQueue: string } | null;
  client: Client;
  pool: pg.Pool;
  activityDeps: ActivityDeps;
  workflowBundle?: WorkflowBundleOption;
  log?: (msg: string) => void;
  /** On shutdown, how long activities in flight may still finish before they are cancelled and handed back. */
  shutdownGraceMs?: number;
}

export interface EngineWorker {
  /** One Temporal worker per queue, in the order of `taskQueues`. */
  workers: Worker[];
  /** Null on a worker without relays. */
  relay: OutboxRelay | null;
  /** Fans recorded webhook events out to endpoints and starts their delivery workflows. */
  webhookRelay: WebhookRelay | null;
  /** Resolves when the worker has stopped. */
  running: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The caller's bundle, else the production build's, else the sources bundled now (development):
 * once for all of this process's workers, which would otherwise each bundle their own copy.
 */
async function workflowBundle(given?: WorkflowBundleOption): Promise<WorkflowBundleOption> {
  if (given) return given;
  if (existsSync(PREBUILT_BUNDLE)) return { codePath: PREBUILT_BUNDLE };
  return bundleWorkflows();
}

export async function startEngineWorker(opts: EngineWorkerOptions): Promise<EngineWorker> {
  installTemporalRuntime({ logLevel: (process.env.TEMPORAL_LOG_LEVEL as 'WARN' | 'INFO' | 'DEBUG' | undefined) ?? 'WARN' });
  const connection = await connectWorkerConnection(opts.temporalAddress);
  const activities = createActivities(opts.activityDeps);
  const bundle = await workflowBundle(opts.workflowBundle);
  const create = (taskQueue: string) => Worker.create({
    connection,
    namespace: opts.namespace,
    taskQueue,
    workflowBundle: bundle,
    // The bundle has the workflow interceptors built in (bundleWorkflows, npm run build).
    interceptors: temporalActivityInterceptors(),
    sinks: temporalTracingSinks(),
    activities,
    ...(opts.shutdownGraceMs !== undefined ? { shutdownGraceTime: opts.shutdownGraceMs } : {}),
  });
  const workers: Worker[] = [];
  for (const queue of new Set(opts.taskQueues)) workers.push(await create(queue));
  const relay = opts.relays && new OutboxRelay({
    pool: opts.pool, client: opts.client, taskQueue: opts.relays.taskQueue, log: opts.log,
    startGraceMs: opts.activityDeps.config.outboxStartGraceMs,
  });
  const webhookRelay = opts.relays && new WebhookRelay({
    pool: opts.pool, client: opts.client, taskQueue: opts.relays.webhookTaskQueue, config: opts.activityDeps.config.webhooks, log: opts.log,
  });
  const running = Promise.all(workers.map((w) => w.run())).then(() => {});
  relay?.start();
  webhookRelay?.start();
  let stopped = false;
  return {
    workers,
    relay,
    webhookRelay,
    running,
    async stop() {
      if (stopped) return;
      stopped = true;
      await relay?.stop();
      await webhookRelay?.stop();
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running.catch(() => {});
      // Pooled SMTP connections would otherwise keep the process (and the relay's peer) busy.
      opts.activityDeps.mailer.close();
      await connection.close();
    },
  };
}
