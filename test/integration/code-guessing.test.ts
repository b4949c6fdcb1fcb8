// Code guessing at the till: a terminal or a client address that sends unknown or invalid codes is
// slowed, then locked (429 too_many_attempts with Retry-After), audited and counted; an admin lifts
// the lock. With Redis down the limit holds through PostgreSQL.

import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCardCode, generateCardCode } from '../../domain/card-code.ts';
import { createApiClient } from '../../services/directory.ts';
import { fraudMetrics, VELOCITY_LIMITS, type VelocityLimitName } from '../../services/fraud-limits.ts';
import { issueCard, startHarness, type Harness } from '../helpers/harness.ts';
import { unusedPort } from '../helpers/net.ts';

const guessing = { windowSeconds: 120, slowAfter: 3, slowStepMs: 300, lockAfter: 5, lockSeconds: 60 };
// The harness turns the limits off for other tests; these set their own (and no velocity limits).
const fraud = { codeGuessing: guessing, velocity: Object.fromEntries(VELOCITY_LIMITS.map((k) => [k, null])) as Record<VelocityLimitName, null> };

/** A POST from a loopback address of our choosing (127.0.0.x), so tests can be different clients. */
function post(h: Harness, path: string, body: unknown, opts: { key: string; from: string; idempotencyKey?: string }) {
  const url = new URL(h.baseUrl + path);
  const payload = JSON.stringify(body);
  return new Promise<{ status: number; body: any; retryAfter: string | undefined; ms: number }>((resolve, reject) => {
    const started = Date.now();
    const req = request({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress: opts.from,
      headers: {
        authorization: `Bearer ${opts.key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload),
        ...(opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {}),
      },
    }, (res) => {
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({
        status: res.statusCode!, body: text ? JSON.parse(text) : undefined,
        retryAfter: res.headers['retry-after'] as string | undefined, ms: Date.now() - started,
      }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const unknownCode = () => formatCardCode(generateCardCode());

async function auditOf(action: string, subject: string): Promise<number> {
  const { rows } = await (h as Harness).deps.db.pool.query(
    'SELECT count(*)::int AS n FROM audit_entries WHERE action = $1 AND subject = $2', [action, subject]);
  return rows[0].n;
}

let h: Harness;
let adminKey: string;

describe('code guessing (Redis up)', () => {
  beforeAll(async () => {
    h = await startHarness({ worker: false, config: { fraud } });
    adminKey = (await createApiClient(h.deps.db.prisma, { name: 'guess admin', role: 'admin' })).apiKey;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('slows a terminal that guesses, then locks it; an admin lifts the lock', async () => {
    const from = '127.0.0.21';
    const subject = `terminal:${h.terminalB.id}`;
    const card = await issueCard(h, 500);
    const locksBefore = (await fraudMetrics.codeLocks.get()).values.find((v) => v.labels.kind === 'terminal')?.value ?? 0;

    const answers = [];
    for (let i = 0; i < 5; i++) {
      // Unknown codes and mistyped ones (failing the check character) count alike.
      const code = i % 2 ? unknownCode() : unknownCode().replace(/.$/, (c) => (c === '0' ? '1' : '0'));
      answers.push(await post(h, '/v1/cards/lookup', { code }, { key: h.terminalB.apiKey, from }));
    }
    expect(answers.map((a) => a.body.error.code)).toEqual(
      ['invalid_card_code', 'card_not_found', 'invalid_card_code', 'card_not_found', 'invalid_card_code']);
    // From the third failure on, each answer waits a step longer.
    expect(answers[3]!.ms).toBeGreaterThanOrEqual(300);
    expect(answers[4]!.ms).toBeGreaterThanOrEqual(600);

    const sixth = await post(h, '/v1/redemptions', { code: unknownCode(), amount: 100, currency: 'EUR', posReference: `g-${randomUUID()}` }, { key: h.terminalB.apiKey, from });
    expect([sixth.status, sixth.body.error.code]).toEqual([429, 'too_many_attempts']);
    expect(Number(sixth.retryAfter)).toBeGreaterThan(0);
    expect(Number(sixth.retryAfter)).toBeLessThanOrEqual(60);
    // Locked: even the right code is refused now, without a lookup, and so is a load.
    const right = await post(h, '/v1/cards/lookup', { code: card.code }, { key: h.terminalB.apiKey, from });
    expect([right.status, right.body.error.code]).toEqual([429, 'too_many_attempts']);
    const load = await post(h, '/v1/cards/load', { code: card.code, amount: 100, currency: 'EUR' }, { key: h.terminalB.apiKey, from, idempotencyKey: randomUUID() });
    expect(load.status).toBe(429);
    expect(await auditOf('code_guessing_locked', subject)).toBe(1);
    const locksAfter = (await fraudMetrics.codeLocks.get()).values.find((v) => v.labels.kind === 'terminal')!.value;
    expect(locksAfter - locksBefore).toBeGreaterThanOrEqual(1);

    // Another terminal from another address is not affected.
    expect((await post(h, '/v1/cards/lookup', { code: card.code }, { key: h.terminalA.apiKey, from: '127.0.0.22' })).status).toBe(200);

    // The admin sees the lock and lifts it.
    const locks = await fetch(`${h.baseUrl}/v1/admin/code-guessing/locks`, { headers: { authorization: `Bearer ${adminKey}` } }).then((r) => r.json()) as any;
    expect(locks.locks.map((l: any) => l.subject)).toContain(subject);
    const lift = await fetch(`${h.baseUrl}/v1/admin/code-guessing/locks/lift`, {
      method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ subject }),
    }).then(async (r) => ({ status: r.status, body: await r.json() as any }));
    expect(lift).toEqual({ status: 200, body: { subject, lifted: true } });
    expect(await auditOf('code_guessing_lock_lifted', subject)).toBe(1);
    const bad = await fetch(`${h.baseUrl}/v1/admin/code-guessing/locks/lift`, {
      method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ subject: 'terminal:everything' }),
    });
    expect(bad.status).toBe(400);
    // The address was locked alongside (same failures); lift it too, then the till works again.
    await h.deps.codeGuard.lift(`address:${from}`, 'test', null);
    const again = await post(h, '/v1/cards/lookup', { code: card.code }, { key: h.terminalB.apiKey, from });
    expect(again.status).toBe(200);
    expect(again.ms).toBeLessThan(300);
  });

  it('locks a client address that guesses through several terminals', async () => {
    const from = '127.0.0.31';
    const terminals = [h.terminalA, h.terminalA2, h.terminalB];
    const answers = [];
    for (let i = 0; i < 6; i++) {
      answers.push(await post(h, '/v1/cards/lookup', { code: unknownCode() }, { key: terminals[i % 3]!.apiKey, from }));
    }
    // No terminal failed more than twice, but the address did six times.
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([404, 404, 404, 404, 404]);
    expect([answers[5]!.status, answers[5]!.body.error.code]).toEqual([429, 'too_many_attempts']);
    expect(await auditOf('code_guessing_locked', `address:${from}`)).toBe(1);
    // Counted in Redis while it is up.
    const redis = new Redis(h.config.redisUrl!);
    try {
      expect(Number(await redis.get(`vc:cg:address:${from}`))).toBeGreaterThan(guessing.lockAfter);
    } finally {
      redis.disconnect();
    }
    for (const t of terminals) await h.deps.codeGuard.lift(`terminal:${t.id}`, 'test', null);
    await h.deps.codeGuard.lift(`address:${from}`, 'test', null);
  });
});

describe('code guessing (Redis down)', () => {
  let down: Harness;
  beforeAll(async () => {
    down = await startHarness({ worker: false, redisUrl: `redis://127.0.0.1:${await unusedPort()}/0`, config: { fraud } });
  });
  afterAll(async () => {
    await down?.close();
  });

  it('still locks, counting in PostgreSQL', async () => {
    const from = '127.0.0.41';
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await post(down, '/v1/cards/lookup', { code: unknownCode() }, { key: down.terminalB.apiKey, from })).status);
    }
    expect(statuses).toEqual([404, 404, 404, 404, 404, 429]);
    const { rows } = await down.deps.db.pool.query(`SELECT points FROM code_guess_attempts WHERE key = $1`, [`cg:terminal:${down.terminalB.id}`]);
    expect(rows[0].points).toBeGreaterThan(guessing.lockAfter);
    await down.deps.codeGuard.lift(`terminal:${down.terminalB.id}`, 'test', null);
    await down.deps.codeGuard.lift(`address:${from}`, 'test', null);
  });
});
