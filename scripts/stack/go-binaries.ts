import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isExecutable, which, type Log } from './processes.ts';

// Pinned so every machine runs the same server: CLI 1.5.1 embeds Temporal Server 1.29.x.
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const STRIPE_MOCK_MODULE = 'github.com/stripe/stripe-mock';
export const STRIPE_MOCK_VERSION = 'v0.197.0';

// Update-with-start (ExecuteMultiOperation) and the dynamic-config keys we pass need a recent
// server; an older `temporal` on PATH would start but fail our workflows in confusing ways.
const MIN_TEMPORAL_SERVER: [number, number] = [1, 27];

export function binCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'voucher-engine', 'bin');
}

interface BinarySpec {
  name: string; // executable name
  envVar: string;
  goModule: string;
  goVersion: string;
  /** Why this binary is unusable, or null if it is fine. */
  problem(file: string): string | null;
}

const temporalSpec: BinarySpec = {
  name: 'temporal',
  envVar: 'TEMPORAL_CLI',
  goModule: TEMPORAL_CLI_MODULE,
  goVersion: TEMPORAL_CLI_VERSION,
  problem(file) {
    const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) return `\`${file} --version\` failed: ${(r.stderr || r.error?.message || '').trim()}`;
    // `go install` builds report "temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)", so the
    // CLI version is useless; the embedded server version is what matters.
    const m = /Server (\d+)\.(\d+)\.(\d+)/.exec(r.stdout);
    if (!m) return `unexpected \`temporal --version\` output: ${r.stdout.trim()}`;
    const [maj, min] = [Number(m[1]), Number(m[2])];
    if (maj < MIN_TEMPORAL_SERVER[0] || (maj === MIN_TEMPORAL_SERVER[0] && min < MIN_TEMPORAL_SERVER[1])) {
      return `embeds Temporal Server ${m[1]}.${m[2]}.${m[3]}, need >= ${MIN_TEMPORAL_SERVER.join('.')}`;
    }
    return null;
  },
};

