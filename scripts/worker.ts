// The worker process: runs workflows and activities and relays the workflow outbox. It serves
// /metrics and /health on its operations port, and on SIGTERM stops polling, gives activities in
// flight the grace period to finish (then hands them back to Temporal for another worker), and exits.

import { loadConfig, workerTaskQueues } from '../infra/config.ts';
import { createLogger } from '../infra/logger.ts';
import { registerBacklogGauges } from '../infra/metrics.ts';
import { startOpsServer } from '../infra/ops-server.ts';
import { connectClient, ensureSearchAttributes } from '../infra/temporal.ts';
import { engineSchedules, ensureSchedules } from '../infra/schedules.ts';
import { installTemporalRuntime } from '../infra/worker.ts';
import { createWorkerDeps, startWorkerFor } from '../infra/worker-app.ts';
import { startTracing } from '../infra/tracing.ts';

const config = loadConfig();
const logger = createLogger('worker');
const log = (msg: string) => logger.info(msg);
installTemporalRuntime({
  logLevel: (process.env.TEMPORAL_LOG_LEVEL as 'WARN' | 'INFO' | 'DEBUG' | undefined) ?? 'WARN',
  logger,
  prometheusBindAddress: config.ops.temporalMetricsBind,
});
log(`${config.mode} mode`);

// Handled from the first line on: Temporal's runtime also listens for these signals and, before
// the engine runs, would swallow a stop (the supervisor's SIGTERM, a Ctrl-C) and leave this process
// polling on its own. `process.on`, not `once`: a second signal must not kill a worker mid-drain.
let stopping = false;
let running: { stop(): Promise<void> } | null = null;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (!running) {
    log(`${signal} while starting: exiting (nothing polled yet to hand back)`);
    process.exit(0);
  }
  log(`${signal}: stopping (activities in flight get ${config.ops.shutdownGraceMs} ms)`);
  await running.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

const deps = createWorkerDeps(config, log);
// Before the client and the worker exist: they pick their interceptors and sinks up when created.
const tracing = startTracing('voucher-worker', config.ops.tracing);
if (config.ops.tracing) log(`traces to ${config.ops.tracing.tracesUrl} (${config.ops.tracing.protocol})`);
const client = await connectClient(config.temporalAddress, config.temporalNamespace);
await ensureSearchAttributes(client, config.temporalNamespace);
await ensureSchedules(client, engineSchedules(config.taskQueue, config.idempotencyRetentionHours, config.clearingTimeZone));
const engine = await startWorkerFor(deps, client, { log, shutdownGraceMs: config.ops.shutdownGraceMs });
let ops: Awaited<ReturnType<typeof startOpsServer>> | null = null;
running = {
  async stop() {
    await engine.stop();
    await ops?.close();
    await client.connection.close();
    await deps.close();
    await tracing.shutdown();
  },
};
log(`polling task queue ${workerTaskQueues(config).join(', ')} on ${config.temporalAddress} (WORKER_ROLE ${config.workerRole})`);

registerBacklogGauges(deps.db.pool, undefined, config.clearingTimeZone);
ops = config.ops.workerPort === 0 ? null : await startOpsServer({
  host: config.host,
  port: config.ops.workerPort,
  alive: () => engine.workers.every((w) => w.getState() === 'RUNNING'),
  sdkMetricsUrl: config.ops.temporalMetricsBind ? `http://${config.ops.temporalMetricsBind}/metrics` : null,
  checks: {
    postgres: { required: true, check: async () => { await deps.db.pool.query('SELECT 1'); } },
    temporal: {
      required: true,
      check: async () => {
        await client.connection.withDeadline(Date.now() + 1_000, () => client.connection.workflowService.getSystemInfo({}));
      },
    },
    redis: { required: false, check: () => deps.cache.ping() },
  },
});
if (ops) log(`metrics and health on ${ops.url}`);

await engine.running;
