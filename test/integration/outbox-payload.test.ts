// The ledger's SQL builds the redemption workflow's id and input (ledger_authorize, and
// ledger_settle_hold for the settle signal) in workflow_outbox; the relay hands them to Temporal as
// they are. They must be what the TypeScript names say: the id from redemptionWorkflowId(), the
// payload exactly a RedemptionInput.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { redemptionWorkflowId, type HoldSettled, type RedemptionInput } from '../../workflows/names/redemption.ts';
import { call, issueCard, posRef, startHarness, type Harness } from '../helpers/harness.ts';

// Exactly RedemptionInput: a field added to or removed from the type fails the type check here.
const redemptionInput = z.object({
  holdId: z.uuid(),
  terminalId: z.uuid(),
  storeId: z.uuid(),
  billingPartyId: z.uuid().optional(),
  posReference: z.string(),
  amount: z.number().int(),
  currency: z.string().length(3),
  expiresAt: z.iso.datetime({ offset: true }),
}).strict() satisfies z.ZodType<RedemptionInput>;

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const exactlyRedemptionInput: Same<z.infer<typeof redemptionInput>, RedemptionInput> = true;
void exactlyRedemptionInput;

const settledPayload = redemptionInput.extend({
  status: z.enum(['captured', 'voided']),
  capturedAmount: z.number().int(),
}).strict() satisfies z.ZodType<RedemptionInput & HoldSettled>;

let h: Harness;
beforeAll(async () => {
  // No worker: the rows stay in the outbox for the test to read.
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

async function outboxRows(holdId: string) {
  const { rows } = await h.deps.db.pool.query<{ workflow_id: string; kind: string; payload: unknown }>(
    `SELECT workflow_id, kind, payload FROM workflow_outbox WHERE payload->>'holdId' = $1 ORDER BY id`, [holdId]);
  return rows;
}

describe('workflow outbox payload', () => {
  it('is the redemption workflow id and a RedemptionInput, for a start and for a settle', async () => {
    const card = await issueCard(h, 2_000);
    const ref = posRef();
    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 700, currency: 'EUR', posReference: ref } });
    expect(auth.status).toBe(200);
    await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: { amount: 500 } });

    const [started, settled] = await outboxRows(auth.body.id);
    expect(started!.kind).toBe('redemption_started');
    expect(started!.workflow_id).toBe(redemptionWorkflowId(h.terminalA.id, ref));
    const input = redemptionInput.parse(started!.payload);
    expect(input).toMatchObject({
      holdId: auth.body.id, terminalId: h.terminalA.id, storeId: h.storeA, billingPartyId: h.billingPartyId,
      posReference: ref, amount: 700, currency: 'EUR',
    });
    expect(Date.parse(input.expiresAt)).toBe(Date.parse(auth.body.expiresAt));

    expect(settled!.kind).toBe('redemption_settled');
    expect(settled!.workflow_id).toBe(started!.workflow_id);
    expect(settledPayload.parse(settled!.payload)).toMatchObject({ status: 'captured', capturedAmount: 500 });
    await h.deps.db.pool.query(`DELETE FROM workflow_outbox WHERE payload->>'holdId' = $1`, [auth.body.id]);
  });
});
