// The REST contract: authentication, store scoping, idempotency, one error shape, and no
// input a client can send causing a 500 or changing anything.

import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from '../../api/router.ts';
import { restProcedures } from '../../api/rest.ts';
import { createApiClient, createStore, createTerminal, revokeTerminal } from '../../services/directory.ts';
import { call, issueCard, posRef, startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

async function snapshot(): Promise<unknown> {
  const { rows } = await h.deps.db.pool.query(`
    SELECT (SELECT count(*) FROM cards) AS cards, (SELECT count(*) FROM holds) AS holds,
           (SELECT count(*) FROM journal_entries) AS entries, (SELECT count(*) FROM postings) AS postings,
           (SELECT count(*) FROM idempotency_records) AS idem, (SELECT count(*) FROM workflow_outbox) AS outbox,
           (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM clearing_periods) AS periods,
           (SELECT coalesce(sum(available), 0) FROM cards) AS available, (SELECT coalesce(sum(held), 0) FROM cards) AS held,
           (SELECT string_agg(status::text || captured_amount || refunded_amount, ',' ORDER BY id) FROM holds) AS hold_states`);
  return rows[0];
}

function expectErrorShape(res: { status: number; body: any }, status?: number, code?: string) {
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  if (status) expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: expect.objectContaining({ code: expect.any(String), message: expect.any(String), request_id: expect.stringMatching(/^req_/) }) });
  if (code) expect(res.body.error.code).toBe(code);
}

describe('authentication and scoping', () => {
  it('refuses calls without a key or with a wrong or revoked key', async () => {
    expectErrorShape(await call(h, 'POST', '/v1/cards/lookup', { key: null, body: { code: 'x' } }), 401, 'unauthenticated');
    expectErrorShape(await call(h, 'POST', '/v1/cards/lookup', { key: 'vk_' + 'x'.repeat(32), body: { code: 'x' } }), 401, 'unauthenticated');
    expectErrorShape(await call(h, 'POST', '/v1/cards/lookup', { key: 'not-a-key', body: { code: 'x' } }), 401, 'unauthenticated');
    const revoked = await createTerminal(h.deps.db.prisma, { storeId: h.storeA, name: 'Old till' });
    await revokeTerminal(h.deps.db.prisma, revoked.id);
    expectErrorShape(await call(h, 'POST', '/v1/cards/lookup', { key: revoked.apiKey, body: { code: 'x' } }), 401, 'unauthenticated');
  });

  it("refuses another store's redemption", async () => {
    const card = await issueCard(h, 1_000);
    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 500, currency: 'EUR', posReference: posRef() } });
    const before = await snapshot();
    const other = { key: h.terminalB.apiKey };
    expectErrorShape(await call(h, 'GET', `/v1/redemptions/${auth.body.id}`, other), 404, 'hold_not_found');
    expectErrorShape(await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { ...other, body: {} }), 404, 'hold_not_found');
    expectErrorShape(await call(h, 'POST', `/v1/redemptions/${auth.body.id}/void`, other), 404, 'hold_not_found');
    expectErrorShape(await call(h, 'POST', `/v1/redemptions/${auth.body.id}/refunds`, { ...other, body: {}, idempotencyKey: 'x' }), 404, 'hold_not_found');
    expect(await snapshot()).toEqual(before);
    // Another till of the same store may finish it.
    const capture = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { key: h.terminalA2.apiKey, body: {} });
    expect(capture.body.status).toBe('captured');
  });
});

