/**
 * The engine as production runs it, on one machine: the real Temporal server on the local
 * PostgreSQL, a Redis of its own, two API replicas behind a round-robin load balancer and two
 * workers, all from the compiled build (dist/) and supervised so a killed process comes back.
 * startCluster() returns handles to kill or restart each part (the chaos test uses them);
 * scripts/cluster.ts is the command line around it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from '../../infra/migrate.ts';
import { ensureDatabase } from '../stack/postgres.ts';
import { freePort, spawnService, waitUntil, which, type Log, type ServiceProcess } from '../stack/processes.ts';
import { redisPing } from '../stack/redis.ts';
import { supervise, type Supervised } from '../stack/supervisor.ts';
import { startLoadBalancer, type LoadBalancer } from './load-balancer.ts';
import { startTemporalDev, startTemporalServer, temporalServerBinaries, type TemporalHandle } from './temporal-server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ClusterOptions {
  /** 'server' (default): Temporal Server on PostgreSQL; 'dev': the CLI's SQLite dev server. */
  temporal?: 'server' | 'dev';
  apis?: number;
  workers?: number;
  /** The engine's database (created if missing, migrations applied). */
  databaseUrl?: string;
  dataDir?: string;
  /** Port of the load balancer (0 = any free port). */
  lbPort?: number;
  temporalPort?: number;
  namespace?: string;
  smtpUrl?: string | null;
  /** Extra environment for the APIs and workers (e.g. limits a load test must lift). */
  env?: Record<string, string>;
  log?: Log;
}

