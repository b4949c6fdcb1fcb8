// The real Temporal server (not the SQLite dev server) on the local PostgreSQL: its databases and
// schema are made by its own sql tool, its config is written here, and the process can be stopped
// and started again on the same ports, as a rolling restart or a crash would.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { temporalBinary, temporalServerBinary, temporalServerModuleDir, temporalSqlToolBinary } from '../stack/go-binaries.ts';
import { freePort, portIsFree, spawnService, waitUntil, type Log, type ServiceProcess } from '../stack/processes.ts';
import { probeTemporal } from '../stack/temporal.ts';

export interface TemporalHandle {
  address: string;
  namespace: string;
  description: string;
  /** The process now running, or null while stopped. */
  process(): ServiceProcess | null;
  stop(): Promise<void>;
  /** Starts it again (same ports, same data) and waits until the namespace answers. */
  start(): Promise<void>;
}

export interface PgTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function pgTargetFrom(databaseUrl: string): PgTarget {
  const u = new URL(databaseUrl);
  return { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username || 'postgres'), password: decodeURIComponent(u.password) };
}

async function hasSchemaVersion(target: PgTarget, database: string): Promise<boolean> {
  const client = new pg.Client({ ...target, database, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const r = await client.query(`SELECT to_regclass('public.schema_version') IS NOT NULL AS present`);
    return Boolean(r.rows[0]?.present);
  } finally {
    await client.end();
  }
}

/** Creates the database if missing and brings its schema to the newest version the tool knows. */
async function setupSchema(sqlTool: string, target: PgTarget, database: string, versionedDir: string, log: Log): Promise<void> {
  const base = ['--plugin', 'postgres12', '--ep', target.host, '-p', String(target.port), '-u', target.user, '--db', database];
  if (target.password) base.push('--pw', target.password);
  const run = (args: string[], quiet = false) => {
    const r = spawnSync(sqlTool, [...base, ...(quiet ? ['--quiet'] : []), ...args], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`temporal-sql-tool ${args.join(' ')} on ${database} failed: ${r.stderr || r.stdout}`);
  };
  run(['create-database'], true); // --quiet: "already exists" is fine
  if (!(await hasSchemaVersion(target, database))) {
    log(`Temporal: setting up schema in ${database}`);
    run(['setup-schema', '-v', '0.0']);
  }
  run(['update-schema', '-d', versionedDir]);
}

// Not system.forceSearchAttributesCacheRefreshOnRead ("should not be turned on in production"): it
// reads the cluster metadata from the database, under one process-wide lock, on every start,
// upsert and visibility write. With SQL visibility, registering a search attribute only updates
// the namespace (its alias), so nothing waits on that cache.
const DYNAMIC_CONFIG = `# Features the engine's workflows use (update-with-start, updates).
frontend.enableExecuteMultiOperation:
  - value: true
frontend.enableUpdateWorkflowExecution:
  - value: true
system.enableActivityEagerExecution:
  - value: true
`;

function serverConfig(o: { target: PgTarget; database: string; visibilityDatabase: string; ports: Record<string, number>; dynamicConfigFile: string }): string {
  const store = (db: string, conns: number) => `
      sql:
        pluginName: "postgres12"
        databaseName: "${db}"
        connectAddr: "${o.target.host}:${o.target.port}"
        connectProtocol: "tcp"
        user: "${o.target.user}"
        password: "${o.target.password}"
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: "1h"`;
  const svc = (name: string) => `
  ${name}:
    rpc:
      grpcPort: ${o.ports[name]}
      membershipPort: ${o.ports[`${name}Membership`]}
      bindOnLocalHost: true`;
  return `# Written by scripts/cluster/temporal-server.ts on each start.
log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:${store(o.database, 10)}
    visibility:${store(o.visibilityDatabase, 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
services:${svc('frontend')}
      httpPort: ${o.ports.frontendHttp}${svc('history')}${svc('matching')}${svc('worker')}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${o.ports.frontend}"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "${o.dynamicConfigFile}"
  pollInterval: "10s"
`;
}

// One block of ports next to the frontend's. All below 32768: the server stores its membership
// ports in a smallint column, so the kernel's ephemeral ports (freePort) do not fit.
const PORT_OFFSETS: Record<string, number> = {
  frontend: 0, history: 1, matching: 2, worker: 6, frontendHttp: 10,
  frontendMembership: 20, historyMembership: 21, matchingMembership: 22, workerMembership: 26,
};

async function pickPorts(preferredFrontend: number): Promise<Record<string, number>> {
  for (let base = preferredFrontend; base + 30 < 32768; base += 100) {
    const ports = Object.fromEntries(Object.entries(PORT_OFFSETS).map(([name, offset]) => [name, base + offset]));
    const free = await Promise.all(Object.values(ports).map((p) => portIsFree(p)));
    if (free.every(Boolean)) return ports;
  }
  throw new Error(`no free block of Temporal ports from ${preferredFrontend} up`);
}

async function createNamespace(address: string, namespace: string, log: Log): Promise<void> {
  const cli = await temporalBinary(log);
  const r = spawnSync(cli, ['operator', 'namespace', 'create', '--namespace', namespace, '--retention', '72h', '--address', address], {
    encoding: 'utf8', timeout: 60_000,
  });
  if (r.status !== 0 && !/already exists|AlreadyExists/i.test(r.stderr + r.stdout)) {
    throw new Error(`temporal operator namespace create ${namespace} failed: ${r.stderr || r.stdout}`);
  }
}

/** The server and its sql tool, built with `go install` (pinned) into the cache when missing. */
export async function temporalServerBinaries(log: Log): Promise<{ server: string; sqlTool: string }> {
  return { server: await temporalServerBinary(log), sqlTool: await temporalSqlToolBinary(log) };
}

export async function startTemporalServer(opts: {
  databaseUrl: string; // only host, port and credentials are used
  database: string;
  visibilityDatabase: string;
  namespace: string;
  dataDir: string;
  logsDir: string;
  preferredPort: number;
  log: Log;
}): Promise<TemporalHandle> {
  const { log } = opts;
  const { server, sqlTool } = await temporalServerBinaries(log);
  const schemaRoot = path.join(temporalServerModuleDir(), 'schema', 'postgresql', 'v12');
  const target = pgTargetFrom(opts.databaseUrl);
  await setupSchema(sqlTool, target, opts.database, path.join(schemaRoot, 'temporal', 'versioned'), log);
  await setupSchema(sqlTool, target, opts.visibilityDatabase, path.join(schemaRoot, 'visibility', 'versioned'), log);

  const configDir = path.join(opts.dataDir, 'temporal-config');
  mkdirSync(configDir, { recursive: true });
  const dynamicConfigFile = path.join(configDir, 'dynamic-config.yaml');
  writeFileSync(dynamicConfigFile, DYNAMIC_CONFIG);
  const ports = await pickPorts(opts.preferredPort);
  writeFileSync(path.join(configDir, 'cluster.yaml'), serverConfig({
    target, database: opts.database, visibilityDatabase: opts.visibilityDatabase, ports, dynamicConfigFile,
  }));
  const address = `127.0.0.1:${ports.frontend}`;

  let proc: ServiceProcess | null = null;
  async function start(): Promise<void> {
    const t0 = Date.now();
    proc = spawnService({
      name: 'temporal-server',
      command: server,
      args: ['--root', opts.dataDir, '--config', 'temporal-config', '--env', 'cluster', '--allow-no-auth', 'start'],
      logFile: path.join(opts.logsDir, 'temporal-server.log'),
    });
    await waitUntil(async () => (await probeTemporal(address, 'temporal-system', 1000)) === 'ready', {
      what: 'Temporal server', timeoutMs: 120_000, intervalMs: 500, proc,
    });
    await createNamespace(address, opts.namespace, log);
    await waitUntil(async () => (await probeTemporal(address, opts.namespace, 1000)) === 'ready', {
      what: `Temporal namespace ${opts.namespace}`, timeoutMs: 60_000, intervalMs: 500, proc,
    });
    log(`Temporal server ready on ${address} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  await start();
  return {
    address,
    namespace: opts.namespace,
    description: `Temporal Server 1.29.1 on ${address} (PostgreSQL databases ${opts.database}, ${opts.visibilityDatabase}; no web UI: the server does not include one)`,
    process: () => proc,
    async stop() {
      await proc?.stop(15_000);
      proc = null;
    },
    start,
  };
}

/** Fallback when the server binary cannot be had: the CLI's SQLite dev server, on its own ports. */
export async function startTemporalDev(opts: {
  namespace: string;
  dataDir: string;
  logsDir: string;
  preferredPort: number;
  log: Log;
}): Promise<TemporalHandle & { uiUrl: string }> {
  const cli = await temporalBinary(opts.log);
  const port = (await portIsFree(opts.preferredPort)) ? opts.preferredPort : await freePort();
  const uiPort = await freePort();
  const address = `127.0.0.1:${port}`;
  mkdirSync(opts.dataDir, { recursive: true });
  let proc: ServiceProcess | null = null;
  async function start(): Promise<void> {
    proc = spawnService({
      name: 'temporal-dev',
      command: cli,
      args: [
        'server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort), '--log-level', 'warn',
        '--db-filename', path.join(opts.dataDir, 'temporal-dev.sqlite'), '--namespace', opts.namespace,
        '--dynamic-config-value', 'frontend.enableExecuteMultiOperation=true',
        '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true',
        '--dynamic-config-value', 'system.enableActivityEagerExecution=true',
      ],
      logFile: path.join(opts.logsDir, 'temporal-dev.log'),
    });
    await waitUntil(async () => (await probeTemporal(address, opts.namespace, 1000)) === 'ready', {
      what: 'Temporal dev server', timeoutMs: 90_000, intervalMs: 300, proc,
    });
  }
  await start();
  return {
    address,
    namespace: opts.namespace,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    description: `Temporal dev server (SQLite) on ${address}, UI http://127.0.0.1:${uiPort}`,
    process: () => proc,
    async stop() {
      await proc?.stop(15_000);
      proc = null;
    },
    start,
  };
}
