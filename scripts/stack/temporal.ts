import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { temporalBinary } from './go-binaries.ts';
import { freePort, portIsFree, spawnService, waitUntil, type Log, type ServiceProcess } from './processes.ts';

export interface TemporalResult {
  address: string;
  namespace: string;
  uiUrl: string | null;
  started: ServiceProcess | null;
  description: string;
}

type Probe = 'ready' | 'no-namespace' | 'unreachable';

/** Is a Temporal frontend answering at `address`, and does it have `namespace`? */
export async function probeTemporal(address: string, namespace: string, timeoutMs = 2000): Promise<Probe> {
  // A refused TCP connect answers in microseconds; gRPC would retry until connectTimeout.
  if (!(await tcpOpen(address, timeoutMs))) return 'unreachable';
  let conn: Connection | undefined;
  try {
    // connect() itself calls getSystemInfo, so an open port that is not Temporal fails here.
    conn = await Connection.connect({ address, connectTimeout: timeoutMs });
    const c = conn;
    await c.withDeadline(Date.now() + timeoutMs, () => c.workflowService.describeNamespace({ namespace }));
    return 'ready';
  } catch (e) {
    // gRPC NOT_FOUND: a server, but without our namespace.
    return conn && (e as { code?: number }).code === 5 ? 'no-namespace' : 'unreachable';
  } finally {
    await conn?.close().catch(() => {});
  }
}

function tcpOpen(address: string, timeoutMs: number): Promise<boolean> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(i + 1));
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => done(true));
  });
}

/** Servers we did not start (docker compose, a colleague's) may lack the namespace; create it. */
async function ensureNamespace(address: string, namespace: string, log: Log): Promise<void> {
  const conn = await Connection.connect({ address, connectTimeout: 5000 });
  try {
    await conn.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('3 days'),
    });
    log(`registered Temporal namespace ${namespace} at ${address}`);
  } catch (e) {
    if ((e as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw e;
  } finally {
    await conn.close().catch(() => {});
  }
  // Namespace registration propagates through a cache; wait until the frontend sees it.
  await waitUntil(async () => (await probeTemporal(address, namespace)) === 'ready', {
    what: `Temporal namespace ${namespace}`,
    timeoutMs: 30_000,
    intervalMs: 500,
  });
}

async function useExisting(address: string, namespace: string, log: Log, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const state = await probeTemporal(address, namespace);
    if (state === 'ready') return true;
    if (state === 'no-namespace') {
      await ensureNamespace(address, namespace, log);
      return true;
    }
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function provideTemporal(opts: {
  purpose: 'dev' | 'test' | 'bench';
  dataDir: string;
  logsDir: string;
  log: Log;
}): Promise<TemporalResult> {
  const { log, purpose } = opts;
  const namespace = process.env.TEMPORAL_NAMESPACE || 'default';

  const fromEnv = process.env.TEMPORAL_ADDRESS;
  if (fromEnv) {
    // An explicitly configured server may still be booting (compose, CI services): give it time.
    if (!(await useExisting(fromEnv, namespace, log, 60_000))) {
      throw new Error(`TEMPORAL_ADDRESS=${fromEnv} does not answer as a Temporal frontend`);
    }
    return { address: fromEnv, namespace, uiUrl: null, started: null, description: `Temporal from TEMPORAL_ADDRESS (${fromEnv})` };
  }

  // Reusing a running dev server is much faster than booting one, for tests too.
  if (await useExisting('127.0.0.1:7233', namespace, log, 0)) {
    return {
      address: '127.0.0.1:7233',
      namespace,
      uiUrl: null,
      started: null,
      description: 'Temporal at 127.0.0.1:7233',
    };
  }

  if (purpose === 'dev' && !(await portIsFree(7233))) {
    log('127.0.0.1:7233 is taken by something that is not a Temporal frontend; the dev server gets another port');
  }
  const bin = await temporalBinary(log);
  for (let attempt = 1; ; attempt++) {
    // Dev gets the well-known ports so bookmarks and `temporal workflow list` just work.
    const port = purpose === 'dev' && (await portIsFree(7233)) ? 7233 : await freePort();
    const uiPort = purpose === 'dev' && (await portIsFree(8233)) ? 8233 : await freePort();
    const args = [
      'server', 'start-dev',
      '--ip', '127.0.0.1',
      '--port', String(port),
      '--ui-port', String(uiPort),
      '--log-level', 'warn',
      '--dynamic-config-value', 'frontend.enableExecuteMultiOperation=true',
      '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true',
      '--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=true',
      // Hand an activity straight back to the worker that scheduled it, skipping a poll round trip.
      '--dynamic-config-value', 'system.enableActivityEagerExecution=true',
    ];
    // Only dev keeps workflow history across restarts; tests want a clean, fast in-memory store.
    if (purpose === 'dev') args.push('--db-filename', path.join(opts.dataDir, 'temporal.sqlite'));
    if (namespace !== 'default') args.push('--namespace', namespace);

    const address = `127.0.0.1:${port}`;
    const startedAt = Date.now();
    const proc = spawnService({
      name: 'temporal',
      command: bin,
      args,
      logFile: path.join(opts.logsDir, 'temporal.log'),
    });
    try {
      await waitUntil(async () => (await probeTemporal(address, namespace, 1000)) === 'ready', {
        what: 'Temporal dev server',
        timeoutMs: 90_000,
        intervalMs: 300,
        proc,
      });
    } catch (e) {
      await proc.stop();
      if (attempt < 3 && /address already in use|bind/i.test(String(e))) continue;
      throw e;
    }
    const secs = ((Date.now() - startedAt) / 1000).toFixed(1);
    return {
      address,
      namespace,
      uiUrl: `http://127.0.0.1:${uiPort}`,
      started: proc,
      description: `Temporal dev server on ${address} (UI http://127.0.0.1:${uiPort}, ready in ${secs} s)`,
    };
  }
}
