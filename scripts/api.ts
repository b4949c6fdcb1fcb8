// The API process: REST, tRPC, OpenAPI and docs on one port. It starts without Temporal and
// connects to it in the background: tills keep authorizing and capturing while Temporal is down.
// On SIGTERM it turns unready, stops accepting connections, lets requests in flight finish within
// the grace period, and exits.

import { createDeps } from '../api/app.ts';
import { buildServer } from '../api/server.ts';
import { loadConfig } from '../infra/config.ts';
import { createLogger } from '../infra/logger.ts';
import { connectTemporalInBackground } from '../infra/temporal-connect.ts';
import { startTracing } from '../infra/tracing.ts';

const config = loadConfig();
const logger = createLogger('api');
const log = (msg: string) => logger.info(msg);
log(`${config.mode} mode`);
// Before any client or server exists: they pick their interceptors and hooks up when created.
const tracing = startTracing('voucher-api', config.ops.tracing);
if (config.ops.tracing) log(`traces to ${config.ops.tracing.tracesUrl} (${config.ops.tracing.protocol})`);
const deps = createDeps(config, log);
const temporal = connectTemporalInBackground(config.temporalAddress, config.temporalNamespace, {
  log, onConnected: (client) => (deps.temporal = client),
});
let draining = false;
// Request logs are on unless API_LOG=0 (a development console may want quiet).
const app = await buildServer(deps, { logger: process.env.API_LOG !== '0', isDraining: () => draining });
await app.listen({ host: config.host, port: config.port });
log(`listening on http://${config.host}:${config.port}`);

async function shutdown(signal: string): Promise<void> {
  if (draining) return;
  draining = true;
  log(`${signal}: draining (requests in flight get ${config.ops.shutdownGraceMs} ms)`);
  const deadline = setTimeout(() => {
    log('grace period over: closing the remaining connections');
    app.server.closeAllConnections();
  }, config.ops.shutdownGraceMs);
  await app.close();
  clearTimeout(deadline);
  await temporal.close();
  await deps.close();
  await tracing.shutdown();
  log('stopped');
  process.exit(0);
}
// `on`, not `once`: a Ctrl-C reaches every process of the group and the supervisor adds a SIGTERM;
// a repeated signal must not cut the drain short.
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
