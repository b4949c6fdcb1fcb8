// The cluster's load balancer (scripts/cluster/load-balancer.ts): round robin over the replicas,
// a replica that refuses connections is skipped without the client noticing, and the client's
// address is appended to X-Forwarded-For for APIs that trust one proxy.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startLoadBalancer, type LoadBalancer } from '../../scripts/cluster/load-balancer.ts';
import { unusedPort } from '../helpers/net.ts';

const servers: http.Server[] = [];
let lb: LoadBalancer | undefined;
afterAll(async () => {
  await lb?.close();
  for (const s of servers) await new Promise((r) => s.close(r));
});

async function replica(name: string): Promise<string> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name, xff: req.headers['x-forwarded-for'] ?? null, method: req.method, url: req.url, body }));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('load balancer', () => {
  it('alternates replicas, passes method, path and body, and appends the client to X-Forwarded-For', async () => {
    lb = await startLoadBalancer({ backends: [await replica('a'), await replica('b')] });
    const answers = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${lb.url}/v1/x?i=${i}`, { method: 'POST', body: `{"i":${i}}`, headers: { 'x-forwarded-for': '203.0.113.9' } });
      answers.push(await res.json());
    }
    expect(answers.map((a) => a.name).sort()).toEqual(['a', 'a', 'b', 'b']);
    expect(answers[0]).toMatchObject({ method: 'POST', url: '/v1/x?i=0', body: '{"i":0}', xff: '203.0.113.9, 127.0.0.1' });
    await lb.close();
    lb = undefined;
  });

  it('sends a request refused by a dead replica to the live one, and 502s when none answers', async () => {
    const dead = `http://127.0.0.1:${await unusedPort()}`;
    lb = await startLoadBalancer({ backends: [dead, await replica('live')] });
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${lb.url}/health`);
      expect(res.status).toBe(200);
      expect((await res.json()).name).toBe('live');
    }
    expect(lb.stats().refused[0]).toBeGreaterThan(0);
    await lb.close();

    lb = await startLoadBalancer({ backends: [dead] });
    const res = await fetch(`${lb.url}/health`);
    expect(res.status).toBe(502);
    expect((await res.json()).error.code).toBe('upstream_unavailable');
  });
});
