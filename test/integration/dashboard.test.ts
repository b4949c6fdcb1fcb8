// Dashboard and counter figures: a month of days adds up to the month's report, and the liability
// at the last day's end is the report's.

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createApiClient } from '../../services/directory.ts';
import { buildDataset, moveIntoPeriod, type Dataset } from '../helpers/clearing-dataset.ts';
import { call, issueCard, posRef, startHarness, type Harness } from '../helpers/harness.ts';
import { signIn, trpc, type PortalAuth } from '../helpers/portal.ts';

let h: Harness;
let finance: PortalAuth;
let staff: PortalAuth;
let d: Dataset;
let financeKey: string;
const period = '2025-08';

beforeAll(async () => {
  h = await startHarness({ worker: false });
  d = await buildDataset(h, 'aug');
  await moveIntoPeriod(inject('databaseUrl'), d.cardIds, period);
  const password = 'dashboard test password';
  const fin = await h.deps.users.create({ email: `fin-${randomUUID().slice(0, 6)}@centre.test`, displayName: 'F', role: 'finance', password });
  finance = await signIn(h, fin.email, password);
  const st = await h.deps.users.create({ email: `st-${randomUUID().slice(0, 6)}@centre.test`, displayName: 'S', role: 'store_staff', storeId: d.stores[4]!.id, password });
  staff = await signIn(h, st.email, password);
  financeKey = (await createApiClient(h.deps.db.prisma, { name: 'dash', role: 'finance' })).apiKey;
});
afterAll(async () => {
  await h?.close();
});

describe('dashboard', () => {
  it('adds a month of days up to the month\'s report', async () => {
    const days = await trpc(h, 'query', 'dashboard.daily', { from: '2025-08-01', to: '2025-08-31' }, finance);
    expect(days.status).toBe(200);
    // The dataset is in euros (other tests' cards may add lines in other currencies).
    days.data.days = days.data.days.filter((x: any) => x.currency === 'EUR');
    expect(days.data.days).toHaveLength(31);
    const sum = (k: string) => days.data.days.reduce((n: number, x: any) => n + x[k], 0);
    const report = await call(h, 'GET', `/v1/reports/periods/${period}`, { key: financeKey });
    const totals = report.body.totals[0];
    expect({ sales: sum('sales'), redemptions: sum('redemptions'), refunds: sum('refunds') })
      .toEqual({ sales: totals.sales, redemptions: totals.redemptions, refunds: totals.refunds });
    expect(sum('salesCount')).toBe(6); // four sales, one load, one online sale
    expect(days.data.days[30].outstandingAtEnd).toBe(totals.outstandingAtEnd);
    expect(days.data.days[0].outstandingAtEnd - 0).toBeGreaterThanOrEqual(0);

    // By party: party 3 sold 30.00 and accepted 80.00, refunded 20.00.
    const p3 = await trpc(h, 'query', 'dashboard.daily', { from: '2025-08-01', to: '2025-08-31', billingPartyId: d.parties[2]!.id }, finance);
    expect([p3.data.days.reduce((n: number, x: any) => n + x.sales, 0), p3.data.days.reduce((n: number, x: any) => n + x.redemptions, 0)])
      .toEqual([3_000, 8_000]);
    // Store staff get their store whatever they ask.
    const mine = await trpc(h, 'query', 'dashboard.daily', { from: '2025-08-01', to: '2025-08-31' }, staff);
    expect(mine.data.days.reduce((n: number, x: any) => n + x.redemptions, 0)).toBe(8_000);
    expect((await trpc(h, 'query', 'dashboard.daily', { from: '2025-08-01', to: '2025-08-31', storeId: d.stores[0]!.id }, staff)).code).toBe('forbidden');
  });

  it('counts payments by channel and hour, and refuses bad ranges', async () => {
    const counter = await trpc(h, 'query', 'dashboard.counter', { from: '2025-08-01', to: '2025-08-31' }, finance);
    expect(counter.data.byChannel).toEqual([
      { currency: 'EUR', channel: 'online:stripe', count: 1, sum: 8_000, average: 8_000 },
      { currency: 'EUR', channel: 'till', count: 5, sum: 21_000, average: 4_200 },
    ]);
    expect(counter.data.byHour).toHaveLength(24);
    expect(counter.data.byHour.reduce((n: number, x: any) => n + x.redemptions, 0)).toBe(7);
    for (const bad of [{ from: '2025-08-31', to: '2025-08-01' }, { from: '2025-02-30', to: '2025-03-01' }, { from: '2024-01-01', to: '2025-06-01' }, { from: 'x', to: 'y' }]) {
      const res = await trpc(h, 'query', 'dashboard.counter', bad, finance);
      expect([res.status, res.code], JSON.stringify(bad)).toEqual([400, 'validation_error']);
    }
  });

  it('keeps every figure per currency: euros and francs are never added up', async () => {
    const eur = await issueCard(h, 5_000, 'EUR');
    const chf = await issueCard(h, 3_000, 'CHF');
    for (const [card, amount, currency] of [[eur, 1_000, 'EUR'], [chf, 2_000, 'CHF']] as const) {
      const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount, currency, posReference: posRef() } });
      expect((await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: {} })).status).toBe(200);
    }
    await moveIntoPeriod(inject('databaseUrl'), [eur.id, chf.id], '2025-09');
    const range = { from: '2025-09-01', to: '2025-09-30', storeId: h.storeA };

    const daily = await trpc(h, 'query', 'dashboard.daily', range, finance);
    expect(daily.status).toBe(200);
    const inCurrency = (c: string) => daily.data.days.filter((x: any) => x.currency === c);
    const sum = (c: string, k: string) => inCurrency(c).reduce((n: number, x: any) => n + x[k], 0);
    expect(inCurrency('EUR')).toHaveLength(30);
    expect(inCurrency('CHF')).toHaveLength(30);
    expect([sum('EUR', 'sales'), sum('EUR', 'redemptions'), sum('CHF', 'sales'), sum('CHF', 'redemptions')])
      .toEqual([5_000, 1_000, 3_000, 2_000]);
    // The liability line of each currency ends where the month's report has it.
    const report = await call(h, 'GET', '/v1/reports/periods/2025-09', { key: financeKey });
    const totals = new Map(report.body.totals.map((t: any) => [t.currency, t]));
    expect(inCurrency('CHF')[29].outstandingAtEnd).toBe((totals.get('CHF') as any).outstandingAtEnd);
    expect(inCurrency('EUR')[29].outstandingAtEnd).toBe((totals.get('EUR') as any).outstandingAtEnd);

    const counter = await trpc(h, 'query', 'dashboard.counter', range, finance);
    expect(counter.data.byChannel).toEqual([
      { currency: 'CHF', channel: 'till', count: 1, sum: 3_000, average: 3_000 },
      { currency: 'EUR', channel: 'till', count: 1, sum: 5_000, average: 5_000 },
    ]);
    const redeemed = (c: string) => counter.data.byHour.filter((x: any) => x.currency === c).reduce((n: number, x: any) => n + x.redeemed, 0);
    expect(counter.data.byHour).toHaveLength(48);
    expect([redeemed('EUR'), redeemed('CHF')]).toEqual([1_000, 2_000]);
  });
});