describe('idempotency', () => {
  it('replays a sale with the same key and refuses the key with another body', async () => {
    const key = randomUUID();
    const first = await call(h, 'POST', '/v1/cards', { body: { amount: 2_000, currency: 'EUR' }, idempotencyKey: key });
    const again = await call(h, 'POST', '/v1/cards', { body: { amount: 2_000, currency: 'EUR' }, idempotencyKey: key });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...first.body, replayed: true });
    const before = await snapshot();
    expectErrorShape(await call(h, 'POST', '/v1/cards', { body: { amount: 3_000, currency: 'EUR' }, idempotencyKey: key }), 422, 'idempotency_key_reused');
    expectErrorShape(await call(h, 'POST', '/v1/cards', { body: { amount: 3_000, currency: 'EUR' } }), 400, 'idempotency_key_required');
    expect(await snapshot()).toEqual(before);
    // Keys belong to a terminal: the same key at another terminal is a different sale.
    const elsewhere = await call(h, 'POST', '/v1/cards', { key: h.terminalB.apiKey, body: { amount: 3_000, currency: 'EUR' }, idempotencyKey: key });
    expect(elsewhere.body.replayed).toBe(false);
    expect(elsewhere.body.code).not.toBe(first.body.code);
  });

  it('creates one card for a burst of retries with one key', async () => {
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 8 }, () =>
      call(h, 'POST', '/v1/cards', { body: { amount: 1_000, currency: 'EUR' }, idempotencyKey: key })));
    expect(new Set(results.map((r) => r.body.card.id)).size).toBe(1);
    expect(results.filter((r) => r.status === 200 && !r.body.replayed)).toHaveLength(1);
  });

  it('replays loads and authorizations, and keeps POS references unique per terminal', async () => {
    const card = await issueCard(h, 1_000);
    const load = { body: { code: card.code, amount: 500, currency: 'EUR' }, idempotencyKey: randomUUID() };
    const l1 = await call(h, 'POST', '/v1/cards/load', load);
    const l2 = await call(h, 'POST', '/v1/cards/load', load);
    expect(l1.body.card.available).toBe(1_500);
    expect(l2.body).toEqual({ ...l1.body, replayed: true });

    const ref = posRef();
    const body = { code: card.code, amount: 400, currency: 'EUR', posReference: ref };
    const a1 = await call(h, 'POST', '/v1/redemptions', { body });
    const a2 = await call(h, 'POST', '/v1/redemptions', { body });
    expect(a2.body).toEqual({ ...a1.body, replayed: true });
    const before = await snapshot();
    expectErrorShape(await call(h, 'POST', '/v1/redemptions', { body: { ...body, amount: 401 } }), 422, 'idempotency_key_reused');
    expectErrorShape(await call(h, 'POST', '/v1/redemptions', { body, idempotencyKey: randomUUID() }), 409, 'pos_reference_reused');
    expect(await snapshot()).toEqual(before);
    // A day later the reference is a new sale from a till whose counter went round, not a retry.
    await h.deps.db.pool.query(`UPDATE holds SET created_at = now() - interval '25 hours' WHERE id = $1`, [a1.body.id]);
    expectErrorShape(await call(h, 'POST', '/v1/redemptions', { body }), 409, 'pos_reference_reused');
    await h.deps.db.pool.query(`UPDATE holds SET created_at = now() WHERE id = $1`, [a1.body.id]);
    // The same reference at another terminal is another redemption.
    const other = await call(h, 'POST', '/v1/redemptions', { key: h.terminalA2.apiKey, body });
    expect(other.status).toBe(200);
    expect(other.body.id).not.toBe(a1.body.id);
  });
});

