// Scratch-card batches end to end: finance orders, the workflow generates pending cards (nowhere
// in the ledger), the system owner (another admin) approves, the print file goes out once per
// format, a till activates a scanned card, support finds it by serial, and the unsold rest is voided.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchCardCode } from '../../domain/card-batch-codes.ts';
import { formatCardCode, normalizeCardCode } from '../../domain/card-code.ts';
import { createApiClient } from '../../services/directory.ts';
import { VoucherStatus } from '../../workflows/search-attributes.ts';
import { call, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { pdfQrCode } from '../helpers/voucher.ts';

let h: Harness;
let finance: string;
let owner: string;
let admin2: string;

beforeAll(async () => {
  h = await startHarness();
  finance = (await createApiClient(h.deps.db.prisma, { name: 'Batch finance', role: 'finance' })).apiKey;
  owner = (await createApiClient(h.deps.db.prisma, { name: 'System owner', role: 'admin' })).apiKey;
  admin2 = (await createApiClient(h.deps.db.prisma, { name: 'Second admin', role: 'admin' })).apiKey;
});
afterAll(async () => {
  await h?.close();
});

const post = (path: string, body: unknown, key: string, idempotencyKey: string | undefined = randomUUID()) => call(h, 'POST', path, { body, key, idempotencyKey });

async function order(body: Record<string, unknown>, key = finance) {
  const res = await post('/v1/card-batches', { currency: 'EUR', validityDays: 365, issuingStoreId: h.storeA, ...body }, key);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return waitFor(async () => {
    const b = (await call(h, 'GET', `/v1/card-batches/${res.body.id}`, { key: finance })).body;
    return b.status === 'awaiting_approval' ? b : null;
  }, 60_000);
}

async function printFile(batchId: string, format: 'csv' | 'pdf', key = finance) {
  const res = await fetch(`${h.baseUrl}/v1/backoffice/card-batches/${batchId}/print.${format}`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
}

describe('a fixed-value batch', () => {
  let batch: any;
  let csvRows: string[][] = [];

  it('is generated pending, outside the ledger, and waits for the owner in Temporal', async () => {
    batch = await order({ count: 500, faceValue: 2_500 });
    expect(batch).toMatchObject({ count: 500, generated: 500, cards: { pending: 500 }, workflowId: `card-batch-${batch.id}` });
    const { rows: [{ entries, serials }] } = await h.deps.db.pool.query(
      `SELECT (SELECT count(*)::int FROM journal_entries e JOIN cards c ON c.id = e.card_id WHERE c.batch_id = $1) AS entries,
              (SELECT count(DISTINCT serial)::int FROM cards WHERE batch_id = $1) AS serials`, [batch.id]);
    expect([entries, serials]).toEqual([0, 500]);
    // The workflow marks itself a moment after the batch row.
    const d = await waitFor(async () => {
      const x = await h.client.workflow.getHandle(batch.workflowId).describe();
      return x.typedSearchAttributes.get(VoucherStatus) === 'awaiting_approval' ? x : null;
    });
    expect(d.status.name).toBe('RUNNING');
    expect(await h.deps.ledger.violations()).toEqual([]);
  });

  it('cannot be sold or printed before approval, nor approved by finance', async () => {
    const code = formatCardCode(batchCardCode(h.deps.secrets.deriveKey, batch.id, 1));
    const early = await post('/v1/cards/activate', { code, currency: 'EUR' }, h.terminalB.apiKey);
    expect([early.status, early.body.error.code]).toEqual([409, 'invalid_card_transition']);
    expect((await printFile(batch.id, 'csv')).status).toBe(409);
    const byFinance = await post(`/v1/card-batches/${batch.id}/decision`, { approve: true }, finance);
    expect([byFinance.status, byFinance.body.error.code]).toEqual([403, 'forbidden']);
  });

  it('is approved by the owner, then printed once per format', async () => {
    const approved = await post(`/v1/card-batches/${batch.id}/decision`, { approve: true }, owner);
    expect(approved.body.status, JSON.stringify(approved.body)).toBe('approved');
    const csv = await printFile(batch.id, 'csv');
    expect(csv.status).toBe(200);
    const lines = csv.body.toString('utf8').trim().split('\r\n');
    expect(lines[0]).toBe('position,serial,code,activation_code');
    csvRows = lines.slice(1).map((l) => l.split(','));
    expect(csvRows).toHaveLength(500);
    expect(new Set(csvRows.map((r) => r[2])).size).toBe(500);
    for (const r of csvRows.slice(0, 20)) {
      expect(normalizeCardCode(r[2]!)).not.toBeNull();
      expect(r[1]).toMatch(/^SC\d{5}-\d{6}$/);
      expect(r[3]).toMatch(/^\d{10}$/);
    }
    const again = await printFile(batch.id, 'csv');
    expect([again.status, JSON.parse(again.body.toString()).error.code]).toEqual([409, 'batch_already_exported']);
    const pdf = await printFile(batch.id, 'pdf', owner);
    expect([pdf.status, pdf.type, pdf.body.subarray(0, 5).toString()]).toEqual([200, 'application/pdf', '%PDF-']);
    // The sheets' QR codes scan to the batch's codes (the first card's cell: A4, 3 x 7 cards, 28 pt margins).
    const scanned = pdfQrCode(pdf.body, { x: 28, y: 28, width: (595 - 56) / 3, height: (842 - 56) / 7 });
    expect(scanned).not.toBeNull();
    expect(csvRows.map((r) => normalizeCardCode(r[2]!))).toContain(normalizeCardCode(scanned!));
    expect((await printFile(batch.id, 'pdf')).status).toBe(409);
    const { rows } = await h.deps.db.pool.query(`SELECT actor, details FROM audit_entries WHERE action = 'card_batch_exported' AND subject = $1 ORDER BY id`, [`card_batch:${batch.id}`]);
    expect(rows.map((r) => [r.actor, r.details.format])).toEqual([['Batch finance', 'csv'], ['System owner', 'pdf']]);
    // Afterwards only serials.
    const serials = await call(h, 'GET', `/v1/card-batches/${batch.id}/serials?limit=3`, { key: finance });
    expect(serials.body.cards.map((c: { serial: string }) => c.serial)).toEqual(csvRows.slice(0, 3).map((r) => r[1]));
    expect(JSON.stringify(serials.body)).not.toContain(csvRows[0]![2]);
  });

  it('is sold card by card at the till and found by serial', async () => {
    const [, serial, code] = csvRows[7]!;
    const sold = await post('/v1/cards/activate', { code, currency: 'EUR' }, h.terminalB.apiKey);
    expect(sold.status, JSON.stringify(sold.body)).toBe(200);
    expect(sold.body.card).toMatchObject({ status: 'active', available: 2_500 });
    const { rows: [entry] } = await h.deps.db.pool.query(`SELECT kind, store_id FROM journal_entries WHERE card_id = $1`, [sold.body.card.id]);
    expect(entry).toEqual({ kind: 'activate', store_id: h.storeB });
    const found = await call(h, 'GET', `/v1/card-serials/${encodeURIComponent(serial!.toLowerCase())}`, { key: finance });
    expect(found.body).toMatchObject({ cardId: sold.body.card.id, batchId: batch.id, serial, status: 'active', available: 2_500 });
  });

  it('voids its unsold rest and keeps the sold card', async () => {
    const voided = await post(`/v1/card-batches/${batch.id}/void`, { reason: 'misprint' }, finance);
    expect(voided.body).toMatchObject({ voided: 499, batch: { status: 'voided', cards: { active: 1, deactivated: 499 } } });
    const late = await post('/v1/cards/activate', { code: csvRows[8]![2], currency: 'EUR' }, h.terminalB.apiKey);
    expect([late.status, late.body.error.code]).toEqual([409, 'invalid_card_transition']);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });
});

describe('the owner\'s decision', () => {
  it('is refused to the batch\'s creator; a refused batch is cancelled with its cards closed', async () => {
    const batch = await order({ count: 30, faceValue: null }, owner);
    const self = await post(`/v1/card-batches/${batch.id}/decision`, { approve: true }, owner);
    expect([self.status, self.body.error.code]).toEqual([403, 'same_approver']);
    const refused = await post(`/v1/card-batches/${batch.id}/decision`, { approve: false }, admin2);
    expect(refused.body).toMatchObject({ status: 'cancelled', cards: { deactivated: 30 } });
    expect(await h.client.workflow.getHandle(batch.workflowId).result()).toEqual({ status: 'cancelled', generated: 30 });
    expect((await printFile(batch.id, 'csv')).status).toBe(409);
  });

  it('cancels a batch left undecided past its deadline', async () => {
    h.deps.config.cardLifecycle.batchApprovalHours = 0;
    try {
      const res = await post('/v1/card-batches', { count: 5, faceValue: 1_000, currency: 'EUR', validityDays: 30 }, finance);
      expect(await h.client.workflow.getHandle(res.body.workflowId).result()).toEqual({ status: 'cancelled', generated: 5 });
      const late = await post(`/v1/card-batches/${res.body.id}/decision`, { approve: true }, owner);
      expect([late.status, late.body.error.code]).toEqual([409, 'batch_not_awaiting_approval']);
    } finally {
      h.deps.config.cardLifecycle.batchApprovalHours = 72;
    }
  });

  it('lets an open-value card take the till\'s amount', async () => {
    const batch = await order({ count: 3, faceValue: null });
    await post(`/v1/card-batches/${batch.id}/decision`, { approve: true }, owner);
    const csv = (await printFile(batch.id, 'csv')).body.toString().trim().split('\r\n').slice(1).map((l) => l.split(','));
    const missing = await post('/v1/cards/activate', { code: csv[0]![2], currency: 'EUR' }, h.terminalA.apiKey);
    expect([missing.status, missing.body.error.code]).toEqual([422, 'amount_required']);
    const sold = await post('/v1/cards/activate', { code: csv[0]![2], currency: 'EUR', amount: 7_700 }, h.terminalA.apiKey);
    expect(sold.body.card).toMatchObject({ status: 'active', available: 7_700 });
  });

  it('refuses bad orders', async () => {
    const big = await post('/v1/card-batches', { count: 100_001, faceValue: 100, currency: 'EUR', validityDays: 30 }, finance);
    expect([big.status, big.body.error.code]).toEqual([400, 'validation_error']);
    const support = await post('/v1/card-batches', { count: 1, faceValue: 100, currency: 'EUR', validityDays: 30, issuingStoreId: randomUUID() }, finance);
    expect([support.status, support.body.error.code]).toEqual([404, 'not_found']);
  });
});
