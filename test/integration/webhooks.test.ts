// Outbound webhooks against a real HTTP receiver in this process: events recorded with their
// change, signed deliveries, retries after 500s and timeouts, redelivery, secret rotation,
// disablement with the admins' e-mail, and refusals of private and loopback targets.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../domain/webhook-signature.ts';
import { createApiClient } from '../../services/directory.ts';
import { checkEndpointUrl, isPublicAddress, postJson } from '../../services/webhook-target.ts';
import { call, issueCard, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../helpers/webhook-receiver.ts';

let h: Harness;
let receiver: WebhookReceiver;
let mailbox: Mailbox;
let adminKey: string;
const endpoints: string[] = [];

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  mailbox = await startMailbox();
  h = await startHarness({
    config: {
      mail: { smtpUrl: mailbox.url, from: 'Vouchers <vouchers@centre.test>' },
      webhooks: {
        allowPrivateAddresses: true, requireHttps: false, timeoutMs: 1_000,
        retryBaseMs: 300, maxRetryDelayMs: 1_000, retryWindowSeconds: 30, secretOverlapHours: 24, eventRetentionDays: 30,
      },
    },
  });
  adminKey = (await createApiClient(h.deps.db.prisma, { name: 'webhook admin', role: 'admin' })).apiKey;
  await h.deps.users.create({ email: `hooks-admin-${randomUUID().slice(0, 6)}@centre.test`, displayName: 'Hooks admin', role: 'admin', password: 'a long enough password' });
});
afterAll(async () => {
  // Leave no enabled endpoint behind for the files that run after this one.
  await h?.deps.db.pool.query(`UPDATE webhook_endpoints SET enabled = false WHERE id = ANY($1::uuid[])`, [endpoints]);
  await h?.close();
  await receiver?.close();
  await mailbox?.close();
});

async function register(path: string, eventTypes: string[], idempotencyKey = randomUUID()) {
  const res = await call(h, 'POST', '/v1/webhook-endpoints', { key: adminKey, idempotencyKey, body: { url: receiver.url + path, eventTypes } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  endpoints.push(res.body.endpoint.id);
  return res.body as { endpoint: { id: string; url: string }; secret: string };
}

const forCard = (list: ReceivedWebhook[], cardId: string) => list.filter((r) => (r.event.data.object.card?.id ?? r.event.data.object.id) === cardId);

describe('events', () => {
  it('are recorded in the transaction of their change, with the object as the API shows it', async () => {
    const card = await issueCard(h, 2_000);
    // No relay has run for this yet: the row was written with the card.
    const { rows } = await h.deps.db.pool.query(`SELECT type, object FROM webhook_events WHERE object->'card'->>'id' = $1`, [card.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].type).toBe('card.created');
    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } });
    expect(rows[0].object).toMatchObject({ object: 'card_activity', kind: 'issue', amount: 2_000, currency: 'EUR' });
    const { object: _o, ...cardAsEvent } = rows[0].object.card;
    expect(cardAsEvent).toEqual(lookup.body.card);

    // A refused change records nothing.
    const refused = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 5_000, currency: 'EUR', posReference: `r-${randomUUID()}` } });
    expect(refused.status).toBe(402);
    const after = await h.deps.db.pool.query(`SELECT count(*)::int AS n FROM webhook_events WHERE object->'card'->>'id' = $1 OR object->>'id' = $1`, [card.id]);
    expect(after.rows[0].n).toBe(1);

    // Blocking the card is an event of its own, from the card's status.
    await h.deps.db.pool.query('SELECT card_set_blocked($1, true)', [card.id]);
    const blocked = await h.deps.db.pool.query(`SELECT object FROM webhook_events WHERE type = 'card.blocked' AND object->>'id' = $1`, [card.id]);
    expect(blocked.rows[0].object).toMatchObject({ object: 'card', id: card.id, status: 'blocked' });
  });

  it('map entry kinds other developers add through one table', async () => {
    const { rows } = await h.deps.db.pool.query(
      `SELECT k, webhook_event_type('journal_entry', k) AS type FROM unnest(ARRAY['activate','deactivate','clear_balance','adjust','transfer','import','authorize']) k`);
    expect(Object.fromEntries(rows.map((r) => [r.k, r.type]))).toEqual({
      activate: 'card.activated', deactivate: 'card.deactivated', clear_balance: 'card.balance_cleared',
      adjust: 'card.adjusted', transfer: 'card.transferred', import: 'card.created', authorize: null,
    });
  });
});

