// The webhook store: the only module that reads and writes the webhook tables (endpoints, events,
// deliveries). Events themselves are written by database triggers (migration 20261201060001).

import { createHash, createHmac } from 'node:crypto';
import type pg from 'pg';
import { DomainError } from '../domain/errors.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import { checkEndpointUrl, type TargetPolicy } from './webhook-target.ts';

export const ALL_EVENTS = '*';

export interface EndpointView {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: 'admin' | 'failing' | null;
  disabledAt: string | null;
  failingSince: string | null;
  secretLast4: string;
  previousSecretExpiresAt: string | null;
  createdBy: string;
  createdAt: string;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'succeeded' | 'failed' | 'cancelled';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  redeliveryOf: string | null;
  createdAt: string;
}

/** What a receiver gets: Stripe's event shape. */
export interface EventPayload {
  id: string;
  object: 'event';
  type: string;
  created: number;
  data: { object: unknown };
}

interface EndpointRow {
  id: string; url: string; description: string; event_types: string[]; enabled: boolean;
  disabled_reason: 'admin' | 'failing' | null; disabled_at: Date | null; failing_since: Date | null;
  secret_sealed: string; secret_last4: string; previous_secret_sealed: string | null; previous_secret_expires_at: Date | null;
  rotation_key_hash: string | null; created_by: string; created_at: Date; disabled_notice_sent_at: Date | null;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

function endpointView(r: EndpointRow): EndpointView {
  return {
    id: r.id, url: r.url, description: r.description, eventTypes: r.event_types, enabled: r.enabled,
    disabledReason: r.disabled_reason, disabledAt: iso(r.disabled_at), failingSince: iso(r.failing_since),
    secretLast4: r.secret_last4,
    previousSecretExpiresAt: r.previous_secret_expires_at && r.previous_secret_expires_at > new Date() ? r.previous_secret_expires_at.toISOString() : null,
    createdBy: r.created_by, createdAt: r.created_at.toISOString(),
  };
}

/** Event ids as receivers see them: `evt_` and the row's UUID without dashes. */
export function publicEventId(uuid: string): string {
  return `evt_${uuid.replaceAll('-', '')}`;
}

export function eventUuid(publicId: string): string | null {
  const m = /^evt_([0-9a-f]{32})$/.exec(publicId);
  if (!m) return null;
  const h = m[1]!;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class WebhookStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly pii: PiiCipher,
    private readonly deriveKey: Buffer,
    private readonly policy: TargetPolicy,
  ) {}

  /** Secrets are derived from the Idempotency-Key, so a repeated call answers the same secret. */
  private derive(purpose: string, idempotencyKey: string): { secret: string; hash: string } {
    const mac = createHmac('sha256', this.deriveKey).update(`webhook-secret/v1|${purpose}|${idempotencyKey}`).digest();
    return { secret: `whsec_${mac.subarray(0, 24).toString('base64url')}`, hash: createHash('sha256').update(mac).digest('hex') };
  }

  async eventTypes(): Promise<{ type: string; description: string }[]> {
    const { rows } = await this.pool.query<{ type: string; description: string }>('SELECT type, description FROM webhook_event_types ORDER BY type');
    return rows;
  }

  private async checkEventTypes(types: string[]): Promise<string[]> {
    const unique = [...new Set(types)].sort();
    if (unique.includes(ALL_EVENTS)) return [ALL_EVENTS];
    const known = new Set((await this.eventTypes()).map((t) => t.type));
    const unknown = unique.filter((t) => !known.has(t));
    if (unknown.length) throw new DomainError('validation_error', `unknown event type(s): ${unknown.join(', ')}`, { unknown });
    return unique;
  }

  async list(): Promise<EndpointView[]> {
    const { rows } = await this.pool.query<EndpointRow>('SELECT * FROM webhook_endpoints ORDER BY created_at LIMIT 1000');
    return rows.map(endpointView);
  }

  async get(id: string): Promise<EndpointView> {
    return endpointView(await this.row(id));
  }

