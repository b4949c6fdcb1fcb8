// `npm run cluster [-- --temporal dev] [--port N]`: the engine as production runs it, on this
// machine (see scripts/cluster/index.ts). Ctrl-C or SIGTERM stops everything it started.

import { parseArgs } from 'node:util';
import { startCluster } from './cluster/index.ts';

const { values } = parseArgs({
  options: {
    temporal: { type: 'string', default: 'server' },
    port: { type: 'string', default: '8080' },
    apis: { type: 'string', default: '2' },
    workers: { type: 'string', default: '2' },
  },
});
if (values.temporal !== 'server' && values.temporal !== 'dev') {
  console.error('--temporal must be "server" (Temporal Server on PostgreSQL) or "dev" (the SQLite dev server)');
  process.exit(2);
}
const log = (line: string) => console.log(`[cluster] ${line}`);
if (!process.env.APP_MODE) log('running in DEVELOPMENT mode (development secrets and payment provider); never expose it');

const cluster = await startCluster({
  temporal: values.temporal,
  lbPort: Number(values.port),
  apis: Number(values.apis),
  workers: Number(values.workers),
  log,
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping everything`);
  await cluster.stop();
  process.exit(0);
}
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));

console.log(`\n  Voucher engine cluster is running. Ctrl-C stops everything started here.\n\n${cluster.describe().replace(/^/gm, '  ')}\n`);
