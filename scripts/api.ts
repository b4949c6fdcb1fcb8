// The API process: REST, tRPC, OpenAPI and docs on one port. It starts without Temporal and
// connects to it in the background: tills keep authorizing and capturing while Temporal is down.

import { createDeps } from '../api/app.ts';
import { buildServer } from '../api/server.ts';
import { loadConfig } from '../infra/config.ts';
import { connectTemporalInBackground } from '../infra/temporal-connect.ts';

const config = loadConfig();
const log = (msg: string) => console.log(`[api] ${msg}`);
log(`${config.mode} mode`);
const deps = createDeps(config, log);
const temporal = connectTemporalInBackground(config.temporalAddress, config.temporalNamespace, {
  log, onConnected: (client) => (deps.temporal = client),
});
const app = await buildServer(deps, { logger: process.env.API_LOG === '1' });
await app.listen({ host: config.host, port: config.port });
log(`listening on http://${config.host}:${config.port}`);

async function shutdown(): Promise<void> {
  await app.close();
  await temporal.close();
  await deps.close();
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