  private async row(id: string): Promise<EndpointRow> {
    const { rows: [row] } = await this.pool.query<EndpointRow>('SELECT * FROM webhook_endpoints WHERE id = $1', [id]);
    if (!row) throw new DomainError('not_found', 'no such webhook endpoint');
    return row;
  }

  async create(idempotencyKey: string, actor: string, p: { url: string; description: string; eventTypes: string[]; enabled: boolean }): Promise<{ endpoint: EndpointView; secret: string }> {
    const url = checkEndpointUrl(p.url, this.policy).toString();
    const eventTypes = await this.checkEventTypes(p.eventTypes);
    const { secret, hash } = this.derive('create', idempotencyKey);
    await this.pool.query(
      `INSERT INTO webhook_endpoints (id, url, description, event_types, enabled, disabled_reason, disabled_at,
                                      secret_sealed, secret_last4, idempotency_key_hash, created_by)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, CASE WHEN $4 THEN NULL ELSE 'admin' END, CASE WHEN $4 THEN NULL ELSE now() END,
               $5, $6, $7, $8)
       ON CONFLICT (idempotency_key_hash) DO NOTHING`,
      [url, p.description, eventTypes, p.enabled, this.pii.seal(secret), secret.slice(-4), hash, actor]);
    const { rows: [row] } = await this.pool.query<EndpointRow>('SELECT * FROM webhook_endpoints WHERE idempotency_key_hash = $1', [hash]);
    if (!row || row.url !== url || row.description !== p.description || row.event_types.join() !== eventTypes.join()) {
      throw new DomainError('idempotency_key_reused', 'this Idempotency-Key was used for another endpoint');
    }
    return { endpoint: endpointView(row), secret };
  }

  async update(id: string, p: { url?: string; description?: string; eventTypes?: string[]; enabled?: boolean }): Promise<EndpointView> {
    const url = p.url === undefined ? null : checkEndpointUrl(p.url, this.policy).toString();
    const eventTypes = p.eventTypes === undefined ? null : await this.checkEventTypes(p.eventTypes);
    const { rows: [row] } = await this.pool.query<EndpointRow>(
      `UPDATE webhook_endpoints SET
          url = coalesce($2, url), description = coalesce($3, description), event_types = coalesce($4, event_types),
          enabled = coalesce($5, enabled),
          disabled_reason = CASE WHEN $5 IS NULL THEN disabled_reason WHEN $5 THEN NULL ELSE 'admin' END,
          disabled_at = CASE WHEN $5 IS NULL THEN disabled_at WHEN $5 THEN NULL WHEN enabled THEN now() ELSE disabled_at END,
          -- Enabling again starts a fresh failure window.
          failing_since = CASE WHEN $5 THEN NULL ELSE failing_since END,
          disabled_notice_sent_at = CASE WHEN $5 THEN NULL ELSE disabled_notice_sent_at END,
          updated_at = now()
        WHERE id = $1 RETURNING *`,
      [id, url, p.description ?? null, eventTypes, p.enabled ?? null]);
    if (!row) throw new DomainError('not_found', 'no such webhook endpoint');
    return endpointView(row);
  }

  /**
   * A new signing secret; the previous one keeps signing (a second v1 in the header) for
   * `overlapHours`, so receivers can switch without missing a delivery. Repeating the call with
   * the same Idempotency-Key answers the same secret.
   */
  async rotateSecret(idempotencyKey: string, id: string, overlapHours: number): Promise<{ endpoint: EndpointView; secret: string }> {
    const { secret, hash } = this.derive(`rotate|${id}`, idempotencyKey);
    const { rows: [rotated] } = await this.pool.query<EndpointRow>(
      `UPDATE webhook_endpoints SET previous_secret_sealed = secret_sealed,
              previous_secret_expires_at = now() + make_interval(hours => $5),
              secret_sealed = $2, secret_last4 = $3, rotation_key_hash = $4, updated_at = now()
        WHERE id = $1 AND rotation_key_hash IS DISTINCT FROM $4 RETURNING *`,
      [id, this.pii.seal(secret), secret.slice(-4), hash, overlapHours]);
    if (rotated) return { endpoint: endpointView(rotated), secret };
    const row = await this.row(id);
    if (row.rotation_key_hash === hash) return { endpoint: endpointView(row), secret };
    throw new DomainError('not_found', 'no such webhook endpoint');
  }