describe('redemption races', () => {
  it('answers a burst of identical authorizations without a key with one hold, never a false decline', async () => {
    const card = await issueCard(h, 1_000);
    const body = { code: card.code, amount: 800, currency: 'EUR', posReference: posRef() };
    const results = await Promise.all(Array.from({ length: 8 }, () => call(h, 'POST', '/v1/redemptions', { body })));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(results.filter((r) => !r.body.replayed)).toHaveLength(1);
    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } });
    expect(lookup.body.card).toMatchObject({ available: 200, held: 800 });
  });

  it('refuses to capture an expired hold even before the expiry workflow ran; a void confirms its release', async () => {
    const store = await createStore(h.deps.db.prisma, { billingPartyId: h.billingPartyId, name: 'Quick store', holdTtlSeconds: 1 });
    const till = await createTerminal(h.deps.db.prisma, { storeId: store.id, name: 'Quick till' });
    const card = await issueCard(h, 1_000);
    const auth = await call(h, 'POST', '/v1/redemptions', { key: till.apiKey, body: { code: card.code, amount: 300, currency: 'EUR', posReference: posRef() } });
    expect(auth.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_300));
    const before = await snapshot();
    expectErrorShape(await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { key: till.apiKey, body: {} }), 409, 'hold_expired');
    expect(await snapshot()).toEqual(before);
    const voided = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/void`, { key: till.apiKey });
    // The hold stopped counting at its expiry: the void finds it expired, its value back on the card.
    expect(voided.status).toBe(200);
    expect(voided.body).toMatchObject({ status: 'expired', capturedAmount: 0, card: { available: 1_000, held: 0 } });
  });
});

describe('refusals', () => {
  it('answers unknown cards, typos, currency mismatches and blocked cards with 4xx and changes nothing', async () => {
    const card = await issueCard(h, 1_000);
    const before = await snapshot();
    const typo = card.code.slice(0, -1) + (card.code.endsWith('0') ? '1' : '0');
    expectErrorShape(await call(h, 'POST', '/v1/cards/lookup', { body: { code: typo } }), 400, 'invalid_card_code');
    expectErrorShape(await call(h, 'POST', '/v1/cards/lookup', { body: { code: '0000-0000-0000-0000' } }), 404, 'card_not_found');
    expectErrorShape(await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 100, currency: 'CHF', posReference: posRef() } }), 422, 'currency_mismatch');
    expectErrorShape(await call(h, 'POST', '/v1/cards/load', { body: { code: card.code, amount: 100, currency: 'CHF' }, idempotencyKey: randomUUID() }), 422, 'currency_mismatch');
    expectErrorShape(await call(h, 'POST', '/v1/cards/load', { body: { code: card.code, amount: 100_000_000, currency: 'EUR' }, idempotencyKey: randomUUID() }), 422, 'balance_limit_exceeded');
    expect(await snapshot()).toEqual(before);
    await h.deps.db.prisma.card.update({ where: { id: card.id }, data: { status: 'blocked' } });
    expectErrorShape(await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 100, currency: 'EUR', posReference: posRef() } }), 422, 'card_blocked');
  });

  it('answers unknown routes with the error shape', async () => {
    expectErrorShape(await call(h, 'GET', '/v1/nothing-here'), 404, 'not_found');
  });
});

describe('malformed input on every endpoint', () => {
  const routes = restProcedures(appRouter);
  // Back-office routes are called with a finance key, the others with a till's.
  let financeKey: string;
  let adminKey: string;
  const keyFor = (url: string) => (/^\/v1\/(clearing|reports|settlement)\//.test(url) ? financeKey
    : /^\/v1\/(admin\/|webhook-|cards\/:cardId\/|card-batches|card-adjustments|card-serials)/.test(url) ? adminKey : undefined);
  beforeAll(async () => {
    financeKey = (await createApiClient(h.deps.db.prisma, { name: 'Finance (rest test)', role: 'finance' })).apiKey;
    adminKey = (await createApiClient(h.deps.db.prisma, { name: 'Admin (rest test)', role: 'admin' })).apiKey;
  });

  it('covers every REST route', () => {
    expect(routes.map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'GET /v1/admin/code-guessing/locks', 'GET /v1/admin/limits',
      'GET /v1/card-adjustments', 'GET /v1/card-batches', 'GET /v1/card-batches/:batchId', 'GET /v1/card-batches/:batchId/serials',
      'GET /v1/card-serials/:serial', 'GET /v1/cards/:cardId/activities',
      'GET /v1/clearing/periods', 'GET /v1/clearing/periods/:period',
      'GET /v1/orders/:orderId', 'GET /v1/orders/:orderId/payment', 'GET /v1/redemptions/:holdId', 'GET /v1/reports/periods/:period', 'GET /v1/shop/config',
      'POST /v1/admin/code-guessing/locks/lift',
      'POST /v1/card-adjustments/:adjustmentId/decision', 'POST /v1/card-batches', 'POST /v1/card-batches/:batchId/decision',
      'POST /v1/card-batches/:batchId/void',
      'POST /v1/cards', 'POST /v1/cards/:cardId/adjustments', 'POST /v1/cards/:cardId/clear-balance', 'POST /v1/cards/:cardId/deactivate',
      'POST /v1/cards/:cardId/extend-expiry', 'POST /v1/cards/:cardId/transfer', 'POST /v1/cards/activate', 'POST /v1/cards/load', 'POST /v1/cards/lookup',
      'POST /v1/clearing/periods/:period/approve', 'POST /v1/clearing/periods/:period/rerun', 'POST /v1/clearing/periods/:period/start',
      'POST /v1/orders', 'POST /v1/orders/:orderId/dev-confirm',
      'POST /v1/redemptions', 'POST /v1/redemptions/:holdId/capture', 'POST /v1/redemptions/:holdId/refunds',
      'POST /v1/redemptions/:holdId/void',
      'PUT /v1/admin/stores/:storeId/limits',
      'GET /v1/settlement/bank-details', 'GET /v1/settlement/periods/:period',
      'POST /v1/settlement/bank-details/:billingPartyId', 'POST /v1/settlement/bank-details/:billingPartyId/decision',
      'POST /v1/settlement/periods/:period/start',
      'GET /v1/webhook-event-types', 'GET /v1/webhook-endpoints', 'POST /v1/webhook-endpoints',
      'PATCH /v1/webhook-endpoints/:endpointId', 'POST /v1/webhook-endpoints/:endpointId/rotate-secret',
      'GET /v1/webhook-endpoints/:endpointId/deliveries', 'POST /v1/webhook-endpoints/:endpointId/redeliver',
    ].sort());
  });

  const badBodies: { name: string; rawBody?: string; body?: unknown; contentType?: string }[] = [
    { name: 'invalid JSON', rawBody: '{"amount": ' },
    { name: 'JSON array', rawBody: '[1,2]' },
    { name: 'JSON string', rawBody: '"hello"' },
    { name: 'JSON null', rawBody: 'null' },
    { name: 'wrong content type', rawBody: 'amount=1', contentType: 'application/x-www-form-urlencoded' },
    { name: 'huge body', rawBody: JSON.stringify({ code: 'x'.repeat(100_000) }) },
    { name: 'amount as string', body: { code: 'ABCD', amount: '100', currency: 'EUR', posReference: 'r' } },
    { name: 'negative amount', body: { code: 'ABCD', amount: -5, currency: 'EUR', posReference: 'r' } },
    { name: 'fractional amount', body: { code: 'ABCD', amount: 10.5, currency: 'EUR', posReference: 'r' } },
    { name: 'absurd amount', body: { code: 'ABCD', amount: 1e20, currency: 'EUR', posReference: 'r' } },
    { name: 'unknown currency', body: { code: 'ABCD', amount: 100, currency: 'XXX', posReference: 'r' } },
    { name: 'unknown field', body: { code: 'ABCD', amount: 100, currency: 'EUR', posReference: 'r', surprise: true } },
    { name: 'wrong types everywhere', body: { code: 5, amount: {}, currency: [], posReference: null, allowPartial: 'yes' } },
    { name: 'reference with spaces', body: { code: 'ABCD', amount: 100, currency: 'EUR', posReference: 'has space' } },
  ];

  it('answers 4xx with the error shape and changes nothing', async () => {
    const card = await issueCard(h, 1_000);
    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 100, currency: 'EUR', posReference: posRef() } });
    const before = await snapshot();
    let checked = 0;
    for (const route of routes) {
      for (const holdId of [auth.body.id, 'not-a-uuid', randomUUID()]) {
        const path = route.url.replace(/:\w+/, holdId);
        if (route.method === 'GET') {
          const res = await call(h, 'GET', `${path}?surprise=1`, { key: keyFor(route.url) });
          if (holdId === auth.body.id) expectErrorShape(res, 400, 'validation_error');
          else expectErrorShape(res);
          checked++;
          continue;
        }
        if (holdId !== auth.body.id && !route.url.includes(':')) continue;
        for (const bad of badBodies) {
          const res = await call(h, route.method, path, { ...bad, key: keyFor(route.url), idempotencyKey: randomUUID() });
          expect(res.status, `${route.method} ${path} ${bad.name}: ${JSON.stringify(res.body)}`).toBeGreaterThanOrEqual(400);
          expectErrorShape(res);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a malformed Idempotency-Key over REST and tRPC alike', async () => {
    const res = await call(h, 'POST', '/v1/cards', { body: { amount: 100, currency: 'EUR' }, idempotencyKey: 'x'.repeat(300) });
    expectErrorShape(res, 400, 'validation_error');
    for (const bad of ['has space', 'x'.repeat(300)]) {
      const trpc = await fetch(`${h.baseUrl}/trpc/pos.lookupCard`, {
        method: 'POST', body: JSON.stringify({ code: 'ABCD' }),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${h.terminalA.apiKey}`, 'idempotency-key': bad },
      });
      expect(trpc.status).toBe(400);
      expect(((await trpc.json()) as any).error.data.appCode).toBe('validation_error');
    }
  });
});

