// Records a real history of every workflow type (`npm run record:histories`): each scenario runs
// on the real stack (API, worker, PostgreSQL, Temporal, stripe-mock behind the state proxy, SMTP),
// then its history is fetched from Temporal and saved under test/fixtures/histories/ in Temporal's
// JSON history format. test/integration/workflow-replay.test.ts replays them against the current
// workflow code, so a change that running executions could not replay fails the build.
//
// Not part of `npm test`. Each recording goes to a folder of its own, named after the commit whose
// workflow code made it (or RECORD_AS): run it after a workflow change (versioned with
// `patched()`) and commit the new folder beside the old ones. Keep the old: they are the histories
// of executions that may still be running.

import { execSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { loadConfig } from '../../infra/config.ts';
import { createApiClient, createBillingParty, createStore, createTerminal } from '../../services/directory.ts';
import { cancelPurchaseUpdate } from '../../workflows/purchase.ts';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startWorkerFor } from '../../infra/worker-app.ts';
import { cardExpiryWorkflow } from '../../workflows/card-expiry.ts';
import { housekeepingWorkflow } from '../../workflows/housekeeping.ts';
import { holdExpirySweepWorkflow } from '../../workflows/hold-expiry-sweep.ts';
import { scheduledClearingWorkflow } from '../../workflows/clearing.ts';
import { voucherResendWorkflow } from '../../workflows/voucher-resend.ts';
import { cardExpiryRemindersWorkflow } from '../../workflows/card-expiry-reminders.ts';
import { createImport } from '../../services/legacy-import/store.ts';
import { acceptImport, importProgress, startImportWorkflow, waitForImport } from '../../services/legacy-import/temporal.ts';
import { buildDataset, moveIntoPeriod } from '../helpers/clearing-dataset.ts';
import { historyToJson } from '../helpers/history-json.ts';
import { call, posRef, startHarness, startWorker, waitFor, type Harness } from '../helpers/harness.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';
import { startStripeProxy, type StripeProxy } from '../helpers/stripe-proxy.ts';
import { startWebhookReceiver } from '../helpers/webhook-receiver.ts';
import { sendStripeWebhook, TEST_WEBHOOK_SECRET } from '../helpers/stripe-webhook.ts';

const LABEL = process.env.RECORD_AS ?? execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
const FIXTURES = path.resolve('test/fixtures/histories', LABEL);

let h: Harness;
let mailbox: Mailbox;
let stripe: StripeProxy;

beforeAll(async () => {
  mailbox = await startMailbox();
  stripe = await startStripeProxy(inject('stripeMockUrl'));
  h = await startHarness({
    config: {
      mail: { smtpUrl: mailbox.url, from: 'Vouchers <vouchers@centre.test>' },
      payments: { ...loadConfig().payments, provider: 'stripe', stripeApiBase: stripe.url, stripeWebhookSecret: TEST_WEBHOOK_SECRET },
    },
  });
  h.config.payments.confirmationTimeoutSeconds = 60;
});
afterAll(async () => {
  await h?.close();
  await mailbox?.close();
  await stripe?.close();
});

/** Saves the finished (or waiting) history of `workflowId` as `<name>.json`. */
async function record(name: string, workflowId: string, folder = FIXTURES): Promise<void> {
  mkdirSync(folder, { recursive: true });
  const handle = h.client.workflow.getHandle(workflowId);
  const { type } = await handle.describe();
  const history = await handle.fetchHistory();
  writeFileSync(path.join(folder, `${name}.json`), `${JSON.stringify({ workflowId, workflowType: type, history: historyToJson(history) }, null, 1)}\n`);
}

async function order(amount = 2_500) {
  const email = `rec-${randomUUID().slice(0, 6)}@example.test`;
  const res = await call(h, 'POST', '/v1/orders', { key: null, body: { amount, currency: 'EUR', email }, idempotencyKey: randomUUID() });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const row = await h.deps.db.prisma.order.findUniqueOrThrow({ where: { id: res.body.orderId } });
  return { orderId: row.id, paymentId: row.paymentId!, amount, email, workflowId: `purchase-${row.id}` };
}

async function pay(o: { orderId: string; paymentId: string; amount: number }) {
  stripe.succeed(o.paymentId);
  const res = await sendStripeWebhook(h.baseUrl, { orderId: o.orderId, paymentId: o.paymentId, type: 'payment_intent.succeeded', amount: o.amount });
  expect(res.status).toBe(200);
}

const result = (workflowId: string) => h.client.workflow.getHandle(workflowId).result();