  /** The secrets that sign now: the current one, and the previous one during its overlap. */
  signingSecrets(row: Pick<EndpointRow, 'secret_sealed' | 'previous_secret_sealed' | 'previous_secret_expires_at'>): string[] {
    const secrets = [this.pii.open(row.secret_sealed)];
    if (row.previous_secret_sealed && row.previous_secret_expires_at && row.previous_secret_expires_at > new Date()) {
      secrets.push(this.pii.open(row.previous_secret_sealed));
    }
    return secrets;
  }

  async deliveries(endpointId: string, p: { status?: DeliveryView['status']; before?: string; limit: number }): Promise<{ deliveries: DeliveryView[]; nextBefore: string | null }> {
    await this.row(endpointId);
    const { rows } = await this.pool.query<{
      id: string; event_id: string; type: string; status: DeliveryView['status']; attempts: number; last_status_code: number | null;
      last_error: string | null; last_attempt_at: Date | null; next_attempt_at: Date | null; redelivery_of: string | null; created_at: Date;
    }>(
      `SELECT d.id::text, d.event_id, e.type, d.status, d.attempts, d.last_status_code, d.last_error, d.last_attempt_at,
              d.next_attempt_at, d.redelivery_of::text, d.created_at
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        WHERE d.endpoint_id = $1 AND ($2::webhook_delivery_status IS NULL OR d.status = $2) AND ($3::bigint IS NULL OR d.id < $3)
        ORDER BY d.id DESC LIMIT $4`,
      [endpointId, p.status ?? null, p.before ?? null, p.limit + 1]);
    const page = rows.slice(0, p.limit);
    return {
      deliveries: page.map((r) => ({
        id: r.id, eventId: publicEventId(r.event_id), eventType: r.type, status: r.status, attempts: r.attempts,
        lastStatusCode: r.last_status_code, lastError: r.last_error, lastAttemptAt: iso(r.last_attempt_at),
        nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null, redeliveryOf: r.redelivery_of, createdAt: r.created_at.toISOString(),
      })),
      nextBefore: rows.length > p.limit ? page[page.length - 1]!.id : null,
    };
  }

  /**
   * Sends one event to one endpoint again, as a delivery of its own (the relay starts its workflow).
   * Keyed by the Idempotency-Key: a repeat answers the same delivery.
   */
  async redeliver(idempotencyKey: string, actor: string, endpointId: string, eventId: string): Promise<{ deliveryId: string }> {
    const uuid = eventUuid(eventId);
    if (!uuid) throw new DomainError('validation_error', 'eventId must look like evt_<32 hex digits>');
    const requestedBy = `${actor}|${createHash('sha256').update(`${endpointId}|${eventId}|${idempotencyKey}`).digest('hex').slice(0, 32)}`;
    const { rows: [existing] } = await this.pool.query<{ id: string }>(
      'SELECT id::text FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2 AND requested_by = $3', [endpointId, uuid, requestedBy]);
    if (existing) return { deliveryId: existing.id };
    const { rows: [first] } = await this.pool.query<{ id: string }>(
      `SELECT id::text FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2 AND redelivery_of IS NULL`, [endpointId, uuid]);
    if (!first) throw new DomainError('not_found', 'this event was never sent to this endpoint');
    const { rows: [row] } = await this.pool.query<{ id: string }>(
      `INSERT INTO webhook_deliveries (event_id, endpoint_id, redelivery_of, requested_by) VALUES ($1, $2, $3, $4) RETURNING id::text`,
      [uuid, endpointId, first.id, requestedBy]);
    return { deliveryId: row!.id };
  }

