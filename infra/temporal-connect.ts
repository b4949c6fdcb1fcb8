// The API's connection to Temporal, made in the background: tills authorize and capture through
// PostgreSQL alone (the outbox keeps the workflow work), so the API must start and serve them
// while Temporal is down. Until the connection is made, procedures that need Temporal answer 503.

import { Client, Connection } from '@temporalio/client';
import { temporalClientInterceptors } from './tracing.ts';

export interface BackgroundTemporal {
  /** The client once connected, else null. */
  readonly client: Client | null;
  /** Resolves with the client when connected (for tools and tests). */
  readonly connected: Promise<Client>;
  close(): Promise<void>;
}

export interface BackgroundTemporalOptions {
  onConnected?: (client: Client) => void;
  log?: (msg: string) => void;
  /** First wait between attempts; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

export function connectTemporalInBackground(
  address: string, namespace: string, options: BackgroundTemporalOptions = {},
): BackgroundTemporal {
  const { log = () => {}, retryMs = 500, maxRetryMs = 15_000 } = options;
  let client: Client | null = null;
  let stopped = false;
  let wake: (() => void) | null = null;
  let resolveConnected!: (c: Client) => void;
  const connected = new Promise<Client>((resolve) => (resolveConnected = resolve));

  const loop = (async () => {
    for (let attempt = 1, wait = retryMs; !stopped; attempt++) {
      try {
        const connection = await Connection.connect({ address, connectTimeout: '5s' });
        if (stopped) {
          await connection.close();
          return;
        }
        client = new Client({ connection, namespace, interceptors: temporalClientInterceptors() });
        log(`connected to Temporal at ${address}${attempt > 1 ? ` after ${attempt} attempts` : ''}`);
        options.onConnected?.(client);
        resolveConnected(client);
        return;
      } catch (err) {
        if (attempt === 1 || attempt % 20 === 0) {
          log(`Temporal at ${address} unreachable (${(err as Error).message}); serving without it and retrying`);
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => { clearTimeout(timer); resolve(); };
      });
      wait = Math.min(wait * 2, maxRetryMs);
    }
  })();

  return {
    get client() {
      return client;
    },
    connected,
    async close() {
      stopped = true;
      wake?.();
      await loop;
      await client?.connection.close();
    },
  };
}