describe('delivery', () => {
  it('signs each event; a repeated registration answers the same secret; order is not assumed', async () => {
    const key = randomUUID();
    const { endpoint, secret } = await register('/signed', ['card.created', 'card.loaded']);
    const again = await call(h, 'POST', '/v1/webhook-endpoints', { key: adminKey, idempotencyKey: key, body: { url: receiver.url + '/signed', eventTypes: ['card.created', 'card.loaded'] } });
    const again2 = await call(h, 'POST', '/v1/webhook-endpoints', { key: adminKey, idempotencyKey: key, body: { url: receiver.url + '/signed', eventTypes: ['card.created', 'card.loaded'] } });
    expect(again2.body.secret).toBe(again.body.secret);
    expect(again2.body.endpoint.id).toBe(again.body.endpoint.id);
    endpoints.push(again.body.endpoint.id);
    await call(h, 'PATCH', `/v1/webhook-endpoints/${again.body.endpoint.id}`, { key: adminKey, body: { enabled: false } });

    const card = await issueCard(h, 1_000);
    const load = await call(h, 'POST', '/v1/cards/load', { body: { code: card.code, amount: 500, currency: 'EUR' }, idempotencyKey: randomUUID() });
    expect(load.status).toBe(200);
    const got = await waitFor(async () => { const l = forCard(receiver.on('/signed'), card.id); return l.length >= 2 ? l : undefined; });
    expect(new Set(got.map((r) => r.event.type))).toEqual(new Set(['card.created', 'card.loaded']));
    for (const r of got) {
      expect(verifySignature(r.headers['voucher-signature'] as string, r.body, secret)).toEqual({ ok: true, timestamp: expect.any(Number) });
      expect(verifySignature(r.headers['voucher-signature'] as string, r.body, 'whsec_wrong')).toMatchObject({ ok: false, reason: 'no_matching_signature' });
      expect(verifySignature(r.headers['voucher-signature'] as string, `${r.body} `, secret).ok).toBe(false);
      expect(verifySignature(r.headers['voucher-signature'] as string, r.body, secret, { now: Date.now() + 3_600_000 })).toMatchObject({ ok: false, reason: 'timestamp_out_of_tolerance' });
      expect(r.event.id).toMatch(/^evt_[0-9a-f]{32}$/);
      expect(r.headers['voucher-event-id']).toBe(r.event.id);
    }
    expect(got.find((r) => r.event.type === 'card.loaded')!.event.data.object.card).toMatchObject({ id: card.id, available: 1_500 });
    // Another endpoint's subscription is its own: none of this went to an endpoint for other types.
    // The receiver has answered; the attempt is recorded right after.
    const mine = await waitFor(async () => {
      const deliveries = await call(h, 'GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`, { key: adminKey });
      const list = deliveries.body.deliveries.filter((d: { eventId: string; status: string }) => got.some((r) => r.event.id === d.eventId) && d.status !== 'pending');
      return list.length === 2 ? list : undefined;
    });
    for (const d of mine) expect(d).toMatchObject({ status: 'succeeded', attempts: 1, lastStatusCode: 200, nextAttemptAt: null });
  });

  it('retries after 500s and timeouts until the receiver answers 2xx', async () => {
    const { endpoint } = await register('/flaky', ['card.created']);
    receiver.answer = (path, n) => {
      if (path !== '/flaky') return { status: 200 };
      if (n === 1) return { status: 500 };
      if (n === 2) return { status: 200, delayMs: 3_000 }; // past WEBHOOK_TIMEOUT_MS
      if (n === 3) return { status: 503 };
      return { status: 204 };
    };
    const card = await issueCard(h, 700);
    const delivery = await waitFor(async () => {
      const res = await call(h, 'GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`, { key: adminKey });
      return res.body.deliveries.find((d: { status: string }) => d.status === 'succeeded');
    }, 30_000, 200);
    expect(delivery).toMatchObject({ attempts: 4, lastStatusCode: 204, lastError: null });
    const got = forCard(receiver.on('/flaky'), card.id);
    expect(got).toHaveLength(4);
    expect(new Set(got.map((r) => r.event.id)).size).toBe(1);
    // Backed off: each attempt later than the one before by at least the growing delay.
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(250);
    expect(got[3]!.at - got[2]!.at).toBeGreaterThanOrEqual(900);
    receiver.answer = () => ({ status: 200 });
  });

  it('redelivers one event on request, with the same event id', async () => {
    const { endpoint } = await register('/redeliver', ['card.created']);
    const card = await issueCard(h, 800);
    const [first] = await waitFor(async () => { const l = forCard(receiver.on('/redeliver'), card.id); return l.length ? l : undefined; });
    const idem = randomUUID();
    const res = await call(h, 'POST', `/v1/webhook-endpoints/${endpoint.id}/redeliver`, { key: adminKey, idempotencyKey: idem, body: { eventId: first!.event.id } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const repeat = await call(h, 'POST', `/v1/webhook-endpoints/${endpoint.id}/redeliver`, { key: adminKey, idempotencyKey: idem, body: { eventId: first!.event.id } });
    expect(repeat.body.deliveryId).toBe(res.body.deliveryId);
    const both = await waitFor(async () => { const l = forCard(receiver.on('/redeliver'), card.id); return l.length >= 2 ? l : undefined; });
    expect(both[1]!.event).toEqual(first!.event);
    await new Promise((r) => setTimeout(r, 500));
    expect(forCard(receiver.on('/redeliver'), card.id)).toHaveLength(2);
    const unknown = await call(h, 'POST', `/v1/webhook-endpoints/${endpoint.id}/redeliver`, { key: adminKey, idempotencyKey: randomUUID(), body: { eventId: `evt_${'0'.repeat(32)}` } });
    expect(unknown.status).toBe(404);
  });

  it('signs with both secrets during a rotation\'s overlap', async () => {
    const { endpoint, secret: oldSecret } = await register('/rotate', ['card.created']);
    const idem = randomUUID();
    const rotated = await call(h, 'POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, { key: adminKey, idempotencyKey: idem, body: { overlapHours: 1 } });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).not.toBe(oldSecret);
    const repeat = await call(h, 'POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, { key: adminKey, idempotencyKey: idem, body: { overlapHours: 1 } });
    expect(repeat.body.secret).toBe(newSecret);
    expect(rotated.body.endpoint.previousSecretExpiresAt).not.toBeNull();
    const card = await issueCard(h, 900);
    const [got] = await waitFor(async () => { const l = forCard(receiver.on('/rotate'), card.id); return l.length ? l : undefined; });
    const header = got!.headers['voucher-signature'] as string;
    expect(header.match(/v1=/g)).toHaveLength(2);
    expect(verifySignature(header, got!.body, oldSecret).ok).toBe(true);
    expect(verifySignature(header, got!.body, newSecret).ok).toBe(true);
  });
});

describe('an endpoint failing for the whole retry window', () => {
  it('is disabled, its admins are e-mailed once, and its deliveries stop', async () => {
    const window = h.config.webhooks.retryWindowSeconds;
    h.config.webhooks.retryWindowSeconds = 3;
    try {
      const { endpoint } = await register('/down', ['card.created']);
      receiver.answer = (path) => (path === '/down' ? { status: 500 } : { status: 200 });
      await issueCard(h, 600);
      await issueCard(h, 650);
      const disabled = await waitFor(async () => {
        const res = await call(h, 'GET', '/v1/webhook-endpoints', { key: adminKey });
        return res.body.endpoints.find((e: { id: string; enabled: boolean }) => e.id === endpoint.id && !e.enabled);
      }, 40_000, 250);
      expect(disabled).toMatchObject({ disabledReason: 'failing', failingSince: expect.any(String) });
      const mail = await waitFor(async () => mailbox.messages.find((m) => m.subject?.includes(endpoint.url)), 20_000);
      expect(mail.text).toContain('disabled');
      const count = receiver.on('/down').length;
      await new Promise((r) => setTimeout(r, 2_000));
      expect(receiver.on('/down').length).toBe(count);
      expect(mailbox.messages.filter((m) => m.subject?.includes(endpoint.url))).toHaveLength(1);
      const res = await call(h, 'GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`, { key: adminKey });
      for (const d of res.body.deliveries) expect(['failed', 'cancelled']).toContain(d.status);
    } finally {
      h.config.webhooks.retryWindowSeconds = window;
      receiver.answer = () => ({ status: 200 });
    }
  });
});

describe('server-side request forgery', () => {
  it('refuses private, loopback and reserved targets outside development, at registration and at each call', async () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '224.0.0.1']) {
      expect(isPublicAddress(a), a).toBe(false);
    }
    for (const a of ['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111']) expect(isPublicAddress(a), a).toBe(true);
    const strict = { allowPrivateAddresses: false, requireHttps: true };
    for (const url of ['http://hooks.example.com/x', 'https://127.0.0.1/x', 'https://[::1]/x', 'https://169.254.169.254/latest/meta-data', 'https://localhost/x', 'https://10.0.0.5/x', 'https://user:pw@hooks.example.com/', 'ftp://hooks.example.com/']) {
      expect(() => checkEndpointUrl(url, strict), url).toThrow();
    }
    expect(checkEndpointUrl('https://hooks.example.com/in', strict).hostname).toBe('hooks.example.com');

    // At call time the resolved address is checked: a loopback receiver is not called.
    const before = receiver.received.length;
    for (const url of [receiver.url + '/ssrf', receiver.url.replace('127.0.0.1', 'localhost') + '/ssrf']) {
      const result = await postJson(url, '{}', {}, { timeoutMs: 1_000, allowPrivate: false });
      expect(result.statusCode).toBeNull();
      expect(result.error).toMatch(/private or reserved/);
    }
    expect(receiver.received.length).toBe(before);

    // Over the API with production's policy.
    const policy = { ...h.config.webhooks };
    Object.assign(h.config.webhooks, { allowPrivateAddresses: false, requireHttps: true });
    try {
      for (const url of ['https://127.0.0.1/hook', 'http://hooks.example.com/hook', 'https://[::ffff:10.0.0.1]/hook']) {
        const res = await call(h, 'POST', '/v1/webhook-endpoints', { key: adminKey, idempotencyKey: randomUUID(), body: { url, eventTypes: ['card.created'] } });
        expect(res.status, url).toBe(400);
        expect(res.body.error.code).toBe('validation_error');
      }
    } finally {
      Object.assign(h.config.webhooks, policy);
    }
  });

  it('never follows a redirect', async () => {
    const { endpoint } = await register('/redirect', ['card.created']);
    receiver.answer = (path) => (path === '/redirect' ? { status: 302 } : { status: 200 });
    try {
      await issueCard(h, 610);
      const d = await waitFor(async () => {
        const res = await call(h, 'GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`, { key: adminKey });
        return res.body.deliveries.find((x: { attempts: number }) => x.attempts >= 1);
      }, 20_000, 200);
      expect(d).toMatchObject({ status: 'pending', lastStatusCode: 302, lastError: 'HTTP 302' });
    } finally {
      await call(h, 'PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { key: adminKey, body: { enabled: false } });
      receiver.answer = () => ({ status: 200 });
    }
  });
});

describe('the API', () => {
  it('refuses unknown event types and needs an Idempotency-Key to register', async () => {
    const unknown = await call(h, 'POST', '/v1/webhook-endpoints', { key: adminKey, idempotencyKey: randomUUID(), body: { url: receiver.url, eventTypes: ['card.exploded'] } });
    expect(unknown.status).toBe(400);
    const noKey = await call(h, 'POST', '/v1/webhook-endpoints', { key: adminKey, body: { url: receiver.url, eventTypes: ['card.created'] } });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.code).toBe('idempotency_key_required');
    const types = await call(h, 'GET', '/v1/webhook-event-types', { key: adminKey });
    expect(types.body.types.map((t: { type: string }) => t.type)).toEqual(expect.arrayContaining(['card.created', 'redemption.captured', 'hold.expired', 'purchase.fulfilled', 'clearing.statement_ready']));
  });
});
