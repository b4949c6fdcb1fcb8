// One server span per HTTP request when tracing is on (infra/tracing.ts): it continues a caller's
// W3C traceparent, and its context is active for the rest of the request (hooks, body parsing,
// handler), so the ledger call, the outbox row and any Temporal client call join the same trace.
// The span names the route pattern, never the URL: paths and query strings may carry ids and
// signed-link signatures.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { contextFromCarrier, otelContext, SpanKind, SpanStatusCode, startSpan, tracingActive } from '../infra/tracing.ts';

type RequestSpan = NonNullable<ReturnType<typeof startSpan>>;

const spans = new WeakMap<FastifyRequest, RequestSpan>();

export function traceRequests(app: FastifyInstance): void {
  if (!tracingActive()) return;
  app.addHook('onRequest', (req, _reply, done) => {
    const started = startSpan(req.method, {
      kind: SpanKind.SERVER,
      parent: contextFromCarrier(req.headers as Record<string, unknown>),
      attributes: { 'http.request.method': req.method, 'voucher.request_id': req.id },
    });
    if (!started) return done();
    spans.set(req, started);
    otelContext.with(started.context, done);
  });
  // Body parsing may continue outside the context; enter it again before the handler runs.
  app.addHook('preHandler', (req, _reply, done) => {
    const started = spans.get(req);
    if (!started) return done();
    otelContext.with(started.context, done);
  });
  const end = (req: FastifyRequest, status: number | null) => {
    const started = spans.get(req);
    if (!started) return;
    spans.delete(req);
    const route = req.routeOptions.url;
    if (route) {
      started.span.updateName(`${req.method} ${route}`);
      started.span.setAttribute('http.route', route);
    }
    if (status !== null) {
      started.span.setAttribute('http.response.status_code', status);
      if (status >= 500) started.span.setStatus({ code: SpanStatusCode.ERROR });
    } else {
      started.span.setStatus({ code: SpanStatusCode.ERROR, message: 'client closed the connection' });
    }
    started.span.end();
  };
  app.addHook('onResponse', (req, reply, done) => {
    end(req, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    end(req, null);
    done();
  });
}