export interface ManagedService {
  readonly name: string;
  process(): ServiceProcess | null;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface Cluster {
  lbUrl: string;
  apiUrls: string[];
  workerOpsUrls: string[];
  temporalAddress: string;
  temporalNamespace: string;
  temporalUi: string;
  databaseUrl: string;
  redisUrl: string;
  logsDir: string;
  apis: Supervised[];
  workers: Supervised[];
  temporal: ManagedService;
  redis: ManagedService;
  lb: LoadBalancer;
  describe(): string;
  stop(): Promise<void>;
}

const SOURCE_DIRS = ['api', 'services', 'workflows', 'activities', 'infra', 'domain', 'scripts', 'prisma'];

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (/\.(ts|prisma|sql)$/.test(entry.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** `npm run build`'s server part, when dist/ is missing or older than the sources. */
export function ensureBuild(log: Log): void {
  const built = ['api.js', 'worker.js', 'workflow-bundle.js'].map((f) => path.join(ROOT, 'dist', f));
  const builtAt = built.every((f) => existsSync(f)) ? Math.min(...built.map((f) => statSync(f).mtimeMs)) : 0;
  const sourcesAt = Math.max(...SOURCE_DIRS.map((d) => newestMtime(path.join(ROOT, d))));
  if (builtAt > sourcesAt) return;
  log(builtAt ? 'dist/ is older than the sources: rebuilding' : 'no build yet: building dist/');
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/build.ts')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('scripts/build.ts failed');
}

async function startRedis(logsDir: string): Promise<ManagedService & { url: string }> {
  const bin = which('redis-server');
  if (!bin) throw new Error('redis-server not found: the cluster runs a Redis of its own');
  const port = await freePort();
  let proc: ServiceProcess | null = null;
  const svc = {
    name: 'redis',
    url: `redis://127.0.0.1:${port}/0`,
    process: () => proc,
    async start() {
      proc = spawnService({
        name: 'redis', command: bin,
        args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        logFile: path.join(logsDir, 'redis.log'),
      });
      await waitUntil(() => redisPing('127.0.0.1', port, 500), { what: 'redis-server', timeoutMs: 15_000, intervalMs: 100, proc });
    },
    async stop() {
      await proc?.stop(5_000);
      proc = null;
    },
  };
  await svc.start();
  return svc;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? ((line: string) => console.log(`[cluster] ${line}`));
  const dataDir = path.resolve(opts.dataDir ?? path.join(ROOT, '.data/cluster'));
  const logsDir = path.join(dataDir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const databaseUrl = opts.databaseUrl ?? process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/voucher_cluster';
  const namespace = opts.namespace ?? 'voucher-cluster';
  const cleanups: Array<() => Promise<void>> = [];
  const children: Supervised[] = [];
  const stopAll = async () => {
    // All at once: Ctrl-C reaches the children too, and one left running would be restarted.
    await Promise.all(children.map((c) => c.stop(10_000)));
    children.length = 0;
    for (const c of cleanups.reverse()) await c().catch((e) => log(`stop: ${(e as Error).message}`));
    cleanups.length = 0;
  };

  try {
    ensureBuild(log);
    await ensureDatabase(databaseUrl, log);
    log('applying migrations');
    await migrate(databaseUrl);

    const redis = await startRedis(logsDir);
    cleanups.push(() => redis.stop());

    const dbName = new URL(databaseUrl).pathname.slice(1) || 'voucher_cluster';
    let temporal: TemporalHandle & { uiUrl?: string };
    const temporalCommon = { namespace, dataDir, logsDir, preferredPort: opts.temporalPort ?? 17233, log };
    const temporalDb = `temporal_${dbName.replace(/^voucher_?/, '') || 'cluster'}`;
    const server = (opts.temporal ?? 'server') === 'server'
      ? await temporalServerBinaries(log).catch((e: Error) => {
        log(`Temporal Server is not available (${e.message.split('\n')[0]}); falling back to the SQLite dev server`);
        return null;
      })
      : null;
    if (server) {
      temporal = await startTemporalServer({ ...temporalCommon, databaseUrl, database: temporalDb, visibilityDatabase: `${temporalDb}_visibility` });
    } else {
      temporal = await startTemporalDev(temporalCommon);
    }
    cleanups.push(() => temporal.stop());

    const apiPorts = await Promise.all(Array.from({ length: opts.apis ?? 2 }, () => freePort()));
    const workerPorts = await Promise.all(Array.from({ length: opts.workers ?? 2 }, () => freePort()));
    const apiUrls = apiPorts.map((p) => `http://127.0.0.1:${p}`);
    const lb = await startLoadBalancer({ backends: apiUrls, port: opts.lbPort ?? 0 });
    cleanups.push(() => lb.close());

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      APP_MODE: process.env.APP_MODE === 'test' ? 'test' : 'development',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: namespace,
      HOST: '127.0.0.1',
      // Exactly one proxy (ours) in front: the client is the address it saw.
      TRUST_PROXY: '1',
      PUBLIC_URL: lb.url,
      PAYMENT_PROVIDER: 'dev',
      STRIPE_SECRET_KEY: '',
      STRIPE_WEBHOOK_SECRET: '',
      SHUTDOWN_GRACE_MS: '5000',
      ...(opts.smtpUrl ? { SMTP_URL: opts.smtpUrl } : {}),
      ...opts.env,
    };
    delete env.TEMPORAL_UI_URL;
    if (temporal.uiUrl) env.TEMPORAL_UI_URL = temporal.uiUrl;

    function run(name: string, script: string, extra: NodeJS.ProcessEnv): Supervised {
      const fd = openSync(path.join(logsDir, `${name}.log`), 'a');
      const child = supervise({
        name, command: process.execPath, args: ['--enable-source-maps', path.join(ROOT, 'dist', script)],
        options: { cwd: ROOT, env: { ...env, ...extra }, stdio: ['ignore', fd, fd] },
        log,
        // Temporal or the database being restarted makes a starting worker fail a few times.
        maxRestarts: 30,
      });
      children.push(child);
      return child;
    }
    const workers = workerPorts.map((p, i) => run(`worker-${i + 1}`, 'worker.js', { WORKER_OPS_PORT: String(p) }));
    const apis = apiPorts.map((p, i) => run(`api-${i + 1}`, 'api.js', { PORT: String(p) }));
    const workerOpsUrls = workerPorts.map((p) => `http://127.0.0.1:${p}`);

    for (const url of [...apiUrls, ...workerOpsUrls]) {
      await waitUntil(() => answers(`${url}/health/ready`), { what: `${url}/health/ready`, timeoutMs: 120_000, intervalMs: 250 });
    }

    const temporalUi = temporal.uiUrl ?? 'none: Temporal Server has no built-in web UI (use `temporal` CLI with --address, or run temporalio/ui)';
    const cluster: Cluster = {
      lbUrl: lb.url, apiUrls, workerOpsUrls, temporalAddress: temporal.address, temporalNamespace: namespace, temporalUi,
      databaseUrl, redisUrl: redis.url, logsDir, apis, workers, temporal: { name: 'temporal', ...temporal }, redis, lb,
      describe: () => [
        `Load balancer   ${lb.url}   (round robin over the APIs; X-Forwarded-For, APIs run with TRUST_PROXY=1)`,
        ...apiUrls.map((u, i) => `API ${i + 1}           ${u}   (docs ${u}/docs, health ${u}/health/ready, metrics ${u}/metrics)`),
        ...workerOpsUrls.map((u, i) => `Worker ${i + 1} ops    ${u}   (health ${u}/health/ready, metrics ${u}/metrics)`),
        `Temporal        ${temporal.description}`,
        `  namespace     ${namespace}`,
        `  UI            ${temporalUi}`,
        `PostgreSQL      ${databaseUrl.replace(/:[^:@/]*@/, ':***@')}`,
        `Redis           ${redis.url}`,
        `Mail            ${opts.smtpUrl ?? process.env.SMTP_URL ?? 'no SMTP_URL: mail is not sent'}`,
        `Logs            ${logsDir}`,
      ].join('\n'),
      stop: stopAll,
    };
    return cluster;
  } catch (e) {
    await stopAll();
    throw e;
  }
}
