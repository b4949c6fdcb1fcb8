// Two-phase redemption end to end: REST -> ledger -> outbox -> Temporal workflow.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowNotFoundError } from '@temporalio/client';
import { call, issueCard, posRef, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { redemptionWorkflowId } from '../../workflows/names/redemption.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ holdTtlSeconds: 2 });
});
afterAll(async () => {
  await h?.close();
});

function workflowId(terminalId: string, ref: string): string {
  return redemptionWorkflowId(terminalId, ref);
}

async function workflowResult(terminalId: string, ref: string): Promise<any> {
  const handle = h.client.workflow.getHandle(workflowId(terminalId, ref));
  // The relay starts the workflow shortly after the hold commits.
  await waitFor(async () => {
    try {
      await handle.describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  });
  return handle.result();
}

async function balance(code: string): Promise<{ available: number; held: number }> {
  const res = await call(h, 'POST', '/v1/cards/lookup', { body: { code } });
  expect(res.status).toBe(200);
  return res.body.card;
}

describe('redemption workflow', () => {
  it('authorizes, then captures; the workflow records the capture', async () => {
    const card = await issueCard(h, 10_000);
    const ref = posRef();
    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 2_500, currency: 'EUR', posReference: ref } });
    expect(auth.status).toBe(200);
    expect(auth.body).toMatchObject({ status: 'authorized', approvedAmount: 2_500, capturedAmount: 0, posReference: ref });
    expect(auth.body.card).toMatchObject({ available: 7_500, held: 2_500 });
    expect(auth.headers.get('request-id')).toMatch(/^req_/);

    const capture = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: {} });
    expect(capture.status).toBe(200);
    expect(capture.body).toMatchObject({ status: 'captured', capturedAmount: 2_500 });
    expect(capture.body.card).toMatchObject({ available: 7_500, held: 0 });

    const result = await workflowResult(h.terminalA.id, ref);
    expect(result).toMatchObject({ holdId: auth.body.id, status: 'captured', capturedAmount: 2_500 });
    const description = await h.client.workflow.getHandle(workflowId(h.terminalA.id, ref)).describe();
    expect(description.searchAttributes.VoucherStatus).toEqual(['captured']);
    expect(description.searchAttributes.VoucherStoreId).toEqual([h.storeA]);
    expect(description.searchAttributes.VoucherAmount).toEqual([2_500]);
  });

  it('captures part of a hold and releases the rest', async () => {
    const card = await issueCard(h, 5_000);
    const ref = posRef();
    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 4_000, currency: 'EUR', posReference: ref } });
    const capture = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: { amount: 1_500 } });
    expect(capture.status).toBe(200);
    expect(capture.body).toMatchObject({ status: 'captured', approvedAmount: 4_000, capturedAmount: 1_500 });
    expect(await balance(card.code)).toMatchObject({ available: 3_500, held: 0 });
    expect(await workflowResult(h.terminalA.id, ref)).toMatchObject({ status: 'captured', capturedAmount: 1_500 });
  });

  it('refuses to capture more than the hold', async () => {
    const card = await issueCard(h, 5_000);
    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 1_000, currency: 'EUR', posReference: posRef() } });
    const capture = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: { amount: 1_001 } });
    expect(capture.status).toBe(422);
    expect(capture.body.error.code).toBe('amount_exceeds_hold');
    expect(await balance(card.code)).toMatchObject({ available: 4_000, held: 1_000 });
  });

  it('voids a hold, returns the money and refuses a capture afterwards', async () => {
    const card = await issueCard(h, 3_000);
    const ref = posRef();
    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 3_000, currency: 'EUR', posReference: ref } });
    expect(await balance(card.code)).toMatchObject({ available: 0, held: 3_000 });
    const voided = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/void`);
    expect(voided.status).toBe(200);
    expect(voided.body).toMatchObject({ status: 'voided', capturedAmount: 0 });
    expect(await balance(card.code)).toMatchObject({ available: 3_000, held: 0 });

    const capture = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: {} });
    expect(capture.status).toBe(409);
    expect(capture.body.error.code).toBe('hold_not_authorized');
    expect(await workflowResult(h.terminalA.id, ref)).toMatchObject({ status: 'voided' });
    expect(await balance(card.code)).toMatchObject({ available: 3_000, held: 0 });
  });

  it('capturing twice gives the first answer and moves money once', async () => {
    const card = await issueCard(h, 4_000);
    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 1_000, currency: 'EUR', posReference: posRef() } });
    const first = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: {} });
    const second = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: {} });
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ ...first.body, replayed: true });
    // Concurrent captures of one hold: exactly one moves money, all see one answer.
    const auth2 = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 1_000, currency: 'EUR', posReference: posRef() } });
    const many = await Promise.all(Array.from({ length: 8 }, () =>
      call(h, 'POST', `/v1/redemptions/${auth2.body.id}/capture`, { body: {} })));
    expect(many.every((r) => r.status === 200 && r.body.capturedAmount === 1_000)).toBe(true);
    expect(many.filter((r) => !r.body.replayed)).toHaveLength(1);
    expect(await balance(card.code)).toMatchObject({ available: 2_000, held: 0 });
  });

  it('voids a hold by itself when it expires', async () => {
    const card = await issueCard(h, 2_000);
    const ref = posRef();
    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 1_200, currency: 'EUR', posReference: ref } });
    expect(auth.body.status).toBe('authorized');
    expect(Date.parse(auth.body.expiresAt) - Date.now()).toBeLessThanOrEqual(2_000);
    const result = await workflowResult(h.terminalA.id, ref);
    expect(result).toMatchObject({ status: 'expired', capturedAmount: 0 });
    expect(await balance(card.code)).toMatchObject({ available: 2_000, held: 0 });
    const late = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: {} });
    // Past its expiry a hold is refused as expired, whoever booked the expiry.
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('hold_expired');
    const fetched = await call(h, 'GET', `/v1/redemptions/${auth.body.id}`);
    expect(fetched.body.status).toBe('expired');
  });

  it('approves a partial amount only when the till allows it', async () => {
    const card = await issueCard(h, 700);
    const declined = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 1_000, currency: 'EUR', posReference: posRef() } });
    expect(declined.status).toBe(402);
    expect(declined.body.error.code).toBe('insufficient_funds');
    const partial = await call(h, 'POST', '/v1/redemptions', {
      body: { code: card.code, amount: 1_000, currency: 'EUR', posReference: posRef(), allowPartial: true } });
    expect(partial.status).toBe(200);
    expect(partial.body).toMatchObject({ requestedAmount: 1_000, approvedAmount: 700 });
    expect(partial.body.card).toMatchObject({ available: 0, held: 700 });
  });

  it('refunds a captured redemption back to the card, never more than captured', async () => {
    const card = await issueCard(h, 5_000);
    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 3_000, currency: 'EUR', posReference: posRef() } });
    await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: {} });
    const refund = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/refunds`, { body: { amount: 1_000 }, idempotencyKey: 'refund-1' });
    expect(refund.status).toBe(200);
    expect(refund.body).toMatchObject({ refundAmount: 1_000, refundedAmount: 1_000 });
    expect(refund.body.card.available).toBe(3_000);
    const replay = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/refunds`, { body: { amount: 1_000 }, idempotencyKey: 'refund-1' });
    expect(replay.body).toMatchObject({ refundAmount: 1_000, replayed: true });
    const rest = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/refunds`, { body: {}, idempotencyKey: 'refund-2' });
    expect(rest.body).toMatchObject({ refundAmount: 2_000, refundedAmount: 3_000 });
    const tooMuch = await call(h, 'POST', `/v1/redemptions/${auth.body.id}/refunds`, { body: { amount: 1 }, idempotencyKey: 'refund-3' });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error.code).toBe('refund_exceeds_captured');
    expect(await balance(card.code)).toMatchObject({ available: 5_000, held: 0 });
  });

  it('leaves the ledger provably consistent', async () => {
    await h.worker!.relay!.drain();
    expect(await h.deps.ledger.violations()).toEqual([]);
  });
});
