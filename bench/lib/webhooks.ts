// Webhook subscribers for the benchmarks: N endpoints (all events) pointing at an HTTP receiver in
// the benchmark process, and the wait until every event recorded during the run was delivered to
// each of them.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { cardSecrets } from '../../api/deps.ts';
import { PiiCipher } from '../../domain/pii-crypto.ts';
import { loadConfig } from '../../infra/config.ts';
import { WebhookStore } from '../../services/webhooks.ts';

export interface Subscribers {
  /** Requests the receiver got, and distinct event ids among them. */
  received(): { requests: number; events: number };
  /** Waits until all deliveries of events after `sinceSeq` succeeded (or `timeoutS` passed). */
  drain(sinceSeq: string, timeoutS: number, log: (line: string) => void): Promise<WebhookDrain>;
  lastSeq(): Promise<string>;
  close(): Promise<void>;
}

export interface WebhookDrain {
  events: number;
  deliveries: number;
  delivered: number;
  /** From the call to all delivered; null = not within the timeout. */
  seconds: number | null;
}

export async function startSubscribers(databaseUrl: string, count: number): Promise<Subscribers> {
  let requests = 0;
  const events = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      try {
        events.add((JSON.parse(Buffer.concat(chunks).toString()) as { id: string }).id);
      } catch { /* counted as a request */ }
      res.writeHead(200).end();
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const config = loadConfig();
  const store = new WebhookStore(pool, new PiiCipher(config.privacy.piiKeys), cardSecrets(config.cardCodeKey).deriveKey, config.webhooks);
  for (let i = 0; i < count; i++) {
    await store.create(`bench-${Date.now()}-${i}`, 'bench', { url: `${url}/subscriber-${i}`, description: `bench subscriber ${i}`, eventTypes: ['*'], enabled: true });
  }
  const one = async (sql: string, params: unknown[] = []) => (await pool.query<{ n: string }>(sql, params)).rows[0]!.n;
  return {
    received: () => ({ requests, events: events.size }),
    lastSeq: () => one('SELECT coalesce(max(seq), 0)::text AS n FROM webhook_events'),
    async drain(sinceSeq, timeoutS, log) {
      const started = performance.now();
      let last = started;
      for (;;) {
        const { rows: [r] } = await pool.query<{ events: string; pending: string; deliveries: string; delivered: string }>(
          `SELECT (SELECT count(*) FROM webhook_events WHERE seq > $1) AS events,
                  (SELECT count(*) FROM webhook_events WHERE seq > $1 AND NOT fanned_out) AS pending,
                  count(*) AS deliveries, count(*) FILTER (WHERE d.status = 'succeeded') AS delivered
             FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE e.seq > $1`, [sinceSeq]);
        const elapsed = (performance.now() - started) / 1000;
        const done = r!.pending === '0' && r!.deliveries === r!.delivered;
        if (done || elapsed > timeoutS) {
          return { events: Number(r!.events), deliveries: Number(r!.deliveries), delivered: Number(r!.delivered), seconds: done ? elapsed : null };
        }
        if (performance.now() - last > 5_000) {
          log(`webhooks: ${r!.delivered} of ${r!.deliveries} deliveries done (${r!.pending} events not fanned out) after ${elapsed.toFixed(0)} s`);
          last = performance.now();
        }
        await new Promise((res) => setTimeout(res, 500));
      }
    },
    async close() {
      await pool.end();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
