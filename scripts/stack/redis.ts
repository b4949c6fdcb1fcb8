import net from 'node:net';
import path from 'node:path';
import { freePort, spawnService, waitUntil, which, type Log, type ServiceProcess } from './processes.ts';

export interface RedisResult {
  url: string | null;
  started: ServiceProcess | null;
  description: string;
}

/**
 * Raw RESP PING rather than ioredis: ioredis retries and emits unhandled 'error' events on a
 * dead port, which is noise for a yes/no probe. '-NOAUTH' counts as "not usable" because we
 * would have no password to put in the URL.
 */
export function redisPing(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

export async function provideRedis(opts: {
  dbIndex: number;
  logsDir: string;
  log: Log;
  /** Where to look for an already running server; tests point it at a dead port. */
  localPort?: number;
}): Promise<RedisResult> {
  const { log, dbIndex } = opts;
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) return { url: fromEnv, started: null, description: `Redis from REDIS_URL (${fromEnv})` };

  const localPort = opts.localPort ?? 6379;
  if (await redisPing('127.0.0.1', localPort)) {
    return { url: `redis://127.0.0.1:${localPort}/${dbIndex}`, started: null, description: `Redis at 127.0.0.1:${localPort}` };
  }

  const bin = which('redis-server');
  if (!bin) {
    log(`Redis: none on 127.0.0.1:${localPort} and no redis-server binary; the balance cache is OFF (every balance read goes to PostgreSQL)`);
    return { url: null, started: null, description: 'no Redis (balance cache off)' };
  }

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = spawnService({
      name: 'redis',
      command: bin,
      // A pure cache: nothing is worth persisting, and no RDB/AOF files get written into cwd.
      args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      logFile: path.join(opts.logsDir, 'redis.log'),
    });
    try {
      await waitUntil(() => redisPing('127.0.0.1', port, 500), { what: 'redis-server', timeoutMs: 15_000, intervalMs: 100, proc });
    } catch (e) {
      await proc.stop();
      if (attempt < 3) continue;
      log(`Redis: could not start redis-server (${(e as Error).message}); the balance cache is OFF`);
      return { url: null, started: null, description: 'no Redis (redis-server failed to start; balance cache off)' };
    }
    return { url: `redis://127.0.0.1:${port}/${dbIndex}`, started: proc, description: `redis-server on port ${port}` };
  }
}
