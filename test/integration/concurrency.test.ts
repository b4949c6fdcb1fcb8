// Double spending is impossible by construction: many tills authorizing against one card at
// once can never take more than it holds.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, issueCard, posRef, startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('concurrent authorizations against one card', () => {
  it('approve exactly the affordable ones (64 at once over REST)', async () => {
    const card = await issueCard(h, 10_000);
    const terminals = [h.terminalA, h.terminalA2, h.terminalB];
    const results = await Promise.all(Array.from({ length: 64 }, (_, i) =>
      call(h, 'POST', '/v1/redemptions', {
        key: terminals[i % terminals.length]!.apiKey,
        body: { code: card.code, amount: 300, currency: 'EUR', posReference: posRef() },
      })));
    const approved = results.filter((r) => r.status === 200);
    const declined = results.filter((r) => r.status !== 200);
    expect(approved).toHaveLength(Math.floor(10_000 / 300));
    expect(declined.every((r) => r.status === 402 && r.body.error.code === 'insufficient_funds')).toBe(true);
    for (const r of approved) expect(r.body.card.available).toBeGreaterThanOrEqual(0);

    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } });
    expect(lookup.body.card).toMatchObject({ available: 10_000 - 33 * 300, held: 33 * 300 });
    expect(await h.deps.ledger.violations()).toEqual([]);
  });

  it('never overspend with mixed amounts, partial approvals and captures racing', async () => {
    const card = await issueCard(h, 20_000);
    const amounts = Array.from({ length: 64 }, (_, i) => 100 + ((i * 7919) % 1_900));
    const results = await Promise.all(amounts.map((amount, i) =>
      call(h, 'POST', '/v1/redemptions', {
        key: i % 2 ? h.terminalA.apiKey : h.terminalA2.apiKey,
        body: { code: card.code, amount, currency: 'EUR', posReference: posRef(), allowPartial: i % 4 === 0 },
      }).then(async (auth) => {
        if (auth.status === 200 && i % 3 === 0) {
          await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: {} });
        }
        return { amount, auth };
      })));
    const approvedTotal = results.reduce((sum, r) => sum + (r.auth.status === 200 ? r.auth.body.approvedAmount : 0), 0);
    expect(approvedTotal).toBeLessThanOrEqual(20_000);
    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code: card.code } });
    const { available, held } = lookup.body.card;
    expect(available).toBeGreaterThanOrEqual(0);
    expect(available + held + results.reduce((s, r) =>
      s + (r.auth.status === 200 && results.indexOf(r) % 3 === 0 ? r.auth.body.approvedAmount : 0), 0)).toBe(20_000);
    // Available only shrank during the race, so anything declined did not fit then and does not fit now.
    for (const r of results) if (r.auth.status === 402) expect(r.amount).toBeGreaterThan(available);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });
});
