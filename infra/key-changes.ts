// Tells every API replica at once when an API key stops being valid (revoked, rotated, expiry
// moved): triggers on `terminals` and `api_clients` NOTIFY `api_key_changed` with the old key's
// hash, and each process LISTENs on a connection of its own. Key caches serve entries only while
// this connection is known to be alive (a heartbeat every second); while it is not, every lookup
// goes to PostgreSQL, and the caches are emptied when it comes back, since notices may have been
// missed in between. So a change takes effect everywhere within about a second, with or without Redis.

import pg from 'pg';

export type KeyTable = 'terminals' | 'api_clients';
/** A key whose row changed, by its SHA-256; null: anything may have changed (forget everything). */
export type KeyChange = { table: KeyTable; keyHash: string } | null;

const CHANNEL = 'api_key_changed';
/** How the listening connection shows in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'voucher-key-changes';
const HEARTBEAT_MS = 1_000;
const RECONNECT_MS = 1_000;

export class KeyChangeListener {
  private client: pg.Client | null = null;
  private connecting = false;
  private closed = false;
  private alive = false;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private reconnect: ReturnType<typeof setTimeout> | null = null;
  private readonly handlers: ((change: KeyChange) => void)[] = [];

  constructor(private readonly connectionString: string) {}

  onChange(handler: (change: KeyChange) => void): void {
    this.handlers.push(handler);
  }

  /** Whether notices are arriving now; starts listening on first use. */
  get live(): boolean {
    if (!this.client && !this.connecting && !this.closed && !this.reconnect) void this.connect();
    return this.alive;
  }

  private emit(change: KeyChange): void {
    for (const handler of this.handlers) handler(change);
  }

  private async connect(): Promise<void> {
    this.connecting = true;
    const client = new pg.Client({
      connectionString: this.connectionString, connectionTimeoutMillis: 2_000, keepAlive: true, application_name: LISTENER_APPLICATION_NAME,
    });
    client.on('error', () => this.down(client));
    client.on('end', () => this.down(client));
    client.on('notification', (msg) => {
      const [table, keyHash] = (msg.payload ?? '').split(':');
      if ((table === 'terminals' || table === 'api_clients') && keyHash) this.emit({ table, keyHash });
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      if (this.closed) {
        await client.end();
        return;
      }
      this.client = client;
      this.emit(null);
      this.alive = true;
      this.heartbeat = setInterval(() => {
        const timer = setTimeout(() => this.down(client), HEARTBEAT_MS);
        client.query('SELECT 1').then(() => clearTimeout(timer), () => this.down(client));
      }, HEARTBEAT_MS);
      this.heartbeat.unref();
    } catch {
      this.down(client);
    } finally {
      this.connecting = false;
    }
  }

  private down(client: pg.Client): void {
    if (this.client && this.client !== client) return;
    this.alive = false;
    this.emit(null);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.client = null;
    client.end().catch(() => {});
    if (!this.closed && !this.reconnect) {
      this.reconnect = setTimeout(() => {
        this.reconnect = null;
        if (!this.closed) void this.connect();
      }, RECONNECT_MS);
      this.reconnect.unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.alive = false;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.reconnect) clearTimeout(this.reconnect);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}
