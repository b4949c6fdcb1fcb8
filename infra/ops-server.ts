// The worker's operations endpoint (it serves no other HTTP): /metrics with the process's own
// metrics followed by the Temporal SDK's (its Prometheus exporter listens on loopback only), and
// /health/live and /health/ready for probes. One scrape target per process.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readiness, type DependencyCheck } from './health.ts';
import { registry } from './metrics.ts';

export interface OpsServerOptions {
  host: string;
  port: number;
  checks: Record<string, DependencyCheck>;
  /** Liveness beyond "the event loop answers", e.g. the Temporal worker still running. */
  alive?: () => boolean;
  /** Where the Temporal SDK's exporter serves its metrics (e.g. http://127.0.0.1:9464/metrics). */
  sdkMetricsUrl?: string | null;
}

async function sdkMetrics(url: string | null | undefined): Promise<string> {
  if (!url) return '';
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return res.ok ? `\n${await res.text()}` : '';
  } catch {
    return ''; // the process's own metrics still count; the SDK exporter may be starting
  }
}

export async function startOpsServer(opts: OpsServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    };
    const json = (status: number, body: unknown) => send(status, 'application/json', JSON.stringify(body));
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET') return json(405, { error: { code: 'method_not_allowed', message: 'GET only' } });
      if (path === '/metrics') return send(200, registry.contentType, (await registry.metrics()) + (await sdkMetrics(opts.sdkMetricsUrl)));
      if (path === '/health/live') {
        const alive = opts.alive?.() ?? true;
        return json(alive ? 200 : 503, { status: alive ? 'live' : 'dead' });
      }
      if (path === '/health/ready') {
        const result = await readiness(opts.checks);
        return json(result.status === 'ready' ? 200 : 503, result);
      }
      return json(404, { error: { code: 'not_found', message: `no route for ${path}` } });
    })().catch((err: Error) => json(500, { error: { code: 'internal_error', message: err.message } }));
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
