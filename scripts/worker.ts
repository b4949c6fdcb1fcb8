// The worker process: runs workflows and activities and relays the workflow outbox.

import { createDeps, startWorkerFor } from '../api/app.ts';
import { loadConfig } from '../infra/config.ts';
import { connectClient, ensureSearchAttributes } from '../infra/temporal.ts';
import { engineSchedules, ensureSchedules } from '../infra/schedules.ts';

const config = loadConfig();
const log = (msg: string) => console.log(`[worker] ${msg}`);
log(`${config.mode} mode`);
const deps = createDeps(config, log);
const client = await connectClient(config.temporalAddress, config.temporalNamespace);
await ensureSearchAttributes(client, config.temporalNamespace);
await ensureSchedules(client, engineSchedules(config.taskQueue, config.idempotencyRetentionHours, config.clearingTimeZone));
const engine = await startWorkerFor(deps, client, { log });
log(`polling task queue ${config.taskQueue} on ${config.temporalAddress}`);

async function shutdown(): Promise<void> {
  await engine.stop();
  await client.connection.close();
  await deps.close();
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
await engine.running;
