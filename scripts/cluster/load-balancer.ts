// A round-robin HTTP proxy in front of the API replicas, as a cloud load balancer would be. Passive
// health only: a replica that refuses the connection is skipped for a moment and the request goes
// to the next one, so a killed replica costs clients nothing while the supervisor restarts it.
// It appends the client's address to X-Forwarded-For, which the APIs trust (TRUST_PROXY=1).

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoadBalancer {
  url: string;
  /** Requests forwarded per replica, and how many times a replica refused. */
  stats(): { forwarded: number[]; refused: number[] };
  close(): Promise<void>;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];
const MAX_BODY = 2 * 1024 * 1024;

export async function startLoadBalancer(opts: {
  backends: string[]; // http://host:port
  port?: number;
  host?: string;
  /** How long a refusing replica is skipped. */
  ejectMs?: number;
  /** Upstream timeout: the API answers well within it (its own request timeout is lower). */
  timeoutMs?: number;
}): Promise<LoadBalancer> {
  const backends = opts.backends.map((b) => new URL(b));
  const ejectMs = opts.ejectMs ?? 1_000;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const ejectedUntil = backends.map(() => 0);
  const forwarded = backends.map(() => 0);
  const refused = backends.map(() => 0);
  let next = 0;

  function order(): number[] {
    const start = next++ % backends.length;
    const all = backends.map((_, i) => (start + i) % backends.length);
    const now = Date.now();
    const healthy = all.filter((i) => ejectedUntil[i]! <= now);
    // All ejected: try them anyway rather than refuse outright.
    return healthy.length ? [...healthy, ...all.filter((i) => !healthy.includes(i))] : all;
  }

  function forward(i: number, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, rest: number[]): void {
    const target = backends[i]!;
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    for (const h of HOP_BY_HOP) delete headers[h];
    const client = req.socket.remoteAddress ?? '';
    const prior = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${prior}, ${client}` : client;
    headers['x-forwarded-proto'] = 'http';
    headers['x-forwarded-host'] = req.headers.host ?? '';
    headers['content-length'] = String(body.length);
    const upstream = http.request({
      host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent, timeout: timeoutMs,
    });
    upstream.on('response', (up) => {
      forwarded[i]!++;
      const out: http.OutgoingHttpHeaders = { ...up.headers };
      for (const h of HOP_BY_HOP) delete out[h];
      res.writeHead(up.statusCode ?? 502, out);
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    upstream.on('timeout', () => upstream.destroy(Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' })));
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      // Refused: nothing reached the replica. A reset on a pooled keep-alive socket: the replica
      // died between requests and this one was never read. Both are safe to send elsewhere.
      const neverSent = err.code === 'ECONNREFUSED' || (upstream.reusedSocket && err.code === 'ECONNRESET');
      if (neverSent) {
        refused[i]!++;
        ejectedUntil[i] = Date.now() + ejectMs;
        const [nextI, ...others] = rest;
        if (nextI !== undefined) return forward(nextI, req, body, res, others);
      }
      if (res.headersSent) return void res.destroy();
      const status = err.code === 'ETIMEDOUT' ? 504 : 502;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: status === 504 ? 'upstream_timeout' : 'upstream_unavailable', message: `load balancer: ${err.code ?? err.message}` } }));
    });
    upstream.end(body);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ error: { code: 'payload_too_large', message: 'request body too large' } }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      const [first, ...rest] = order();
      forward(first!, req, Buffer.concat(chunks), res, rest);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    stats: () => ({ forwarded: [...forwarded], refused: [...refused] }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
