// OpenTelemetry traces from the till's HTTP request to the workflow and its activities, exported
// over OTLP/HTTP by the API and worker processes to a real receiver in this process. The
// redemption workflow is started by the worker's outbox relay, not by the request: the trace
// context travels in the outbox row, so the workflow's spans are children of the request's.

import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCard, startHarness, waitFor, type Harness } from '../helpers/harness.ts';
import { startEngineProcesses, type EngineProcesses } from '../helpers/engine-processes.ts';
import { ancestry, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { startMailbox, type Mailbox } from '../helpers/smtp.ts';

const SERVER = 2;

let h: Harness;
let receiver: OtlpReceiver;
let engine: EngineProcesses;
let mailbox: Mailbox;

beforeAll(async () => {
  // Store A's holds live 3 s: the first hold expires, and its workflow runs the expiry activity.
  h = await startHarness({ worker: false, holdTtlSeconds: 3 });
  receiver = await startOtlpReceiver();
  mailbox = await startMailbox();
  engine = await startEngineProcesses(h, {
    logDir: mkdtempSync(path.join(tmpdir(), 'voucher-tracing-')),
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '200', SMTP_URL: mailbox.url },
  });
}, 180_000);
afterAll(async () => {
  await engine?.stop();
  await receiver?.close();
  await mailbox?.close();
  await h?.close();
});

async function post(route: string, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${h.terminalA.apiKey}` }) {
  const res = await fetch(engine.apiUrl + route, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() as any };
}

/** Waits for a span matching `pick` whose chain of parents reaches a server span of voucher-api. */
async function rootedSpan(pick: (s: ReceivedSpan) => boolean): Promise<ReceivedSpan[]> {
  return waitFor(async () => {
    for (const span of receiver.spans.filter(pick)) {
      const chain = ancestry(receiver.spans, span);
      const root = chain.at(-1)!;
      if (root.kind === SERVER && root.service === 'voucher-api' && !root.parentSpanId) return chain;
    }
    return undefined;
  }, 60_000, 250);
}

const names = (chain: ReceivedSpan[]) => chain.map((s) => s.name);

describe('tracing across processes', () => {
  it('follows an authorization from the HTTP request through the outbox to the workflow and its expiry activity', async () => {
    const card = await issueCard(h, 5_000);
    const auth = await post('/v1/redemptions', { code: card.code, amount: 1_000, currency: 'EUR', posReference: `trace-${randomUUID()}` });
    expect(auth.status).toBe(200);

    const chain = await rootedSpan((s) => s.name === 'RunActivity:expireHold');
    expect(names(chain)).toEqual([
      'RunActivity:expireHold',
      'StartActivity:expireHold',
      'RunWorkflow:redemptionWorkflow',
      'StartWorkflow:redemptionWorkflow',
      'outbox relay redemption_started',
      'ledger ledger_authorize',
      'POST /v1/redemptions',
    ]);
    // One trace, two processes: the request and its ledger call in the API, the rest in the worker.
    expect(new Set(chain.map((s) => s.traceId)).size).toBe(1);
    expect(chain.map((s) => s.service)).toEqual([...Array(5).fill('voucher-worker'), 'voucher-api', 'voucher-api']);
    const request = chain.at(-1)!;
    expect(request.attributes).toMatchObject({ 'http.route': '/v1/redemptions', 'http.request.method': 'POST', 'http.response.status_code': 200 });
    expect(chain[0]!.attributes).toMatchObject({ temporalWorkflowId: expect.stringMatching(/^redemption-/) });
    // No span carries the card code.
    expect(JSON.stringify(receiver.spans)).not.toContain(card.code);
  }, 90_000);

  it('puts the capture\'s signal-with-start and the workflow\'s signal handling in the capture\'s trace', async () => {
    const card = await issueCard(h, 5_000);
    const posReference = `trace-${randomUUID()}`;
    const auth = await post('/v1/redemptions', { code: card.code, amount: 700, currency: 'EUR', posReference });
    expect(auth.status).toBe(200);
    const capture = await post(`/v1/redemptions/${auth.body.id}/capture`, {});
    expect(capture.status).toBe(200);

    const workflowId = `redemption-${h.terminalA.id}-${posReference}`;
    const chain = await rootedSpan((s) => s.name === 'HandleSignal:holdSettled'
      && receiver.spans.some((p) => p.spanId === s.parentSpanId && p.attributes.temporalWorkflowId === workflowId));
    expect(names(chain)).toEqual([
      'HandleSignal:holdSettled',
      'SignalWithStartWorkflow:redemptionWorkflow',
      'outbox relay redemption_settled',
      'ledger ledger_settle_hold',
      'POST /v1/redemptions/:holdId/capture',
    ]);
    expect(new Set(chain.map((s) => s.traceId)).size).toBe(1);
  }, 90_000);

  it('follows a Print@Home order from the request into the purchase workflow and its activities', async () => {
    const order = await post('/v1/orders', { amount: 2_000, currency: 'EUR', email: 'traced@example.test' }, { 'idempotency-key': randomUUID() });
    expect(order.status, JSON.stringify(order.body)).toBe(200);
    // The workflow's span ends with the workflow: pay, so the voucher is issued and mailed.
    const paid = await post(`/v1/orders/${order.body.orderId}/dev-confirm`, {}, { 'x-order-token': order.body.accessToken });
    expect(paid.status, JSON.stringify(paid.body)).toBe(200);
    const workflowId = `purchase-${order.body.orderId}`;
    const chain = await rootedSpan((s) => s.name === 'RunActivity:createPayment' && s.attributes.temporalWorkflowId === workflowId);
    expect(names(chain)).toEqual([
      'RunActivity:createPayment',
      'StartActivity:createPayment',
      'RunWorkflow:purchaseWorkflow',
      'UpdateWithStartWorkflow:paymentReady',
      'POST /v1/orders',
    ]);
    expect(new Set(chain.map((s) => s.traceId)).size).toBe(1);
    // The payment confirmation is a request of its own, with the workflow's signal in its trace.
    const confirmed = await rootedSpan((s) => s.name.startsWith('HandleSignal:') && receiver.spans.some((p) =>
      p.spanId === s.parentSpanId && p.attributes.temporalWorkflowId === workflowId));
    expect(confirmed.at(-1)!.name).toBe('POST /v1/orders/:orderId/dev-confirm');
  }, 90_000);
});
