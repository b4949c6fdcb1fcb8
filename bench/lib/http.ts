// A minimal JSON client over node:http. One keep-alive socket per client by default, i.e. per
// till, as a real till holds one connection; an open-loop load generator, whose requests do not
// wait for each other, gives it more. node:http rather than fetch: fetch costs the load generator
// noticeably more CPU per request, and on a 2-core box that CPU is taken from the server.

import http from 'node:http';

export interface JsonResponse {
  status: number;
  body: any;
}

export class JsonClient {
  private readonly agent: http.Agent;
  private readonly url: URL;

  constructor(baseUrl: string, private readonly headers: Record<string, string> = {}, opts: { maxSockets?: number } = {}) {
    this.url = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 1 });
  }

  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
    return this.send(method, path, body === undefined ? undefined : JSON.stringify(body), headers);
  }

  /** Sends an already serialised JSON body byte for byte, e.g. a webhook whose signature covers it. */
  send(method: string, path: string, payload: string | undefined, headers: Record<string, string> = {}): Promise<JsonResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: this.url.hostname, port: this.url.port, path, method, agent: this.agent,
        headers: {
          ...this.headers, ...headers,
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: text });
          }
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
