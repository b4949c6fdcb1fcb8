import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export type Log = (line: string) => void;

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  // postgres treats SIGTERM as "smart" shutdown (waits for every client to leave); it wants SIGINT.
  stopSignal?: NodeJS.Signals;
}

export interface ServiceProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or signal name) once the process has gone. */
  exited: Promise<string>;
  isRunning(): boolean;
  stop(timeoutMs?: number): Promise<void>;
}

interface Tracked {
  pid: number;
  signal: NodeJS.Signals;
}

const live = new Map<number, Tracked>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooksInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Negative pid: the whole process group, so helpers a service forks (postgres backends,
    // the setpriv wrapper) go too.
    process.kill(-pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

function killAllSync(): void {
  for (const { pid, signal } of live.values()) killGroup(pid, signal);
}

function onExit(): void {
  killAllSync();
}

function onSignal(signal: NodeJS.Signals): void {
  // If the application has its own handler it is doing a graceful shutdown and will call
  // stack.stop() (or exit, and the 'exit' hook kills the rest). Killing services now would pull
  // the database out from under that shutdown.
  if (process.listenerCount(signal) > 1) return;
  killAllSync();
  removeHooks();
  // Re-raise so the process dies the way it would have without our listener (exit code 128+n).
  process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', onExit);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function removeHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.removeListener('exit', onExit);
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

let setprivOk: boolean | undefined;
function hasSetpriv(): boolean {
  if (setprivOk === undefined) {
    // setpriv --pdeathsig makes the kernel signal the service if we are SIGKILLed or crash,
    // the one case no JS exit hook can cover.
    const r = spawnSync('setpriv', ['--pdeathsig', 'SIGTERM', '--', 'true'], { stdio: 'ignore' });
    setprivOk = process.platform === 'linux' && r.status === 0;
  }
  return setprivOk;
}

export function spawnService(spec: ServiceSpec): ServiceProcess {
  mkdirSync(path.dirname(spec.logFile), { recursive: true });
  const fd = openSync(spec.logFile, 'a');
  const stopSignal = spec.stopSignal ?? 'SIGTERM';
  writeSync(
    fd,
    `\n=== ${new Date().toISOString()} ${spec.name}: ${spec.command} ${spec.args.join(' ')} (parent pid ${process.pid})\n`,
  );
  const [command, args] = hasSetpriv()
    ? ['setpriv', ['--pdeathsig', stopSignal, '--', spec.command, ...spec.args]]
    : [spec.command, spec.args];

  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      // Own process group: Ctrl-C in the terminal reaches only us, so we decide the shutdown
      // order, and stop() can kill the whole group.
      detached: true,
      stdio: ['ignore', fd, fd],
      env: spec.env ?? process.env,
      cwd: spec.cwd,
      uid: spec.uid,
      gid: spec.gid,
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${spec.name} (${spec.command})`);

  let running = true;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      live.delete(pid);
      if (live.size === 0) removeHooks();
      resolve(signal ?? String(code));
    });
    child.once('error', (err) => {
      running = false;
      live.delete(pid);
      if (live.size === 0) removeHooks();
      resolve(`spawn error: ${err.message}`);
    });
  });
  // A script that forgets stop() should still be able to exit; the 'exit' hook then cleans up.
  child.unref();
  live.set(pid, { pid, signal: stopSignal });
  installHooks();

  let stopping: Promise<void> | undefined;
  return {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exited,
    isRunning: () => running,
    stop(timeoutMs = 15_000) {
      stopping ??= (async () => {
        if (running) {
          killGroup(pid, stopSignal);
          if (!(await settlesWithin(exited, timeoutMs))) {
            killGroup(pid, 'SIGKILL');
            await settlesWithin(exited, 5_000);
          }
        }
        // Stragglers left in the group once the leader is gone.
        killGroup(pid, 'SIGKILL');
      })();
      return stopping;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true if `p` settled within `ms`, false on timeout; never leaves a timer behind. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A port that was free a moment ago. Small race with other processes; callers retry on failure. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

/** True if nothing is listening on host:port and we could bind it. */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

export interface WaitOptions {
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Give up at once (with its log tail) if this process dies while we wait. */
  proc?: ServiceProcess;
}

export async function waitUntil(check: () => Promise<boolean>, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 250;
  for (;;) {
    if (opts.proc && !opts.proc.isRunning()) {
      const how = await opts.proc.exited;
      throw new Error(
        `${opts.what}: ${opts.proc.name} exited (${how}) before it was ready. Last log lines from ${opts.proc.logFile}:\n${tailFile(opts.proc.logFile)}`,
      );
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      const tail = opts.proc ? `\nLast log lines from ${opts.proc.logFile}:\n${tailFile(opts.proc.logFile)}` : '';
      throw new Error(`${opts.what}: not ready after ${opts.timeoutMs} ms${tail}`);
    }
    await sleep(interval);
  }
}

export function tailFile(file: string, lines = 20): string {
  if (!existsSync(file)) return '(no log)';
  const text = readFileSync(file, 'utf8');
  return text.split('\n').slice(-lines - 1).join('\n');
}

/** Which executable `name` resolves to on PATH, or null. */
export function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Number of services this process started that are still running (for tests of stop()). */
export function liveServiceCount(): number {
  return live.size;
}
