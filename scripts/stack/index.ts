/**
 * Brings up what the voucher engine needs: PostgreSQL, Redis (optional), Temporal and, on request,
 * stripe-mock. Shared by `npm start`, the vitest global setup, benchmarks and CI, so that all of
 * them find or start services the same way.
 *
 * For each service: an explicit environment variable wins, then a server already running on the
 * standard local port, then a process we start ourselves. Only the latter are stopped by stop().
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { stripeMockBinary, temporalBinary } from './go-binaries.ts';
import { providePostgres } from './postgres.ts';
import type { Log, ServiceProcess } from './processes.ts';
import { provideRedis } from './redis.ts';
import { provideStripeMock } from './stripe-mock.ts';
import { provideTemporal } from './temporal.ts';

export type Purpose = 'dev' | 'test' | 'bench';

export interface StackOptions {
  purpose: Purpose;
  /** e.g. <repo>/.data (gitignored); dev persists state here. */
  dataDir: string;
  /** Default: console.log with a "[stack]" prefix. */
  log?: (line: string) => void;
  /** Start/locate stripe-mock too (default false). */
  stripeMock?: boolean;
  /**
   * Leave Temporal out (default: the dev server, or the one TEMPORAL_ADDRESS names): the caller
   * brings its own, e.g. the Temporal Server on PostgreSQL (scripts/cluster/temporal-server.ts).
   * temporalAddress is then empty.
   */
  withoutTemporal?: boolean;
}

export interface Stack {
  /** The database exists (created if missing); migrations are NOT applied here. */
  databaseUrl: string;
  /** null = no Redis reachable or startable: cache off (the log says so). */
  redisUrl: string | null;
  /** host:port, reachable, namespace exists. */
  temporalAddress: string;
  temporalNamespace: string;
  /** Set when we started the dev server. */
  temporalUiUrl: string | null;
  stripeMockUrl: string | null;
  /** What this call started (for the log). */
  started: string[];
  /** Stops only what this call started; idempotent. */
  stop(): Promise<void>;
}

const DATABASES: Record<Purpose, string> = { dev: 'voucher', test: 'voucher_test', bench: 'voucher_bench' };
// Separate Redis databases so a test run's FLUSHDB cannot wipe a developer's cache.
const REDIS_DB: Record<Purpose, number> = { dev: 0, test: 1, bench: 2 };

const defaultLog: Log = (line) => console.log(`[stack] ${line}`);

export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? defaultLog;
  const dataDir = path.resolve(opts.dataDir);
  const logsDir = path.join(dataDir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const t0 = Date.now();

  // Independent services: start them side by side; the Temporal boot dominates anyway.
  const [pgR, redisR, temporalR, stripeR] = await Promise.allSettled([
    providePostgres({ database: DATABASES[opts.purpose], dataDir, logsDir, log }),
    provideRedis({ dbIndex: REDIS_DB[opts.purpose], logsDir, log }),
    opts.withoutTemporal ? Promise.resolve(null) : provideTemporal({ purpose: opts.purpose, dataDir, logsDir, log }),
    opts.stripeMock ? provideStripeMock({ logsDir, log }) : Promise.resolve(null),
  ]);

  const procs: ServiceProcess[] = [];
  const started: string[] = [];
  const failures: string[] = [];
  for (const [name, r] of [
    ['PostgreSQL', pgR],
    ['Redis', redisR],
    ['Temporal', temporalR],
    ['stripe-mock', stripeR],
  ] as const) {
    if (r.status === 'rejected') {
      failures.push(`${name}: ${(r.reason as Error)?.message ?? r.reason}`);
    } else if (r.value) {
      if (r.value.started) {
        procs.push(r.value.started);
        started.push(`${r.value.description} [pid ${r.value.started.pid}, log ${r.value.started.logFile}]`);
      }
    }
  }

  let stopping: Promise<void> | undefined;
  const stop = () => {
    // Reverse start order does not matter here (nothing we start depends on another), so stop in
    // parallel; the app's own connections are expected to be closed before stop() is called.
    stopping ??= Promise.all(procs.map((p) => p.stop())).then(() => undefined);
    return stopping;
  };

  if (failures.length || pgR.status !== 'fulfilled' || redisR.status !== 'fulfilled' || temporalR.status !== 'fulfilled' || stripeR.status !== 'fulfilled') {
    await stop();
    throw new Error(`could not bring up the ${opts.purpose} stack:\n  ${failures.join('\n  ')}`);
  }

  const pgV = pgR.value;
  const redisV = redisR.value;
  const temporalV = temporalR.value;
  const stripeV = stripeR.value;
  for (const d of [pgV.description, redisV.description, temporalV?.description, stripeV?.description]) {
    if (d) log(d);
  }
  log(`${opts.purpose} stack ready in ${((Date.now() - t0) / 1000).toFixed(1)} s${started.length ? ` (started ${started.length})` : ''}`);

  return {
    databaseUrl: pgV.url,
    redisUrl: redisV.url,
    temporalAddress: temporalV?.address ?? '',
    temporalNamespace: temporalV?.namespace ?? '',
    temporalUiUrl: temporalV?.uiUrl ?? null,
    stripeMockUrl: stripeV?.url ?? null,
    started,
    stop,
  };
}

/** Make sure the Go-built binaries exist (building them if needed), e.g. as a CI warm-up step. */
export async function installBinaries(log: Log = defaultLog): Promise<{ temporal: string; stripeMock: string }> {
  // Sequential: two Go builds at once on 2 cores are slower than one after the other.
  const temporal = await temporalBinary(log);
  const stripeMock = await stripeMockBinary(log);
  return { temporal, stripeMock };
}
