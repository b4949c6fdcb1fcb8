// OpenTelemetry traces of one process (voucher-api or voucher-worker), exported over OTLP/HTTP.
//
// Off unless an OTLP endpoint is configured (infra/config.ts, the standard OTEL_* variables): then
// nothing is registered, the OpenTelemetry API stays its built-in no-op, no Temporal interceptor is
// installed and every helper here returns at its first line. On, one trace follows a till's call
// from the HTTP request (api/tracing.ts) through the ledger transaction, the outbox row that carries
// its context (services/outbox-relay.ts), the Temporal client call, the workflow run and its
// activities (the Temporal interceptors, workflows/tracing-interceptors.ts in the workflow bundle).

import {
  context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace,
  type Attributes, type Context, type Link, type Span, type Tracer,
} from '@opentelemetry/api';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ClientInterceptors } from '@temporalio/client';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';
import type { TracingConfig } from './config.ts';

/** A trace context as propagated (W3C traceparent and tracestate): what an outbox row carries. */
export type TraceCarrier = Record<string, string>;

interface ActiveTracing {
  provider: NodeTracerProvider;
  processor: SpanProcessor;
  resource: Resource;
  tracer: Tracer;
}

let active: ActiveTracing | null = null;

/** True once startTracing() has registered an exporter in this process. */
export function tracingActive(): boolean {
  return active !== null;
}

/**
 * Registers the tracer provider (AsyncLocalStorage context, W3C propagation, batch export) for
 * this process. `serviceName` is the default of OTEL_SERVICE_NAME. Returns a flush-and-stop
 * function for shutdown; a no-op when tracing is not configured.
 */
export function startTracing(serviceName: string, config: TracingConfig | null): { shutdown(): Promise<void> } {
  if (!config || active) return { async shutdown() {} };
  // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME win over the process's own name.
  const resource = new Resource({ 'service.name': serviceName }).merge(envDetectorSync.detect());
  // The exporters read OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_TIMEOUT (10 s by default).
  const exporter = config.protocol === 'http/json'
    ? new OtlpJsonExporter({ url: config.tracesUrl })
    : new OtlpProtobufExporter({ url: config.tracesUrl });
  // Batched (OTEL_BSP_* variables): a request never waits for the collector.
  const processor = new BatchSpanProcessor(exporter);
  // The sampler comes from OTEL_TRACES_SAMPLER (default: parent-based, always on).
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  active = { provider, processor, resource, tracer: trace.getTracer('voucher-engine') };
  return {
    async shutdown() {
      if (!active) return;
      const { provider: p } = active;
      active = null;
      await p.shutdown().catch(() => {});
    },
  };
}

/** Interceptors for a Temporal client: its starts, signals and updates carry the trace. */
export function temporalClientInterceptors(): ClientInterceptors | undefined {
  return active ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}

/** Interceptors of the worker's activities: each execution is a span under its workflow's. */
export function temporalActivityInterceptors(): Pick<WorkerInterceptors, 'activity'> {
  if (!active) return {};
  return {
    activity: [(ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    })],
  };
}

/**
 * The sink through which workflow code (in its sandbox) hands its finished spans to this
 * process's exporter. Always registered, because the workflow bundle always carries the tracing
 * interceptor: without tracing here, spans of a workflow started by a traced client are dropped.
 */
export function temporalTracingSinks(): InjectedSinks<Record<string, never>> {
  if (active) return { exporter: makeWorkflowExporter(active.processor, active.resource) } as unknown as InjectedSinks<Record<string, never>>;
  return { exporter: { export: { fn: () => {}, callDuringReplay: false } } } as unknown as InjectedSinks<Record<string, never>>;
}

/** The current trace context as a carrier for a database row; null without tracing or span. */
export function currentTraceCarrier(): TraceCarrier | null {
  if (!active) return null;
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? carrier : null;
}

/** The context a carrier (from a row or a request's headers) continues. */
export function contextFromCarrier(carrier: Record<string, unknown> | null | undefined): Context {
  if (!carrier) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** A span link to each carried context (work done together for several traces). */
export function linksFromCarriers(carriers: (TraceCarrier | null | undefined)[]): Link[] {
  const links: Link[] = [];
  for (const carrier of carriers) {
    const span = carrier ? trace.getSpanContext(contextFromCarrier(carrier)) : undefined;
    if (span) links.push({ context: span });
  }
  return links;
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Parent context; the active one when omitted. */
  parent?: Context;
  links?: Link[];
}

/**
 * Runs `fn` inside a new span (its context active), ending it when `fn` settles and marking it
 * failed when `fn` throws. Without tracing, `fn` runs as it is.
 */
export async function withSpan<T>(name: string, options: SpanOptions, fn: (span: Span | null) => Promise<T>): Promise<T> {
  if (!active) return fn(null);
  const parent = options.parent ?? context.active();
  const span = active.tracer.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
    throw err;
  } finally {
    span.end();
  }
}

/** Starts a span for the caller to end (e.g. an HTTP request across hooks); null without tracing. */
export function startSpan(name: string, options: SpanOptions): { span: Span; context: Context } | null {
  if (!active) return null;
  const parent = options.parent ?? context.active();
  const span = active.tracer.startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes, links: options.links }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

export { context as otelContext, SpanKind, SpanStatusCode };