  /** Everything one attempt needs; null when the delivery or its endpoint is gone. */
  async attemptInput(deliveryId: string): Promise<{
    status: DeliveryView['status']; attempts: number; url: string; enabled: boolean; secrets: string[]; payload: string;
  } | null> {
    const { rows: [r] } = await this.pool.query<EndpointRow & { status: DeliveryView['status']; attempts: number; event_id: string; type: string; object: unknown; event_created: Date }>(
      `SELECT d.status, d.attempts, d.event_id, ev.type, ev.object, ev.created_at AS event_created, e.*
         FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE d.id = $1`, [deliveryId]);
    if (!r) return null;
    const payload: EventPayload = {
      id: publicEventId(r.event_id), object: 'event', type: r.type,
      created: Math.floor(r.event_created.getTime() / 1000), data: { object: r.object },
    };
    return { status: r.status, attempts: r.attempts, url: r.url, enabled: r.enabled, secrets: this.signingSecrets(r), payload: JSON.stringify(payload) };
  }

  /**
   * Records one attempt. A success ends the delivery and the endpoint's failing run; a failure
   * schedules the next attempt (or ends the delivery as failed), and an endpoint whose failing
   * run is older than `disableAfterSeconds` is disabled. Answers whether this call disabled it.
   */
  async recordAttempt(deliveryId: string, r: { ok: boolean; statusCode: number | null; error: string | null; nextAttemptAt: string | null }, disableAfterSeconds: number): Promise<{ disabledEndpoint: string | null }> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows: [d] } = await client.query<{ endpoint_id: string }>(
        `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = $2, last_error = $3, last_attempt_at = now(),
                status = CASE WHEN $4 THEN 'succeeded' WHEN $5::timestamptz IS NULL THEN 'failed' ELSE 'pending' END::webhook_delivery_status,
                next_attempt_at = CASE WHEN $4 THEN NULL ELSE $5::timestamptz END,
                finished_at = CASE WHEN $4 OR $5::timestamptz IS NULL THEN now() ELSE NULL END
          WHERE id = $1 RETURNING endpoint_id`,
        [deliveryId, r.statusCode, r.error?.slice(0, 500) ?? null, r.ok, r.nextAttemptAt]);
      let disabled: string | null = null;
      if (d) {
        if (r.ok) {
          await client.query('UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL', [d.endpoint_id]);
        } else {
          const { rows: [e] } = await client.query<{ enabled: boolean; overdue: boolean }>(
            `SELECT enabled, coalesce(failing_since <= now() - make_interval(secs => $2), false) AS overdue
               FROM webhook_endpoints WHERE id = $1 FOR UPDATE`, [d.endpoint_id, disableAfterSeconds]);
          const disable = Boolean(e?.enabled && e.overdue);
          await client.query(
            `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now()),
                    enabled = enabled AND NOT $2, disabled_reason = CASE WHEN $2 THEN 'failing' ELSE disabled_reason END,
                    disabled_at = CASE WHEN $2 THEN now() ELSE disabled_at END
              WHERE id = $1`, [d.endpoint_id, disable]);
          if (disable) disabled = d.endpoint_id;
        }
      }
      await client.query('COMMIT');
      return { disabledEndpoint: disabled };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** A delivery whose endpoint was disabled or deleted meanwhile ends without another attempt. */
  async cancel(deliveryId: string): Promise<void> {
    await this.pool.query(
      `UPDATE webhook_deliveries SET status = 'cancelled', next_attempt_at = NULL, finished_at = now() WHERE id = $1 AND status = 'pending'`, [deliveryId]);
  }

  /** Endpoints disabled for failing whose admins have not been told yet. */
  async pendingDisableNotice(endpointId: string): Promise<EndpointView | null> {
    const { rows: [row] } = await this.pool.query<EndpointRow>(
      `SELECT * FROM webhook_endpoints WHERE id = $1 AND disabled_reason = 'failing' AND disabled_notice_sent_at IS NULL`, [endpointId]);
    return row ? endpointView(row) : null;
  }

  async markDisableNoticeSent(endpointId: string): Promise<void> {
    await this.pool.query('UPDATE webhook_endpoints SET disabled_notice_sent_at = now() WHERE id = $1', [endpointId]);
  }

  /** Active admins' e-mail addresses (sealed at rest). */
  async adminEmails(): Promise<string[]> {
    const { rows } = await this.pool.query<{ email: string }>(`SELECT email FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY created_at`);
    return rows.map((r) => this.pii.open(r.email));
  }
}