const stripeMockSpec: BinarySpec = {
  name: 'stripe-mock',
  envVar: 'STRIPE_MOCK_BIN',
  goModule: STRIPE_MOCK_MODULE,
  goVersion: STRIPE_MOCK_VERSION,
  problem(file) {
    const r = spawnSync(file, ['-version'], { encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) return `\`${file} -version\` failed: ${(r.stderr || r.error?.message || '').trim()}`;
    return null;
  },
};

function goBinary(): string | null {
  return which('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
}

async function goInstall(spec: BinarySpec, log: Log): Promise<string> {
  const go = goBinary();
  if (!go) {
    throw new Error(
      `${spec.name} not found (looked at $${spec.envVar}, PATH, ${binCacheDir()}) and there is no Go toolchain to build it. Install Go or set ${spec.envVar}.`,
    );
  }
  const dir = binCacheDir();
  mkdirSync(dir, { recursive: true });
  const target = `${spec.goModule}@${spec.goVersion}`;
  log(`building ${spec.name}: go install ${target} (first time only; this takes several minutes)`);
  const started = Date.now();
  let output = '';
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(go, ['install', target], {
      env: { ...process.env, GOBIN: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const beat = setInterval(() => {
      log(`  still building ${spec.name} (${Math.round((Date.now() - started) / 1000)} s)`);
    }, 30_000);
    child.once('error', (e) => {
      clearInterval(beat);
      reject(e);
    });
    child.once('exit', (c) => {
      clearInterval(beat);
      resolve(c);
    });
  });
  if (code !== 0) {
    throw new Error(`go install ${target} failed (exit ${code}):\n${output.split('\n').slice(-30).join('\n')}`);
  }
  const file = path.join(dir, spec.name);
  const problem = spec.problem(file);
  if (problem) throw new Error(`freshly built ${file} is unusable: ${problem}`);
  log(`built ${file} in ${Math.round((Date.now() - started) / 1000)} s`);
  return file;
}

const resolved = new Map<string, Promise<string>>();

async function locate(spec: BinarySpec, log: Log): Promise<string> {
  const fromEnv = process.env[spec.envVar];
  if (fromEnv) {
    // An explicit choice that does not work is an error, not something to silently override.
    const problem = isExecutable(fromEnv) ? spec.problem(fromEnv) : 'not an executable file';
    if (problem) throw new Error(`${spec.envVar}=${fromEnv}: ${problem}`);
    return fromEnv;
  }
  const candidates = [which(spec.name), path.join(binCacheDir(), spec.name)];
  for (const file of candidates) {
    if (!file || !isExecutable(file)) continue;
    const problem = spec.problem(file);
    if (!problem) return file;
    log(`ignoring ${file}: ${problem}`);
  }
  return goInstall(spec, log);
}

function memo(spec: BinarySpec, log: Log): Promise<string> {
  // Two concurrent callers must not run two multi-minute compiles of the same thing.
  const key = `${spec.name}\0${process.env[spec.envVar] ?? ''}\0${process.env.PATH ?? ''}`;
  let p = resolved.get(key);
  if (!p) {
    p = locate(spec, log);
    resolved.set(key, p);
    p.catch(() => resolved.delete(key));
  }
  return p;
}

export function temporalBinary(log: Log): Promise<string> {
  return memo(temporalSpec, log);
}

export function stripeMockBinary(log: Log): Promise<string> {
  return memo(stripeMockSpec, log);
}

// The real Temporal server and its schema tool, for the cluster launcher (scripts/cluster). Same
// release as the server the CLI above embeds, so workflows behave the same on both.
export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

function versionCheck(flag: string, expected: string) {
  return (file: string): string | null => {
    const r = spawnSync(file, [flag], { encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) return `\`${file} ${flag}\` failed: ${(r.stderr || r.error?.message || '').trim()}`;
    return r.stdout.includes(expected) ? null : `is ${r.stdout.trim()}, want ${expected}`;
  };
}

const temporalServerSpec: BinarySpec = {
  name: 'server',
  envVar: 'TEMPORAL_SERVER_BIN',
  goModule: `${TEMPORAL_SERVER_MODULE}/cmd/server`,
  goVersion: TEMPORAL_SERVER_VERSION,
  problem: versionCheck('--version', `version ${TEMPORAL_SERVER_VERSION.slice(1)}`),
};

const temporalSqlToolSpec: BinarySpec = {
  name: 'sql',
  envVar: 'TEMPORAL_SQL_TOOL_BIN',
  goModule: `${TEMPORAL_SERVER_MODULE}/cmd/tools/sql`,
  goVersion: TEMPORAL_SERVER_VERSION,
  problem: versionCheck('--version', `version ${TEMPORAL_SERVER_VERSION.slice(1)}`),
};

/** Only the cache directory counts: `server` and `sql` on PATH are too generic to be ours. */
async function locateCached(spec: BinarySpec, log: Log): Promise<string> {
  const fromEnv = process.env[spec.envVar];
  if (fromEnv) {
    const problem = isExecutable(fromEnv) ? spec.problem(fromEnv) : 'not an executable file';
    if (problem) throw new Error(`${spec.envVar}=${fromEnv}: ${problem}`);
    return fromEnv;
  }
  const file = path.join(binCacheDir(), spec.name);
  if (isExecutable(file)) {
    const problem = spec.problem(file);
    if (!problem) return file;
    log(`ignoring ${file}: ${problem}`);
  }
  return goInstall(spec, log);
}

export function temporalServerBinary(log: Log): Promise<string> {
  return locateCached(temporalServerSpec, log);
}

export function temporalSqlToolBinary(log: Log): Promise<string> {
  return locateCached(temporalSqlToolSpec, log);
}

/** Where Go keeps the server module's source: its schema/ folder is what the sql tool applies. */
export function temporalServerModuleDir(): string {
  const go = goBinary();
  if (!go) throw new Error('no Go toolchain: cannot locate the Temporal server schema files');
  const r = spawnSync(go, ['mod', 'download', '-json', `${TEMPORAL_SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`], {
    encoding: 'utf8', timeout: 300_000,
  });
  const dir = r.status === 0 ? (JSON.parse(r.stdout) as { Dir?: string }).Dir : undefined;
  if (!dir) throw new Error(`go mod download ${TEMPORAL_SERVER_MODULE}@${TEMPORAL_SERVER_VERSION} failed: ${r.stderr || r.stdout}`);
  return dir;
}
