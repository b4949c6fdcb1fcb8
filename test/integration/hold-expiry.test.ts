// Hold expiry that never waits for a workflow: with no worker at all, a hold stops counting against
// its card at its expiry instant (lookups, the balance cache, a new authorization), a capture is
// refused, a void confirms the release; the ledger books the release once, effective at the expiry.
// When a worker comes, the redemption workflow finds the expiry booked and completes. The
// hold-expiry sweep books the release of cards nobody touches.

import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import client from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashCardCode, normalizeCardCode } from '../../domain/card-code.ts';
import { registerBacklogGauges } from '../../infra/metrics.ts';
import { engineSchedules, ensureSchedules, HOLD_EXPIRY_SWEEP_SCHEDULE_ID } from '../../infra/schedules.ts';
import { holdExpirySweepWorkflow } from '../../workflows/hold-expiry-sweep.ts';
import { call, issueCard, posRef, startHarness, startWorker, waitFor, type Harness } from '../helpers/harness.ts';

const TTL_SECONDS = 2;

let h: Harness;
beforeAll(async () => {
  // No worker: no outbox relay, no workflow, no sweep. Only the ledger can release a hold here.
  h = await startHarness({ worker: false, holdTtlSeconds: TTL_SECONDS });
});
afterAll(async () => {
  await h?.client.schedule.getHandle(HOLD_EXPIRY_SWEEP_SCHEDULE_ID).delete().catch(() => {});
  await h?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function authorize(code: string, amount: number, ref = posRef()) {
  const res = await call(h, 'POST', '/v1/redemptions', { body: { code, amount, currency: 'EUR', posReference: ref } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { ...res.body, posReference: ref } as { id: string; expiresAt: string; posReference: string; card: { available: number; held: number } };
}

async function lookup(code: string): Promise<{ available: number; held: number }> {
  const res = await call(h, 'POST', '/v1/cards/lookup', { body: { code } });
  expect(res.status).toBe(200);
  return res.body.card;
}

/** Waits until the database's clock, which decides expiry, is past `expiresAt`. */
async function pastExpiry(expiresAt: string): Promise<void> {
  await sleep(Math.max(0, Date.parse(expiresAt) - Date.now()) + 50);
  await waitFor(async () => (await h.deps.db.pool.query('SELECT now() > $1::timestamptz AS past', [expiresAt])).rows[0].past, 5_000, 20);
}

async function holdRow(holdId: string) {
  const { rows } = await h.deps.db.pool.query<{ status: string; expires_at: Date; settled_at: Date | null }>(
    'SELECT status, expires_at, settled_at FROM holds WHERE id = $1', [holdId]);
  return rows[0]!;
}

/** The entries booked for a hold, oldest first, with their postings. */
async function entriesOf(holdId: string) {
  const { rows } = await h.deps.db.pool.query<{ kind: string; effective_at: Date | null; postings: { account_kind: string; amount: string }[] }>(
    `SELECT e.kind, e.effective_at,
            (SELECT jsonb_agg(jsonb_build_object('account_kind', p.account_kind, 'amount', p.amount) ORDER BY p.id)
               FROM postings p WHERE p.entry_id = e.id) AS postings
       FROM journal_entries e WHERE e.hold_id = $1 ORDER BY e.id`, [holdId]);
  return rows;
}

async function ledgerCounts(): Promise<unknown> {
  const { rows } = await h.deps.db.pool.query(`
    SELECT (SELECT count(*) FROM journal_entries) AS entries, (SELECT count(*) FROM postings) AS postings,
           (SELECT coalesce(sum(available), 0) FROM cards) AS available, (SELECT coalesce(sum(held), 0) FROM cards) AS held,
           (SELECT string_agg(status::text, ',' ORDER BY id) FROM holds) AS holds`);
  return rows[0];
}

function workflowId(ref: string): string {
  return `redemption-${h.terminalA.id}-${ref}`;
}

async function workflowResult(ref: string): Promise<{ status: string; capturedAmount: number }> {
  const handle = h.client.workflow.getHandle(workflowId(ref));
  await waitFor(async () => {
    try {
      await handle.describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }, 90_000);
  return handle.result();
}

describe('hold expiry with no worker running', () => {
  const first = { code: '', cardId: '', holdId: '', ref: '', expiresAt: '' };
  const second = { holdId: '', ref: '' };

  it('stops counting a hold at its expiry: lookups, the balance cache and a new authorization see the value again', async () => {
    const card = await issueCard(h, 5_000);
    first.code = card.code;
    first.cardId = card.id;
    const auth = await authorize(card.code, 3_000);
    Object.assign(first, { holdId: auth.id, ref: auth.posReference, expiresAt: auth.expiresAt });
    expect(auth.card).toMatchObject({ available: 2_000, held: 3_000 });
    expect(await lookup(card.code)).toMatchObject({ available: 2_000, held: 3_000 });
    const codeHash = hashCardCode(normalizeCardCode(card.code)!, h.deps.secrets.hashKey);
    // The till's lookup is cached, and only until the hold's expiry.
    const cached = await h.deps.cache.get(codeHash);
    expect(cached).toMatchObject({ held: '3000', validUntil: new Date(auth.expiresAt).toISOString() });

    await pastExpiry(auth.expiresAt);
    expect(await h.deps.cache.get(codeHash), 'the cache no longer serves the held value').toBeNull();
    expect(await lookup(card.code)).toMatchObject({ available: 5_000, held: 0 });
    // A read books nothing: the hold is still 'authorized' in the table, yet reads as expired.
    expect((await holdRow(auth.id)).status).toBe('authorized');
    const fetched = await call(h, 'GET', `/v1/redemptions/${auth.id}`);
    expect(fetched.body).toMatchObject({ status: 'expired', capturedAmount: 0 });
    expect(await h.deps.ledger.violations()).toEqual([]);

    // The whole balance can be authorized: the ledger books the release first, in the same call.
    const full = await authorize(card.code, 5_000);
    second.holdId = full.id;
    second.ref = full.posReference;
    expect(full.card).toMatchObject({ available: 0, held: 5_000 });
    const released = await holdRow(auth.id);
    expect(released.status).toBe('expired');
    expect(released.settled_at?.toISOString()).toBe(new Date(auth.expiresAt).toISOString());
    const entries = await entriesOf(auth.id);
    expect(entries.map((e) => e.kind)).toEqual(['authorize', 'expire_hold']);
    expect(entries[1]!.effective_at?.toISOString(), 'stamped with the expiry instant').toBe(new Date(auth.expiresAt).toISOString());
    expect(entries[1]!.postings).toEqual([
      { account_kind: 'card_held', amount: -3_000 }, { account_kind: 'card_available', amount: 3_000 }]);
    const { rows: audit } = await h.deps.db.pool.query(
      `SELECT actor, details FROM audit_entries WHERE subject = $1 AND action = 'hold_expired'`, [`hold:${auth.id}`]);
    expect(audit).toEqual([{ actor: 'system', details: expect.objectContaining({ releasedAmount: 3_000, status: 'expired' }) }]);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });

  it('refuses to capture the expired hold (hold_expired), and answers a void with the hold released, every time', async () => {
    const before = await ledgerCounts();
    const capture = await call(h, 'POST', `/v1/redemptions/${first.holdId}/capture`, { body: {} });
    expect(capture.status).toBe(409);
    expect(capture.body.error.code).toBe('hold_expired');
    const key = randomUUID();
    const voids = [
      await call(h, 'POST', `/v1/redemptions/${first.holdId}/void`),
      await call(h, 'POST', `/v1/redemptions/${first.holdId}/void`),
      await call(h, 'POST', `/v1/redemptions/${first.holdId}/void`, { idempotencyKey: key }),
      await call(h, 'POST', `/v1/redemptions/${first.holdId}/void`, { idempotencyKey: key }),
    ];
    for (const v of voids) {
      expect(v.status).toBe(200);
      expect(v.body).toMatchObject({ id: first.holdId, status: 'expired', approvedAmount: 3_000, capturedAmount: 0, card: { available: 0, held: 5_000 } });
    }
    expect(voids.map((v) => v.body.replayed)).toEqual([false, false, false, true]);
    expect(await ledgerCounts(), 'neither the refusal nor the voids moved anything').toEqual(before);
    expect((await entriesOf(first.holdId)).map((e) => e.kind)).toEqual(['authorize', 'expire_hold']);
  });

  it('books the release in the void itself when nothing touched the card since the expiry', async () => {
    const card = await issueCard(h, 1_000);
    const auth = await authorize(card.code, 700);
    await pastExpiry(auth.expiresAt);
    const capture = await call(h, 'POST', `/v1/redemptions/${auth.id}/capture`, { body: { amount: 100 } });
    expect(capture.status).toBe(409);
    expect(capture.body.error.code).toBe('hold_expired');
    expect((await holdRow(auth.id)).status, 'a refused call changes nothing').toBe('authorized');
    const voided = await call(h, 'POST', `/v1/redemptions/${auth.id}/void`);
    expect(voided.body).toMatchObject({ status: 'expired', card: { available: 1_000, held: 0 } });
    const entries = await entriesOf(auth.id);
    expect(entries.map((e) => e.kind)).toEqual(['authorize', 'expire_hold']);
    expect(entries[1]!.effective_at?.toISOString()).toBe(new Date(auth.expiresAt).toISOString());
    expect(await h.deps.ledger.violations()).toEqual([]);
  });

  it('lets a late worker complete the redemption workflow on what the ledger booked: one release, no error', async () => {
    const { rows: [outbox] } = await h.deps.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM workflow_outbox WHERE workflow_id = $1`, [workflowId(first.ref)]);
    expect(outbox!.n, 'the workflow start waited in the outbox').toBe(1);
    expect((await holdRow(second.holdId)).status, 'past its expiry, not booked yet').toBe('authorized');

    h.worker = await startWorker(h.deps, h.client);
    expect(await workflowResult(first.ref)).toMatchObject({ status: 'expired', capturedAmount: 0 });
    // The second hold expired meanwhile, unbooked: its workflow books that release itself.
    expect(await workflowResult(second.ref)).toMatchObject({ status: 'expired', capturedAmount: 0 });

    for (const holdId of [first.holdId, second.holdId]) {
      const entries = await entriesOf(holdId);
      expect(entries.map((e) => e.kind), 'exactly one release').toEqual(['authorize', 'expire_hold']);
      const { rows: [audit] } = await h.deps.db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_entries WHERE subject = $1 AND action = 'hold_expired'`, [`hold:${holdId}`]);
      expect(audit!.n).toBe(1);
    }
    expect(await lookup(first.code)).toMatchObject({ available: 5_000, held: 0 });
    const { rows: [card] } = await h.deps.db.pool.query('SELECT available, held FROM cards WHERE id = $1', [first.cardId]);
    expect(card).toEqual({ available: '5000', held: '0' });
    expect(await h.deps.ledger.violations()).toEqual([]);
  }, 180_000);
});

describe('the hold-expiry sweep', () => {
  it('is scheduled every minute', async () => {
    await ensureSchedules(h.client, engineSchedules(h.config.taskQueue, 72));
    const schedule = await h.client.schedule.getHandle(HOLD_EXPIRY_SWEEP_SCHEDULE_ID).describe();
    expect(schedule.spec.intervals?.[0]).toMatchObject({ every: 60_000 });
    expect(schedule.policies.overlap).toBe('SKIP');
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'holdExpirySweepWorkflow', taskQueue: h.config.taskQueue });
    // The schedule's own runs would race the run below; this test drives the sweep itself.
    await h.client.schedule.getHandle(HOLD_EXPIRY_SWEEP_SCHEDULE_ID).delete();
  }, 120_000);

  it('books the release of holds on cards nobody touches, so the gauge of holds past expiry reads 0', async () => {
    const registry = new client.Registry();
    registerBacklogGauges(h.deps.db.pool, registry);
    const gauge = async (name: string) => {
      await sleep(1_100); // the gauges share one read per second
      const metric = await registry.getSingleMetric(name)!.get();
      return metric.values[0]!.value;
    };

    // The redemption workflows would book these expiries at their timers: hold their starts back
    // in the outbox, so only the sweep can.
    await h.worker!.relay!.stop();
    const holds = [];
    for (let i = 0; i < 3; i++) {
      const card = await issueCard(h, 1_000);
      holds.push({ card, auth: await authorize(card.code, 400 + i) });
    }
    await pastExpiry(holds[2]!.auth.expiresAt);
    expect(await gauge('voucher_holds_past_expiry')).toBeGreaterThanOrEqual(3);

    const result = await h.client.workflow.execute(holdExpirySweepWorkflow, {
      workflowId: `hold-expiry-sweep-test-${randomUUID()}`, taskQueue: h.config.taskQueue, args: [] });
    expect(result.holds).toBeGreaterThanOrEqual(3);
    for (const { auth } of holds) {
      expect((await holdRow(auth.id)).status).toBe('expired');
      const entries = await entriesOf(auth.id);
      expect(entries.map((e) => e.kind)).toEqual(['authorize', 'expire_hold']);
      expect(entries[1]!.effective_at?.toISOString()).toBe(new Date(auth.expiresAt).toISOString());
    }
    const { rows: cards } = await h.deps.db.pool.query('SELECT available, held FROM cards WHERE id = ANY($1::uuid[])', [holds.map((x) => x.card.id)]);
    expect(cards).toEqual(holds.map(() => ({ available: '1000', held: '0' })));
    expect(await gauge('voucher_holds_past_expiry')).toBe(0);
    expect(await gauge('voucher_holds_overdue_seconds')).toBe(0);

    // Their workflows find the expiry booked and complete.
    h.worker!.relay!.start();
    for (const { auth } of holds) expect(await workflowResult(auth.posReference)).toMatchObject({ status: 'expired' });
    expect(await h.deps.ledger.violations()).toEqual([]);
  }, 180_000);
});
