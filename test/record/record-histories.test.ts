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
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { loadConfig } from '../../infra/config.ts';
import { createApiClient, createStore, createTerminal } from '../../services/directory.ts';
import { cancelPurchaseUpdate } from '../../workflows/purchase.ts';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startWorkerFor } from '../../infra/worker-app.ts';
import { cardExpiryWorkflow } from '../../workflows/card-expiry.ts';
import { housekeepingWorkflow } from '../../workflows/housekeeping.ts';
import { scheduledClearingWorkflow } from '../../workflows/clearing.ts';
import { voucherResendWorkflow } from '../../workflows/voucher-resend.ts';
import { buildDataset, moveIntoPeriod } from '../helpers/clearing-dataset.ts';
import { historyToJson } from '../helpers/history-json.ts';
import { call, posRef, startHarness, startWorker, waitFor, type Harness } from '../helpers/harness.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';
import { startStripeProxy, type StripeProxy } from '../helpers/stripe-proxy.ts';
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

  it('card expiry and housekeeping', async () => {
    const expiry = `card-expiry-${randomUUID()}`;
    await h.client.workflow.execute(cardExpiryWorkflow, { workflowId: expiry, taskQueue: h.config.taskQueue, args: [] });
    await record('card-expiry', expiry);
    const housekeeping = `housekeeping-${randomUUID()}`;
    await h.client.workflow.execute(housekeepingWorkflow, {
      workflowId: housekeeping, taskQueue: h.config.taskQueue, args: [{ idempotencyRetentionHours: 72 }] });
    await record('housekeeping', housekeeping);
  });
});

async function issue(): Promise<{ code: string }> {
  const res = await call(h, 'POST', '/v1/cards', { body: { amount: 2_000, currency: 'EUR' }, idempotencyKey: randomUUID() });
  expect(res.status).toBe(200);
  return { code: res.body.code };
}