describe('documentation and tRPC', () => {
  it('serves an OpenAPI 3.1 document generated from the procedures, and a docs page', async () => {
    const res = await fetch(`${h.baseUrl}/openapi.json`);
    const doc = await res.json() as any;
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/redemptions', '/v1/redemptions/{holdId}/capture', '/v1/cards/lookup']));
    const authorize = doc.paths['/v1/redemptions'].post;
    expect(authorize.requestBody.content['application/json'].schema).toBeDefined();
    expect(authorize.responses['402'].content['application/json'].schema.$ref).toBe('#/components/schemas/Error');
    expect(doc.components.securitySchemes.apiKey.scheme).toBe('bearer');
    const docs = await fetch(`${h.baseUrl}/docs`);
    expect(await docs.text()).toContain('/openapi.json');
    expect((await fetch(`${h.baseUrl}/docs/assets/swagger-ui-bundle.js`)).status).toBe(200);
  });

  it('serves the same procedures over tRPC with the same error codes', async () => {
    const card = await issueCard(h, 900);
    const ok = await fetch(`${h.baseUrl}/trpc/pos.lookupCard`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${h.terminalA.apiKey}` },
      body: JSON.stringify({ code: card.code }),
    });
    expect(((await ok.json()) as any).result.data.card.available).toBe(900);
    const denied = await fetch(`${h.baseUrl}/trpc/pos.lookupCard`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: card.code }),
    });
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as any).error.data.appCode).toBe('unauthenticated');
  });
});

/** Sends bytes as they are (what fetch refuses to send) and reads the answer until the server closes. */
function rawRequest(h: Harness, bytes: string): Promise<{ status: number; headers: Record<string, string>; body: any }> {
  const { hostname, port } = new URL(h.baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...lines] = head!.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const bodyText = rest.join('\r\n\r\n');
      let body: unknown = bodyText;
      try { body = JSON.parse(bodyText); } catch { /* asserted by the caller */ }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body });
    });
  });
}

/** The error shape with the same request id in the body and the Request-Id header. */
function expectRefusal(res: { status: number; body: any; headers: Headers | Record<string, string> }, status: number, code: string) {
  const requestId = res.headers instanceof Headers ? res.headers.get('request-id') : res.headers['request-id'];
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String), request_id: expect.stringMatching(/^req_/) }) });
  expect(requestId).toBe(res.body.error.request_id);
}

describe("the HTTP layer's own refusals", () => {
  it('answers a body over 64 KiB with 413 payload_too_large', async () => {
    expectRefusal(await call(h, 'POST', '/v1/cards/lookup', { rawBody: JSON.stringify({ code: 'x'.repeat(70_000) }) }), 413, 'payload_too_large');
    expectRefusal(await call(h, 'POST', '/trpc/pos.lookupCard', { rawBody: JSON.stringify({ code: 'x'.repeat(70_000) }) }), 413, 'payload_too_large');
  });

  it('answers an overlong URL or path segment with 414 uri_too_long', async () => {
    expectRefusal(await call(h, 'GET', `/v1/redemptions/${randomUUID()}?pad=${'x'.repeat(9_000)}`), 414, 'uri_too_long');
    expectRefusal(await call(h, 'GET', `/trpc/transactions.list?input=${encodeURIComponent(JSON.stringify({ cursor: 'x'.repeat(9_000) }))}`), 414, 'uri_too_long');
    expectRefusal(await call(h, 'POST', `/v1/redemptions/${'x'.repeat(150)}/void`), 414, 'uri_too_long');
  });

  it('answers a body that is not JSON with 415 unsupported_media_type', async () => {
    expectRefusal(await call(h, 'POST', '/v1/cards/lookup', { rawBody: 'code=ABCD', contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    expectRefusal(await call(h, 'POST', '/v1/cards', { rawBody: '{"amount":1}', contentType: 'text/plain', idempotencyKey: randomUUID() }), 415, 'unsupported_media_type');
    // Refused before tRPC sees it: the HTTP layer's shape on /trpc too.
    expectRefusal(await call(h, 'POST', '/trpc/pos.lookupCard', { rawBody: 'code=ABCD', contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
  });

  it('answers headers over 16 KiB with 431 headers_too_large, written by the HTTP server itself', async () => {
    const res = await rawRequest(h, `GET /v1/shop/config HTTP/1.1\r\nHost: x\r\nX-Padding: ${'x'.repeat(20_000)}\r\n\r\n`);
    expectRefusal(res, 431, 'headers_too_large');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const viaFetch = await fetch(`${h.baseUrl}/v1/shop/config`, { headers: { 'x-padding': 'x'.repeat(20_000) } });
    expectRefusal({ status: viaFetch.status, body: await viaFetch.json(), headers: viaFetch.headers }, 431, 'headers_too_large');
  });

  it('answers bytes that are not HTTP with 400 and the error shape', async () => {
    expectRefusal(await rawRequest(h, 'HELLO\r\n\r\n'), 400, 'validation_error');
    expectRefusal(await rawRequest(h, 'GET /v1/shop/config HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcde'), 400, 'validation_error');
  });

  it('answers malformed JSON and malformed percent-encoding with 400 validation_error', async () => {
    expectRefusal(await call(h, 'POST', '/v1/redemptions', { rawBody: '{"code": "AB' }), 400, 'validation_error');
    const trpcBody = await call(h, 'POST', '/trpc/pos.lookupCard', { rawBody: '{"code": "AB' });
    expect(trpcBody.status).toBe(400);
    expect(trpcBody.body.error.data).toMatchObject({ appCode: 'validation_error', requestId: trpcBody.headers.get('request-id') });
    expectRefusal(await call(h, 'GET', '/v1/redemptions/%E0%A4%A'), 400, 'validation_error');
    expectRefusal(await call(h, 'GET', '/v1/orders/%ED%A0%80/voucher.pdf'), 400, 'validation_error');
    const trpcQuery = await fetch(`${h.baseUrl}/trpc/shop.config?input=%7B%22a`);
    expect(trpcQuery.status).toBe(400);
    expect(((await trpcQuery.json()) as any).error.data).toMatchObject({ appCode: 'validation_error', requestId: trpcQuery.headers.get('request-id') });
  });

  it('answers a query sent to a mutation over tRPC with 405 method_not_allowed, not internal_error', async () => {
    const res = await fetch(`${h.baseUrl}/trpc/pos.authorize`);
    expect(res.status).toBe(405);
    // Refused before tRPC makes a context: the request id still comes with it.
    expect(((await res.json()) as any).error.data).toMatchObject({ appCode: 'method_not_allowed', requestId: res.headers.get('request-id') });
  });
});

describe('the OpenAPI document', () => {
  it('lists for every operation each status it can answer with, the error shape and the Request-Id header', async () => {
    const doc = await (await fetch(`${h.baseUrl}/openapi.json`)).json() as any;
    expect(doc.components.headers.RequestId.schema.type).toBe('string');
    let operations = 0;
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        operations++;
        const label = `${method.toUpperCase()} ${path}`;
        const statuses = Object.keys(op.responses);
        const protectedOp = (op.security ?? []).some((s: object) => Object.keys(s).length > 0);
        const expected = ['200', '400', '414', '431', '500', '503',
          ...(method === 'post' ? ['413', '415'] : []), ...(protectedOp ? ['401'] : []), ...(path.startsWith('/v1/redemptions') || path.startsWith('/v1/cards') ? ['404'] : [])];
        expect(statuses, label).toEqual(expect.arrayContaining(expected));
        for (const [status, response] of Object.entries<any>(op.responses)) {
          expect(response.headers?.['Request-Id']?.$ref, `${label} ${status}`).toBe('#/components/headers/RequestId');
          if (Number(status) >= 400) expect(response.content['application/json'].schema.$ref, `${label} ${status}`).toBe('#/components/schemas/Error');
          if (status === '429') expect(response.headers['Retry-After'], `${label} 429`).toBeDefined();
        }
      }
    }
    expect(operations).toBeGreaterThanOrEqual(19);
    // Back-office operations may refuse a key of another role; the shop needs no key at all.
    expect(Object.keys(doc.paths['/v1/clearing/periods/{period}/approve'].post.responses)).toEqual(expect.arrayContaining(['401', '403', '409', '422']));
    expect(doc.paths['/v1/orders'].post.security).toBeUndefined();
    expect(Object.keys(doc.paths['/v1/orders'].post.responses)).toEqual(expect.arrayContaining(['422', '429']));
  });

  it('answers every documented error status in the error shape: each one a test above provokes', async () => {
    // The statuses the HTTP layer adds are the ones provoked in "the HTTP layer's own refusals".
    const doc = await (await fetch(`${h.baseUrl}/openapi.json`)).json() as any;
    const documented = new Set(Object.values<any>(doc.paths).flatMap((item) => Object.values<any>(item).flatMap((op) => Object.keys(op.responses))));
    for (const status of ['413', '414', '415', '431']) expect(documented.has(status), status).toBe(true);
  });
});
