// Stripe's payouts for Print@Home sales against our orders: a hand-made itemized payout
// reconciliation report (two payouts: a matched charge, a charge for another amount, a refund, an
// unknown charge, a Stripe fee) → matched, differences, other lines, paid orders no payout carried
// after N days, and the provider-clearing account against what the payouts carried. Bad files and
// wrong roles are refused with nothing changed; the same report twice adds nothing.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardCodeLast4, deriveCardCode, hashCardCode } from '../../domain/card-code.ts';
import { createApiClient } from '../../services/directory.ts';
import { call, startHarness, type Harness } from '../helpers/harness.ts';

let h: Harness;
let finance: string;
let admin: string;
const run = randomUUID().slice(0, 8);
const pi = (n: string) => `pi_${run}_${n}`;
const orders: Record<'a' | 'b' | 'c' | 'd', { id: string; amount: number }> = {} as never;

/** An online sale as the purchase workflow books it (provider_clearing → card), and its paid order. */
async function paidOrder(name: 'a' | 'b' | 'c' | 'd', amount: number, paidDaysAgo: number): Promise<void> {
  const code = deriveCardCode(h.deps.secrets.deriveKey, 'payouts', `${run}-${name}`);
  const card = await h.deps.ledger.issueCard({ scope: 'payouts', key: `${run}-${name}` }, {
    codeHash: hashCardCode(code, h.deps.secrets.hashKey), last4: cardCodeLast4(code), currency: 'EUR',
    amount: BigInt(amount), expiresAt: new Date(Date.now() + 365 * 86_400_000), channel: 'online', storeId: null, terminalId: null, sourceRef: 'stripe',
  });
  const { rows: [o] } = await h.deps.db.pool.query<{ id: string }>(
    `INSERT INTO orders (id, email, amount, currency, provider, payment_id, card_id, status, paid_at)
     VALUES (gen_random_uuid(), $1, $2, 'EUR', 'stripe', $3, $4, 'fulfilled', now() - make_interval(days => $5)) RETURNING id`,
    [h.deps.pii.seal(`${name}-${run}@shopper.test`), amount, pi(name), card.cardId, paidDaysAgo]);
  orders[name] = { id: o!.id, amount };
}

const HEADER = 'automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,source_id,description,charge_id,payment_intent_id';
const line = (payout: string, txn: string, gross: string, fee: string, net: string, category: string, intent: string) =>
  `po_${run}_${payout},2026-11-20 00:00:00,txn_${run}_${txn},2026-11-18 10:00:00,eur,${gross},${fee},${net},${category},ch_${txn},"Voucher, Print@Home",ch_${txn},${intent}`;

function report(): string {
  return [HEADER,
    line('1', 'a', '80.00', '1.37', '78.63', 'charge', pi('a')),
    line('1', 'b', '45.00', '0.88', '44.12', 'charge', pi('b')),
    line('1', 'x', '12.00', '0.42', '11.58', 'charge', `pi_${run}_stranger`),
    line('2', 'ar', '-10.00', '0.00', '-10.00', 'refund', pi('a')),
    line('2', 'fee', '-2.00', '0.00', '-2.00', 'fee', ''),
  ].join('\r\n') + '\r\n';
}

const upload = (body: string, key: string | null = finance, contentType = 'text/csv') =>
  call(h, 'POST', '/v1/settlement/stripe-payouts', { key, rawBody: body, contentType });
const ours = (body: any) => ({
  ...body,
  payouts: body.payouts.filter((p: any) => p.payoutId.includes(run)),
  differences: body.differences.filter((d: any) => d.balanceTransactionId.includes(run)),
  other: body.other.filter((o: any) => o.balanceTransactionId.includes(run)),
  notPaidOut: body.notPaidOut.filter((o: any) => o.paymentIntentId?.includes(run)),
});

async function tables(): Promise<string> {
  const { rows } = await h.deps.db.pool.query(`SELECT (SELECT count(*) FROM stripe_payout_imports) AS imports,
    (SELECT count(*) FROM stripe_payout_lines) AS lines, (SELECT count(*) FROM postings) AS postings`);
  return JSON.stringify(rows[0]);
}

beforeAll(async () => {
  h = await startHarness();
  finance = (await createApiClient(h.deps.db.prisma, { name: 'Finance payouts', role: 'finance' })).apiKey;
  admin = (await createApiClient(h.deps.db.prisma, { name: 'Admin payouts', role: 'admin' })).apiKey;
  await paidOrder('a', 8_000, 10);
  await paidOrder('b', 5_000, 10);
  await paidOrder('c', 3_000, 10);
  await paidOrder('d', 2_000, 1);
});

afterAll(async () => {
  await h?.close();
});

