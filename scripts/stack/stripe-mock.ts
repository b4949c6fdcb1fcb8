import path from 'node:path';
import { stripeMockBinary } from './go-binaries.ts';
import { freePort, spawnService, waitUntil, type Log, type ServiceProcess } from './processes.ts';

export interface StripeMockResult {
  url: string;
  started: ServiceProcess | null;
  description: string;
}

async function answers(url: string): Promise<boolean> {
  try {
    // Its answer, not any answer: a port picked as free can be taken by another process before
    // stripe-mock binds it (stripe-mock then exits), and that process would answer instead.
    // stripe-mock wants a test-mode key or it replies 401.
    const res = await fetch(new URL('/v1/balance', url), {
      headers: { Authorization: 'Bearer sk_test_123' },
      signal: AbortSignal.timeout(1000),
    });
    await res.arrayBuffer();
    return res.headers.has('stripe-mock-version');
  } catch {
    return false;
  }
}

export async function provideStripeMock(opts: { logsDir: string; log: Log }): Promise<StripeMockResult> {
  const fromEnv = process.env.STRIPE_MOCK_URL;
  if (fromEnv) return { url: fromEnv, started: null, description: `stripe-mock from STRIPE_MOCK_URL (${fromEnv})` };

  const bin = await stripeMockBinary(opts.log);
  for (let attempt = 1; ; attempt++) {
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${httpPort}`;
    const proc = spawnService({
      name: 'stripe-mock',
      command: bin,
      // -http-addr rather than -http-port: the latter binds every interface.
      args: ['-http-addr', `127.0.0.1:${httpPort}`, '-https-addr', `127.0.0.1:${httpsPort}`],
      logFile: path.join(opts.logsDir, 'stripe-mock.log'),
    });
    try {
      await waitUntil(() => answers(url), { what: 'stripe-mock', timeoutMs: 30_000, intervalMs: 150, proc });
    } catch (e) {
      await proc.stop();
      if (attempt < 3) continue;
      throw e;
    }
    return { url, started: proc, description: `stripe-mock on ${url}` };
  }
}
