// Card expiry: the daily schedule books what expired cards still hold as breakage.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CARD_EXPIRY_SCHEDULE_ID, engineSchedules, ensureSchedules } from '../../infra/schedules.ts';
import { cardExpiryWorkflow } from '../../workflows/card-expiry.ts';
import { call, issueCard, posRef, startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.client.schedule.getHandle(CARD_EXPIRY_SCHEDULE_ID).delete().catch(() => {});
  await h?.close();
});

const runExpiry = () => h.client.workflow.execute(cardExpiryWorkflow, {
  workflowId: `card-expiry-test-${randomUUID()}`, taskQueue: h.config.taskQueue,
});

async function backdate(cardId: string) {
  await h.deps.db.pool.query(`UPDATE cards SET expires_at = now() - interval '1 minute' WHERE id = $1`, [cardId]);
}

async function breakageOf(cardId: string): Promise<number> {
  const { rows } = await h.deps.db.pool.query(
    `SELECT coalesce(sum(p.amount), 0)::int AS n FROM postings p JOIN journal_entries e ON e.id = p.entry_id
      WHERE e.card_id = $1 AND p.account_kind = 'breakage'`, [cardId]);
  return rows[0].n;
}

describe('card expiry', () => {
  it('is scheduled daily after midnight, Berlin time', async () => {
    await ensureSchedules(h.client, engineSchedules(h.config.taskQueue, 72));
    const schedule = await h.client.schedule.getHandle(CARD_EXPIRY_SCHEDULE_ID).describe();
    expect(schedule.spec.timezone).toBe('Europe/Berlin');
    expect(schedule.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 0, end: 0, step: 1 }], minute: [{ start: 15, end: 15, step: 1 }] });
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'cardExpiryWorkflow' });
  });

  it('books an expired card\'s balance as breakage once, and waits for open holds', async () => {
    const idle = await issueCard(h, 1_234);
    const busy = await issueCard(h, 900);
    const hold = await call(h, 'POST', '/v1/redemptions', { body: { code: busy.code, amount: 400, currency: 'EUR', posReference: posRef() } });
    await backdate(idle.id);
    await backdate(busy.id);

    // Unusable from the expiry instant, before any run.
    const late = await call(h, 'POST', '/v1/redemptions', { body: { code: idle.code, amount: 100, currency: 'EUR', posReference: posRef() } });
    expect(late.body.error.code).toBe('card_expired');

    const first = await runExpiry();
    expect(first.expired).toBeGreaterThanOrEqual(1);
    expect(first.breakage).toBeGreaterThanOrEqual(1_234);
    expect(await breakageOf(idle.id)).toBe(1_234);
    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code: idle.code } });
    expect(lookup.body.card).toMatchObject({ status: 'expired', available: 0, held: 0 });
    // The card with an open hold waits for it.
    expect(await breakageOf(busy.id)).toBe(0);

    await call(h, 'POST', `/v1/redemptions/${hold.body.id}/void`);
    await runExpiry();
    expect(await breakageOf(busy.id)).toBe(900);
    expect(await breakageOf(idle.id)).toBe(1_234);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });

  it('refuses to expire a card early', async () => {
    const card = await issueCard(h, 100);
    await expect(h.deps.ledger.expireCard(card.id)).rejects.toMatchObject({ code: 'card_not_expired' });
  });
});
