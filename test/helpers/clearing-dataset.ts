// A month of scheme activity with positions worked out by hand: three billing parties, five
// stores, till and online sales, a load, cross redemptions, a partial capture, a void, refunds and
// an expired card. Built through the real API and ledger, then moved into a past period (the
// ledger books at the current time, and only a month that has ended can be cleared).

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { cardCodeLast4, deriveCardCode, formatCardCode, hashCardCode } from '../../domain/card-code.ts';
import { createBillingParty, createStore, createTerminal } from '../../services/directory.ts';
import { call, posRef, type Harness } from './harness.ts';

export interface Dataset {
  label: string;
  parties: { id: string; name: string; email: string }[];
  stores: { id: string; name: string; partyIndex: number; terminalKey: string; terminalId: string }[];
  cardIds: string[];
  /** Hand-computed: per party index, then the scheme line. */
  expected: {
    parties: { salesCount: number; salesAmount: number; redemptionsCount: number; redemptionsAmount: number;
      refundsCount: number; refundsAmount: number; net: number }[];
    scheme: { onlineSales: number; breakage: number; liabilityChange: number; net: number };
    /** Per party index: issuer (party index or 'scheme') -> [count, redeemed, refunded]. */
    accepted: Record<string, [number, number, number]>[];
  };
}

export async function buildDataset(h: Harness, label = randomUUID().slice(0, 6)): Promise<Dataset> {
  const prisma = h.deps.db.prisma;
  const parties: Dataset['parties'] = [];
  for (const n of [1, 2, 3]) {
    const email = `party${n}-${label}@example.test`;
    const party = await createBillingParty(prisma, h.deps.pii, { name: `Party ${n} ${label}`, contactEmail: email });
    parties.push({ id: party.id, name: party.name, email });
  }
  // S1, S2 -> P1; S3, S4 -> P2; S5 -> P3.
  const stores: Dataset['stores'] = [];
  for (const [i, partyIndex] of [0, 0, 1, 1, 2].entries()) {
    const store = await createStore(prisma, { billingPartyId: parties[partyIndex]!.id, name: `S${i + 1} ${label}` });
    const terminal = await createTerminal(prisma, { storeId: store.id, name: `Till S${i + 1}` });
    stores.push({ id: store.id, name: store.name, partyIndex, terminalKey: terminal.apiKey, terminalId: terminal.id });
  }
  const at = (s: number) => stores[s - 1]!.terminalKey;
  const ok = async (res: Promise<{ status: number; body: any }>) => {
    const r = await res;
    if (r.status !== 200) throw new Error(`dataset call failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const sell = (s: number, amount: number) =>
    ok(call(h, 'POST', '/v1/cards', { key: at(s), body: { amount, currency: 'EUR' }, idempotencyKey: randomUUID() }));
  const redeem = async (s: number, code: string, amount: number, capture?: number) => {
    const hold = await ok(call(h, 'POST', '/v1/redemptions', { key: at(s), body: { code, amount, currency: 'EUR', posReference: posRef() } }));
    await ok(call(h, 'POST', `/v1/redemptions/${hold.id}/capture`, { key: at(s), body: capture === undefined ? {} : { amount: capture } }));
    return hold.id as string;
  };

  const c1 = await sell(1, 10_000);
  const c2 = await sell(3, 5_000);
  const c3 = await sell(5, 3_000);
  const c5 = await sell(2, 2_000);
  // An online sale, as the purchase workflow books it.
  const onlineCode = deriveCardCode(h.deps.secrets.deriveKey, 'dataset', label);
  const c4 = await h.deps.ledger.issueCard({ scope: 'dataset', key: label }, {
    codeHash: hashCardCode(onlineCode, h.deps.secrets.hashKey), last4: cardCodeLast4(onlineCode), currency: 'EUR',
    amount: 8_000n, expiresAt: new Date(Date.now() + 365 * 86_400_000), channel: 'online', storeId: null, terminalId: null,
    sourceRef: 'stripe',
  });
  const c4code = formatCardCode(onlineCode);
  await ok(call(h, 'POST', '/v1/cards/load', { key: at(4), body: { code: c2.code, amount: 1_000, currency: 'EUR' }, idempotencyKey: randomUUID() }));

  const r1 = await redeem(3, c1.code, 4_000);
  await redeem(1, c1.code, 3_000, 2_500); // partial capture: 500 goes back to the card
  await redeem(5, c2.code, 6_000);
  await redeem(1, c4code, 5_000);
  const r5 = await redeem(5, c4code, 2_000);
  await redeem(2, c3.code, 3_000);
  await redeem(4, c5.code, 500);
  const voided = await ok(call(h, 'POST', '/v1/redemptions', { key: at(4), body: { code: c1.code, amount: 1_000, currency: 'EUR', posReference: posRef() } }));
  await ok(call(h, 'POST', `/v1/redemptions/${voided.id}/void`, { key: at(4), body: {} }));
  await ok(call(h, 'POST', `/v1/redemptions/${r1}/refunds`, { key: at(3), body: { amount: 1_500 }, idempotencyKey: randomUUID() }));
  await ok(call(h, 'POST', `/v1/redemptions/${r5}/refunds`, { key: at(5), body: { amount: 2_000 }, idempotencyKey: randomUUID() }));
  // C5 expires with 1,500 left: breakage.
  await h.deps.db.pool.query(`UPDATE cards SET expires_at = now() - interval '1 second' WHERE id = $1`, [c5.card.id]);
  await h.deps.db.pool.query('SELECT ledger_expire_card($1)', [c5.card.id]);

  return {
    label, parties, stores, cardIds: [c1.card.id, c2.card.id, c3.card.id, c4.cardId, c5.card.id],
    expected: {
      parties: [
        { salesCount: 2, salesAmount: 12_000, redemptionsCount: 3, redemptionsAmount: 10_500, refundsCount: 0, refundsAmount: 0, net: -1_500 },
        { salesCount: 2, salesAmount: 6_000, redemptionsCount: 2, redemptionsAmount: 4_500, refundsCount: 1, refundsAmount: 1_500, net: -3_000 },
        { salesCount: 1, salesAmount: 3_000, redemptionsCount: 2, redemptionsAmount: 8_000, refundsCount: 1, refundsAmount: 2_000, net: 3_000 },
      ],
      // Cards end at C1 5,000 + C4 3,000 = 8,000 outstanding; the centre keeps the online money
      // (-8,000), holds the float (+8,000) and the breakage (+1,500).
      scheme: { onlineSales: 8_000, breakage: 1_500, liabilityChange: 8_000, net: 1_500 },
      accepted: [
        { '0': [1, 2_500, 0], scheme: [1, 5_000, 0], '2': [1, 3_000, 0] },
        { '0': [2, 4_500, 1_500] },
        { '1': [1, 6_000, 0], scheme: [1, 2_000, 2_000] },
      ],
    },
  };
}

/**
 * Moves the dataset's ledger entries into `period` (keeping their order and spacing), as if they
 * had been booked then. The ledger is append-only for the engine; a superuser session with
 * triggers off stands in for the passage of time.
 */
export async function moveIntoPeriod(databaseUrl: string, cardIds: string[], period: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query("SET LOCAL session_replication_role = 'replica'");
    await client.query(
      `UPDATE journal_entries e
          SET booked_at = ($2 || '-10T10:00:00Z')::timestamptz + (e.booked_at - f.first)
         FROM (SELECT min(booked_at) AS first FROM journal_entries WHERE card_id = ANY($1::uuid[])) f
        WHERE e.card_id = ANY($1::uuid[])`,
      [cardIds, period]);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}
