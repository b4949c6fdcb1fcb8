// The API process: REST, tRPC, OpenAPI and docs on one port.

import { createDeps } from '../api/app.ts';
import { buildServer } from '../api/server.ts';
import { loadConfig } from '../infra/config.ts';
import { connectClient } from '../infra/temporal.ts';

const config = loadConfig();
const temporal = await connectClient(config.temporalAddress, config.temporalNamespace);
const deps = createDeps(config, (msg) => console.log(`[api] ${msg}`), temporal);
const app = await buildServer(deps, { logger: process.env.API_LOG === '1' });
await app.listen({ host: config.host, port: config.port });
console.log(`[api] listening on http://${config.host}:${config.port}`);

async function shutdown(): Promise<void> {
  await app.close();
  await temporal.connection.close();
  await deps.close();
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
