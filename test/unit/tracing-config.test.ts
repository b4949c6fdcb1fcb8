import { afterEach, describe, expect, it } from 'vitest';
import { tracingFromEnv } from '../../infra/config.ts';

const VARS = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_SDK_DISABLED', 'OTEL_TRACES_EXPORTER'];
const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));

function withEnv(env: Record<string, string>) {
  for (const v of VARS) delete process.env[v];
  Object.assign(process.env, env);
  return tracingFromEnv();
}

afterEach(() => {
  for (const v of VARS) {
    if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  }
});

describe('tracing configuration (standard OTEL_* variables)', () => {
  it('is off unless an OTLP endpoint is configured', () => {
    expect(withEnv({})).toBeNull();
    expect(withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBeNull();
  });

  it('appends /v1/traces to the base endpoint; the traces endpoint is taken as it is', () => {
    expect(withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({ tracesUrl: 'http://collector:4318/v1/traces', protocol: 'http/protobuf' });
    expect(withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/otlp/traces', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }))
      .toEqual({ tracesUrl: 'https://b/otlp/traces', protocol: 'http/json' });
  });

  it('is off when the SDK or the traces exporter is disabled, and refuses what it cannot do', () => {
    expect(withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBeNull();
    expect(withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeNull();
    expect(() => withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/grpc is not supported/);
    expect(() => withEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/http/);
  });
});