describe('Stripe payouts', () => {
  it('matches a payout report with the orders: matched, differences, fees and other lines, orders in no payout', async () => {
    const before = (await call(h, 'GET', '/v1/settlement/stripe-payouts', { key: finance })).body;
    const postingsBefore = (await h.deps.db.pool.query('SELECT count(*)::int AS n FROM postings')).rows[0].n;
    const res = await upload(report());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ replayed: false, newLines: 5, lines: 5 });
    const r = ours(res.body.report);
    expect(r.payouts).toEqual([
      { payoutId: `po_${run}_1`, currency: 'EUR', lines: 3, gross: 13_700, fee: 267, net: 13_433 },
      { payoutId: `po_${run}_2`, currency: 'EUR', lines: 2, gross: -1_200, fee: 0, net: -1_200 },
    ]);
    expect(r.matched - before.matched).toBe(2);
    expect(r.differences).toEqual([
      { balanceTransactionId: `txn_${run}_b`, payoutId: `po_${run}_1`, status: 'wrong_amount', category: 'charge', paymentIntentId: pi('b'),
        orderId: orders.b.id, currency: 'EUR', gross: 4_500, expectedAmount: 5_000 },
      { balanceTransactionId: `txn_${run}_x`, payoutId: `po_${run}_1`, status: 'unknown', category: 'charge', paymentIntentId: `pi_${run}_stranger`,
        orderId: null, currency: 'EUR', gross: 1_200, expectedAmount: null },
    ]);
    expect(r.other).toEqual([{ balanceTransactionId: `txn_${run}_fee`, payoutId: `po_${run}_2`, category: 'fee', currency: 'EUR', net: -200 }]);
    // C was paid ten days ago and is in no payout; D only yesterday, within the grace. A and B were carried.
    expect(r.notPaidOut.map((o: any) => [o.orderId, o.amount])).toEqual([[orders.c.id, 3_000]]);
    const week = ours((await call(h, 'GET', '/v1/settlement/stripe-payouts?notPaidOutAfterDays=0', { key: admin })).body);
    expect(week.notPaidOut.map((o: any) => o.orderId)).toEqual([orders.c.id, orders.d.id]);
    expect(ours((await call(h, 'GET', '/v1/settlement/stripe-payouts?notPaidOutAfterDays=30', { key: finance })).body).notPaidOut).toEqual([]);

    // Provider clearing: collected is what the ledger says Stripe took for online sales; the
    // payouts carried our orders' charges less refunds (80 + 45 - 10; the stranger's is not ours).
    const eur = (b: any) => b.providerClearing.find((c: any) => c.currency === 'EUR');
    const { rows: [ledger] } = await h.deps.db.pool.query(`SELECT (-sum(amount))::int AS collected FROM postings WHERE account_kind = 'provider_clearing' AND currency = 'EUR'`);
    expect(eur(res.body.report).collected).toBe(ledger.collected);
    expect(eur(res.body.report).paidOutGross - (eur(before)?.paidOutGross ?? 0)).toBe(11_500);
    expect(eur(res.body.report).fees - (eur(before)?.fees ?? 0)).toBe(267);
    expect(eur(res.body.report).outstanding).toBe(eur(res.body.report).collected - eur(res.body.report).paidOutGross);
    // Nothing is booked in the voucher ledger.
    expect((await h.deps.db.pool.query('SELECT count(*)::int AS n FROM postings')).rows[0].n).toBe(postingsBefore);

    const audited = await h.deps.db.pool.query(`SELECT actor, details FROM audit_entries WHERE action = 'stripe_payout_report_imported' AND subject = $1`,
      [`stripe-payouts:${res.body.importId}`]);
    expect(audited.rows).toHaveLength(1);
    expect(audited.rows[0]).toMatchObject({ actor: 'Finance payouts', details: { lines: 5, newLines: 5, payouts: [`po_${run}_1`, `po_${run}_2`] } });
  });

  it('takes the same report again, or one overlapping it, without adding a line', async () => {
    const before = await tables();
    const again = await upload(report());
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ replayed: true, newLines: 0 });
    expect(await tables()).toBe(before);
    const overlapping = await upload([HEADER, line('1', 'a', '80.00', '1.37', '78.63', 'charge', pi('a'))].join('\n') + '\n');
    expect(overlapping.body).toMatchObject({ replayed: false, newLines: 0, lines: 1 });
    expect(ours(overlapping.body.report).payouts[0]).toMatchObject({ lines: 3, gross: 13_700 });
  });

  it('refuses files that are not the itemized report, and the wrong role, changing nothing', async () => {
    const party = (await h.deps.db.pool.query('SELECT id FROM billing_parties LIMIT 1')).rows[0]?.id as string | undefined;
    const partyKey = party ? (await createApiClient(h.deps.db.prisma, { name: 'A party', role: 'billing_party', billingPartyId: party })).apiKey : null;
    const before = await tables();
    const refused: [string, string | null, string, number, string][] = [
      ['not,a,report\n1,2,3\n', finance, 'text/csv', 400, 'invalid_payout_report'],
      ['', finance, 'text/csv', 400, 'invalid_payout_report'],
      [HEADER + '\n', finance, 'text/csv', 400, 'invalid_payout_report'],
      [[HEADER, line('9', 'q', '80,00', '1.37', '78.63', 'charge', pi('a'))].join('\n'), finance, 'text/csv', 400, 'invalid_payout_report'],
      [[HEADER, line('9', 'q', '80.00', '1.00', '78.63', 'charge', pi('a'))].join('\n'), finance, 'text/csv', 400, 'invalid_payout_report'],
      [[HEADER, line('9', 'q', '80.00', '1.37', '78.63', 'charge', pi('a')).replace(',eur,', ',euro,')].join('\n'), finance, 'text/csv', 400, 'invalid_payout_report'],
      [[HEADER, `${line('9', 'q', '80.00', '1.37', '78.63', 'charge', pi('a'))},extra`].join('\n'), finance, 'text/csv', 400, 'invalid_payout_report'],
      ['<?xml version="1.0"?><Document/>', finance, 'text/csv', 400, 'invalid_payout_report'],
      [report(), finance, 'application/xml', 415, 'unsupported_media_type'],
      [report(), null, 'text/csv', 401, 'unauthenticated'],
    ];
    if (partyKey) refused.push([report(), partyKey, 'text/csv', 403, 'forbidden']);
    for (const [body, key, type, status, code] of refused) {
      const res = await upload(body, key, type);
      expect([res.status, res.body?.error?.code], `${code} ${body.slice(0, 40)}`).toEqual([status, code]);
    }
    expect((await call(h, 'GET', '/v1/settlement/stripe-payouts?notPaidOutAfterDays=-1', { key: finance })).status).toBe(400);
    expect(await tables()).toBe(before);
  });
});