describe('record workflow histories', () => {
  it('purchase: paid, issued, e-mailed; then a resend', async () => {
    const o = await order();
    await pay(o);
    expect((await result(o.workflowId)).status).toBe('fulfilled');
    await record('purchase-fulfilled', o.workflowId);

    const resendId = `voucher-resend-${o.orderId}-${randomUUID()}`;
    await h.client.workflow.execute(voucherResendWorkflow, {
      workflowId: resendId, taskQueue: h.config.taskQueue, args: [{ orderId: o.orderId, resendId: randomUUID() }] });
    await record('voucher-resend', resendId);
  });

  it('purchase: a failed attempt, no success in time, expired; the late success is refunded', async () => {
    h.config.payments.confirmationTimeoutSeconds = 3;
    try {
      const o = await order(1_500);
      await sendStripeWebhook(h.baseUrl, { orderId: o.orderId, paymentId: o.paymentId, type: 'payment_intent.payment_failed' });
      expect((await result(o.workflowId)).status).toBe('expired');
      await record('purchase-expired', o.workflowId);
      await pay(o);
      await result(`late-payment-${o.orderId}`);
      await record('late-payment', `late-payment-${o.orderId}`);
    } finally {
      h.config.payments.confirmationTimeoutSeconds = 60;
    }
  });

  it('purchase: paid while the deadline cancels it (issued), and while support cancels it (refunded)', async () => {
    h.config.payments.confirmationTimeoutSeconds = 2;
    const racing = (o: { orderId: string; paymentId: string; amount: number }) => {
      stripe.beforeCancel = async (id) => {
        if (id !== o.paymentId) return;
        stripe.beforeCancel = null;
        await pay(o);
      };
    };
    try {
      const o = await order(1_800);
      racing(o);
      expect((await result(o.workflowId)).status).toBe('fulfilled');
      await record('purchase-paid-during-expiry', o.workflowId);
    } finally {
      h.config.payments.confirmationTimeoutSeconds = 60;
      stripe.beforeCancel = null;
    }
    const o = await order(2_200);
    racing(o);
    await h.client.workflow.getHandle(o.workflowId).executeUpdate(cancelPurchaseUpdate, {
      args: [{ reason: 'recording', requestedBy: 'recorder' }] });
    expect((await result(o.workflowId)).status).toBe('refunded');
    await record('purchase-paid-during-support-cancel', o.workflowId);
  });

  it('purchase: cancelled by support before payment', async () => {
    const o = await order();
    await h.client.workflow.getHandle(o.workflowId).executeUpdate(cancelPurchaseUpdate, {
      args: [{ reason: 'recording', requestedBy: 'recorder' }] });
    expect((await result(o.workflowId)).status).toBe('expired');
    await record('purchase-cancelled-unpaid', o.workflowId);
  });

  it('purchase: cancelled by support while the e-mail is stuck: sale cancelled, refunded', async () => {
    mailbox.refusing = true;
    const o = await order();
    await pay(o);
    await waitFor(async () => mailbox.refusedCount > 0, 30_000);
    await h.client.workflow.getHandle(o.workflowId).executeUpdate(cancelPurchaseUpdate, {
      args: [{ reason: 'recording', requestedBy: 'recorder' }] });
    mailbox.refusing = false;
    expect((await result(o.workflowId)).status).toBe('refunded');
    await record('purchase-cancelled-paid', o.workflowId);
  }, 90_000);

  it('redemption: captured, and one that expires', async () => {
    const ref = posRef();
    const auth = await call(h, 'POST', '/v1/redemptions', { body: { code: (await issue()).code, amount: 500, currency: 'EUR', posReference: ref } });
    expect(auth.status).toBe(200);
    const workflowId = `redemption-${h.terminalA.id}-${ref}`;
    await waitFor(async () => (await h.client.workflow.getHandle(workflowId).describe().catch(() => null))?.status.name === 'RUNNING');
    expect((await call(h, 'POST', `/v1/redemptions/${auth.body.id}/capture`, { body: {} })).status).toBe(200);
    expect((await result(workflowId)).status).toBe('captured');
    await record('redemption-captured', workflowId);

    const store = await createStore(h.deps.db.prisma, { billingPartyId: h.billingPartyId, name: 'Short holds', holdTtlSeconds: 2 });
    const till = await createTerminal(h.deps.db.prisma, { storeId: store.id, name: 'Till S1' });
    const ref2 = posRef();
    const auth2 = await call(h, 'POST', '/v1/redemptions', { key: till.apiKey, body: { code: (await issue()).code, amount: 500, currency: 'EUR', posReference: ref2 } });
    expect(auth2.status).toBe(200);
    const expiring = `redemption-${till.id}-${ref2}`;
    await waitFor(async () => (await h.client.workflow.getHandle(expiring).describe().catch(() => null)) !== null);
    expect((await result(expiring)).status).toBe('expired');
    await record('redemption-expired', expiring);
  });

  it('clearing: computed, rerun, approved; one statement; the schedule\'s start', async () => {
    const finance = (await createApiClient(h.deps.db.prisma, { name: 'Recorder', role: 'finance' })).apiKey;
    // A month of its own: the namespace keeps the clearings of earlier recordings.
    const period = `${2000 + Math.floor(Math.random() * 24)}-${String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')}`;
    const d = await buildDataset(h, 'rec');
    await moveIntoPeriod(inject('databaseUrl'), d.cardIds, period);
    expect((await call(h, 'POST', `/v1/clearing/periods/${period}/start`, { key: finance })).status).toBe(200);
    let last: unknown;
    const awaiting = (computeCount: number) => waitFor(async () => {
      const res = await call(h, 'GET', `/v1/clearing/periods/${period}`, { key: finance });
      last = res.body;
      return res.body.progress?.step === 'awaiting_approval' && res.body.computeCount === computeCount;
    }, 60_000, 200).catch((err) => { throw new Error(`${err.message}: ${JSON.stringify(last)}`); });
    await awaiting(1);
    await record('clearing-awaiting-approval', `clearing-${period}`);
    expect((await call(h, 'POST', `/v1/clearing/periods/${period}/rerun`, { key: finance, idempotencyKey: randomUUID() })).status).toBe(200);
    await awaiting(2);
    expect((await call(h, 'POST', `/v1/clearing/periods/${period}/approve`, { key: finance, idempotencyKey: randomUUID() })).status).toBe(200);
    await result(`clearing-${period}`);
    await record('clearing-rerun-approved', `clearing-${period}`);
    await record('clearing-statement', `clearing-${period}-${d.parties[0]!.id}`);

    const scheduled = `clearing-scheduled-${randomUUID()}`;
    const started = await h.client.workflow.execute(scheduledClearingWorkflow, {
      workflowId: scheduled, taskQueue: h.config.taskQueue, args: [{ timeZone: 'Europe/Berlin' }] });
    await record('clearing-scheduled', scheduled);
    // The month it started is real work in this database; the recording needs only its start.
    if (started.started) await h.client.workflow.getHandle(`clearing-${started.period}`).terminate('recording only');
  }, 180_000);

  it('settlement: bank details approved (the notice), a closed period settled into SEPA files', async () => {
    const first = (await createApiClient(h.deps.db.prisma, { name: 'Recorder A', role: 'finance' })).apiKey;
    const second = (await createApiClient(h.deps.db.prisma, { name: 'Recorder B', role: 'finance' })).apiKey;
    const period = `${2000 + Math.floor(Math.random() * 24)}-${String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')}`;
    const d = await buildDataset(h, 'set');
    await moveIntoPeriod(inject('databaseUrl'), d.cardIds, period);
    const party = d.parties[2]!.id;
    expect((await call(h, 'POST', `/v1/settlement/bank-details/${party}`, { key: first, body: { iban: 'DE02120300000000202051', bic: 'BYLADEM1001', accountHolder: 'Party 3', mandate: null } })).status).toBe(200);
    const approved = await call(h, 'POST', `/v1/settlement/bank-details/${party}/decision`, { key: second, body: { approve: true } });
    expect(approved.status).toBe(200);
    await result(`bank-details-notice-${approved.body.id}`);
    await record('bank-details-notice', `bank-details-notice-${approved.body.id}`);
    expect((await call(h, 'POST', `/v1/clearing/periods/${period}/start`, { key: first })).status).toBe(200);
    await waitFor(async () => (await call(h, 'GET', `/v1/clearing/periods/${period}`, { key: first })).body.progress?.step === 'awaiting_approval', 60_000, 200);
    expect((await call(h, 'POST', `/v1/clearing/periods/${period}/approve`, { key: first, idempotencyKey: randomUUID() })).status).toBe(200);
    await waitFor(async () => h.client.workflow.getHandle(`settlement-${period}`).result().catch(() => null), 60_000, 200);
    await record('settlement', `settlement-${period}`);
    await record('settlement-party', `settlement-${period}-${party}`);
  }, 180_000);

  it('clearing as it ran before reopenForRerun: computed, rerun, approved (legacy code)', async () => {
    const legacy = await bundleWorkflowCode({
      workflowsPath: path.resolve('test/fixtures/legacy-workflows/clearing-before-ec21734.ts'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) },
    });
    await h.worker!.stop();
    const worker = await startWorkerFor(h.deps, h.client, { workflowBundle: { code: legacy.code } });
    try {
      const finance = (await createApiClient(h.deps.db.prisma, { name: 'Recorder (legacy)', role: 'finance' })).apiKey;
      const period = `${2000 + Math.floor(Math.random() * 24)}-${String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')}`;
      const d = await buildDataset(h, 'legacy');
      await moveIntoPeriod(inject('databaseUrl'), d.cardIds, period);
      expect((await call(h, 'POST', `/v1/clearing/periods/${period}/start`, { key: finance })).status).toBe(200);
      const handle = h.client.workflow.getHandle(`clearing-${period}`);
      const awaiting = (runs: number) => waitFor(async () => {
        const res = await call(h, 'GET', `/v1/clearing/periods/${period}`, { key: finance });
        return res.body.progress?.step === 'awaiting_approval' && res.body.progress?.runs === runs;
      }, 60_000, 200);
      await awaiting(1);
      expect((await call(h, 'POST', `/v1/clearing/periods/${period}/rerun`, { key: finance, idempotencyKey: randomUUID() })).status).toBe(200);
      // Without the reopen step, today's store refuses the second computation: the legacy run
      // fails there. Its history up to that point is what matters: the rerun went straight to
      // computePositions.
      await handle.result().catch(() => undefined);
      await record('clearing-rerun', `clearing-${period}`, path.resolve('test/fixtures/histories/legacy-before-ec21734'));
    } finally {
      await worker.stop();
      h.worker = await startWorker(h.deps, h.client);
    }
  }, 180_000);

  it('legacy import: a clean one, and one whose rejections an operator accepts', async () => {
    const party = await createBillingParty(h.deps.db.prisma, h.deps.pii, { name: 'Legacy', contactEmail: 'legacy@example.test' });
    const dir = mkdtempSync(path.join(tmpdir(), 'record-import-'));
    const fixtures = fileURLToPath(new URL('../fixtures/legacy-import/', import.meta.url));
    const north = await createStore(h.deps.db.prisma, { billingPartyId: party.id, name: `Record North ${randomUUID().slice(0, 6)}` });
    const south = await createStore(h.deps.db.prisma, { billingPartyId: party.id, name: `Record South ${randomUUID().slice(0, 6)}` });
    writeFileSync(path.join(dir, 'stores.csv'), `legacy_store,store\nN1,${north.id}\nS1,${south.id}\n`);
    const run = async (set: string, waitForAcceptance: boolean) => {
      const { record: imp } = await createImport(h.deps.db.pool, {
        vouchersPath: path.join(fixtures, set, 'vouchers.csv'), historyPath: path.join(fixtures, set, 'history.csv'),
        storesPath: path.join(dir, 'stores.csv'), encoding: 'utf8', codeFormat: 'plain', dryRun: false, acceptedPath: null,
        waitForAcceptance, requestedBy: 'record',
      });
      await startImportWorkflow(h.client, h.config, imp);
      return imp.id;
    };
    const clean = await run('clean', false);
    expect((await waitForImport(h.client, clean)).step).toBe('completed');
    await record('import-clean', `import-${clean}`);
    const bad = await run('bad', true);
    const waiting = await waitFor(async () => {
      const p = await importProgress(h.client, bad);
      return p?.step === 'awaiting_acceptance' && p;
    }, 60_000, 200);
    await acceptImport(h.client, bad, waiting.summary!.reportSha256, 'record');
    expect((await waitForImport(h.client, bad)).step).toBe('completed');
    await record('import-accepted', `import-${bad}`);
  }, 180_000);

  it('card expiry and housekeeping', async () => {
    const expiry = `card-expiry-${randomUUID()}`;
    await h.client.workflow.execute(cardExpiryWorkflow, { workflowId: expiry, taskQueue: h.config.taskQueue, args: [] });
    await record('card-expiry', expiry);
    const housekeeping = `housekeeping-${randomUUID()}`;
    await h.client.workflow.execute(housekeepingWorkflow, {
      workflowId: housekeeping, taskQueue: h.config.taskQueue, args: [{ idempotencyRetentionHours: 72 }] });
    await record('housekeeping', housekeeping);

    // A sweep with a release to book: a hold that expires while its workflow's start waits.
    const store = await createStore(h.deps.db.prisma, { billingPartyId: h.billingPartyId, name: 'Sweep holds', holdTtlSeconds: 1 });
    const till = await createTerminal(h.deps.db.prisma, { storeId: store.id, name: 'Till W1' });
    await h.worker!.relay!.stop();
    try {
      const auth = await call(h, 'POST', '/v1/redemptions', { key: till.apiKey, body: { code: (await issue()).code, amount: 300, currency: 'EUR', posReference: posRef() } });
      expect(auth.status).toBe(200);
      await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(auth.body.expiresAt) - Date.now()) + 300));
      const sweep = `hold-expiry-sweep-${randomUUID()}`;
      const swept = await h.client.workflow.execute(holdExpirySweepWorkflow, { workflowId: sweep, taskQueue: h.config.taskQueue, args: [] });
      expect(swept.holds).toBeGreaterThanOrEqual(1);
      await record('hold-expiry-sweep', sweep);
    } finally {
      h.worker!.relay!.start();
    }
  });

  it('card lifecycle: a four-eyes adjustment, a scratch-card batch, expiry reminders', async () => {
    const requester = (await createApiClient(h.deps.db.prisma, { name: 'Recording finance', role: 'finance' })).apiKey;
    const owner = (await createApiClient(h.deps.db.prisma, { name: 'Recording owner', role: 'admin' })).apiKey;
    const card = await call(h, 'POST', '/v1/cards', { body: { amount: 2_000, currency: 'EUR' }, idempotencyKey: randomUUID() });
    const threshold = h.deps.config.cardLifecycle.adjustmentApprovalThreshold;
    h.deps.config.cardLifecycle.adjustmentApprovalThreshold = 0n;
    try {
      const asked = await call(h, 'POST', `/v1/cards/${card.body.card.id}/adjustments`, {
        key: requester, body: { direction: 'up', amount: 500, reason: 'recording' }, idempotencyKey: randomUUID() });
      expect(asked.body.status).toBe('pending');
      await call(h, 'POST', `/v1/card-adjustments/${asked.body.adjustment.id}/decision`, { key: owner, body: { approve: true } });
      expect((await result(asked.body.adjustment.workflowId)).status).toBe('booked');
      await record('card-adjustment-approved', asked.body.adjustment.workflowId);
    } finally {
      h.deps.config.cardLifecycle.adjustmentApprovalThreshold = threshold;
    }
    const batch = await call(h, 'POST', '/v1/card-batches', {
      key: requester, body: { count: 3, faceValue: 1_000, currency: 'EUR', validityDays: 30 }, idempotencyKey: randomUUID() });
    await waitFor(async () => (await call(h, 'GET', `/v1/card-batches/${batch.body.id}`, { key: owner })).body.status === 'awaiting_approval');
    await call(h, 'POST', `/v1/card-batches/${batch.body.id}/decision`, { key: owner, body: { approve: true } });
    expect((await result(batch.body.workflowId)).status).toBe('approved');
    await record('card-batch-approved', batch.body.workflowId);
    const reminders = `card-expiry-reminders-${randomUUID()}`;
    await h.client.workflow.execute(cardExpiryRemindersWorkflow, { workflowId: reminders, taskQueue: h.config.taskQueue, args: [] });
    await record('card-expiry-reminders', reminders);
  });

  it('webhook delivery: a 500, then delivered', async () => {
    const receiver = await startWebhookReceiver();
    const admin = await createApiClient(h.deps.db.prisma, { name: 'recorder admin', role: 'admin' });
    Object.assign(h.config.webhooks, { retryBaseMs: 500, timeoutMs: 2_000 });
    try {
      receiver.answer = (_path, n) => ({ status: n === 1 ? 500 : 200 });
      const res = await call(h, 'POST', '/v1/webhook-endpoints', { key: admin.apiKey, idempotencyKey: randomUUID(), body: { url: `${receiver.url}/record`, eventTypes: ['card.created'] } });
      expect(res.status).toBe(200);
      await issue();
      const { rows: [delivery] } = await waitFor(async () => {
        const r = await h.deps.db.pool.query<{ uid: string }>(`SELECT uid FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'succeeded'`, [res.body.endpoint.id]);
        return r.rows.length ? r : undefined;
      }, 30_000, 200);
      const workflowId = `webhook-delivery-${delivery!.uid}`;
      await result(workflowId);
      await record('webhook-delivery', workflowId);
      await call(h, 'PATCH', `/v1/webhook-endpoints/${res.body.endpoint.id}`, { key: admin.apiKey, body: { enabled: false } });
    } finally {
      await receiver.close();
    }
  });
});

async function issue(): Promise<{ code: string }> {
  const res = await call(h, 'POST', '/v1/cards', { body: { amount: 2_000, currency: 'EUR' }, idempotencyKey: randomUUID() });
  expect(res.status).toBe(200);
  return { code: res.body.code };
}
