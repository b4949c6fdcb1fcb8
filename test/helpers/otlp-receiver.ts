// A real OTLP/HTTP trace receiver in the test process: accepts POST /v1/traces in protobuf (the
// exporters' default) or JSON, decodes with the OTLP protos that @opentelemetry/otlp-transformer
// ships, and keeps every span with its service name.

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const ExportTraceServiceRequest = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
}

export interface OtlpReceiver {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  requests: number;
  close(): Promise<void>;
}

const hex = (bytes: Uint8Array | string | undefined | null): string =>
  !bytes ? '' : typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('hex');

function attributeValue(v: Record<string, unknown>): unknown {
  if (v.intValue !== undefined && v.intValue !== null) return Number(String(v.intValue)); // a protobuf Long, or a JSON string
  for (const key of ['stringValue', 'boolValue', 'doubleValue']) if (v[key] !== undefined && v[key] !== null) return v[key];
  return undefined;
}

function attributesOf(list: { key: string; value: Record<string, unknown> }[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, attributeValue(a.value ?? {})]));
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const receiver: OtlpReceiver = { url: '', spans: [], requests: 0, close: async () => {} };
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    void body(req).then((raw) => {
      const json = String(req.headers['content-type']).includes('json');
      const message = json ? JSON.parse(raw.toString('utf8')) : ExportTraceServiceRequest.decode(raw);
      receiver.requests++;
      for (const rs of message.resourceSpans ?? []) {
        const service = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
        for (const ss of rs.scopeSpans ?? []) {
          for (const span of ss.spans ?? []) {
            receiver.spans.push({
              service, traceId: hex(span.traceId), spanId: hex(span.spanId), parentSpanId: hex(span.parentSpanId),
              name: span.name, kind: Number(span.kind), attributes: attributesOf(span.attributes),
              links: (span.links ?? []).map((l: { traceId: Uint8Array; spanId: Uint8Array }) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : undefined);
    }).catch((err: Error) => {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(err.message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return receiver;
}

/** The chain of span names from `span` up to its trace's root (parents must have arrived). */
export function ancestry(spans: ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const byId = new Map(spans.filter((s) => s.traceId === span.traceId).map((s) => [s.spanId, s]));
  const chain = [span];
  for (let s = span; s.parentSpanId; ) {
    const parent = byId.get(s.parentSpanId);
    if (!parent) break;
    chain.push(parent);
    s = parent;
  }
  return chain;
}
