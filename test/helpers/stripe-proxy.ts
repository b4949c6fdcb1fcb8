// A recording HTTP proxy in front of stripe-mock. stripe-mock validates every request against
// Stripe's OpenAPI spec and answers from fixtures, but it is stateless: retrieving a PaymentIntent
// always returns a fixture (status requires_payment_method, amount 1099 usd, no metadata), and
// cancelling one always works. The purchase confirms payments by re-reading them, so tests need the
// state a real Stripe account would hold. This proxy forwards every call to stripe-mock unchanged and
// overlays only that state on the answers: what the intent was created with (amount, currency,
// metadata), its status once the test says the shopper paid (what Stripe.js confirming a test card
// does at Stripe), and cancel's refusal of a succeeded intent (`payment_intent_unexpected_state`).
// It also records each call, so tests can count cancels and refunds.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface IntentState {
  id: string;
  amount: number;
  currency: string;
  metadata: Record<string, string>;
  status: 'requires_payment_method' | 'processing' | 'succeeded' | 'canceled';
}

export interface RecordedCall {
  method: string;
  path: string;
  idempotencyKey: string | null;
  params: URLSearchParams;
  status: number;
}

export interface StripeProxy {
  url: string;
  intents: Map<string, IntentState>;
  calls: RecordedCall[];
  /** The shopper's card payment went through at Stripe. */
  succeed(intentId: string): void;
  /** Runs when a cancel arrives, before Stripe decides it: a slow cancel, or a payment racing it. */
  beforeCancel: ((intentId: string) => Promise<void> | void) | null;
  /** Distinct refunds asked for a PaymentIntent (retries with the same idempotency key count once). */
  refundsOf(intentId: string): number;
  close(): Promise<void>;
}

/** `stripeMockUrl` may be given late (a function read at each call), e.g. once a launcher started it. */
export async function startStripeProxy(stripeMockUrl: string | (() => string)): Promise<StripeProxy> {
  const upstream = () => new URL(typeof stripeMockUrl === 'string' ? stripeMockUrl : stripeMockUrl());
  const intents = new Map<string, IntentState>();
  const calls: RecordedCall[] = [];

  const proxy: StripeProxy = {
    url: '',
    intents,
    calls,
    beforeCancel: null,
    succeed(intentId) {
      const intent = intents.get(intentId);
      if (!intent) throw new Error(`no PaymentIntent ${intentId} was created through the proxy`);
      intent.status = 'succeeded';
    },
    refundsOf(intentId) {
      const keys = new Set(calls
        .filter((c) => c.method === 'POST' && c.path === '/v1/refunds' && c.params.get('payment_intent') === intentId && c.status === 200)
        .map((c, i) => c.idempotencyKey ?? `call-${i}`));
      return keys.size;
    },
    close: async () => {},
  };

  async function forward(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; json: any }> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
    }
    const res = await fetch(new URL(req.url!, upstream()), {
      method: req.method, headers, body: req.method === 'GET' || req.method === 'DELETE' ? undefined : new Uint8Array(body),
      signal: AbortSignal.timeout(10_000),
    });
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
    });
    return { status: res.status, headers: out, json: await res.json() };
  }

  function overlay(json: any, intent: IntentState): any {
    return { ...json, id: intent.id, amount: intent.amount, currency: intent.currency, metadata: intent.metadata, status: intent.status };
  }

  async function handle(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; json: any }> {
    const path = new URL(req.url!, 'http://proxy').pathname;
    const params = new URLSearchParams(body.toString('utf8'));
    const intentPath = /^\/v1\/payment_intents\/([^/]+)(\/cancel)?$/.exec(path);

    if (req.method === 'POST' && path === '/v1/payment_intents') {
      const res = await forward(req, body);
      if (res.status === 200) {
        const metadata: Record<string, string> = {};
        for (const [k, v] of params) {
          const m = /^metadata\[(.+)\]$/.exec(k);
          if (m) metadata[m[1]!] = v;
        }
        const intent: IntentState = {
          id: res.json.id, amount: Number(params.get('amount')), currency: params.get('currency') ?? res.json.currency,
          metadata, status: 'requires_payment_method',
        };
        intents.set(intent.id, intent);
        res.json = overlay(res.json, intent);
      }
      return res;
    }

    const intent = intentPath ? intents.get(intentPath[1]!) : undefined;
    if (intent && intentPath![2] && req.method === 'POST') {
      await proxy.beforeCancel?.(intent.id);
      const res = await forward(req, body);
      if (res.status !== 200) return res;
      // Stripe decides at this instant: a payment that succeeded first cannot be cancelled.
      if (intent.status === 'succeeded') {
        return {
          status: 400, headers: res.headers,
          json: { error: {
            type: 'invalid_request_error', code: 'payment_intent_unexpected_state',
            message: `You cannot cancel this PaymentIntent because it has a status of ${intent.status}.`,
            payment_intent: overlay(res.json, intent),
          } },
        };
      }
      intent.status = 'canceled';
      return { ...res, json: overlay(res.json, intent) };
    }
    const res = await forward(req, body);
    if (intent && req.method === 'GET' && res.status === 200) res.json = overlay(res.json, intent);
    return res;
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      handle(req, body).then((out) => {
        calls.push({
          method: req.method!, path: new URL(req.url!, 'http://proxy').pathname,
          idempotencyKey: (req.headers['idempotency-key'] as string | undefined) ?? null,
          params: new URLSearchParams(body.toString('utf8')), status: out.status,
        });
        res.writeHead(out.status, { ...out.headers, 'content-type': 'application/json' });
        res.end(JSON.stringify(out.json));
      }, (err: Error) => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'api_error', message: `proxy: ${err.message}` } }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return proxy;
}
