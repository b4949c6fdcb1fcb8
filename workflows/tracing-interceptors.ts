// Workflow interceptors for OpenTelemetry: bundled with the workflow code (infra/worker.ts,
// `workflowInterceptorModules`), so the prebuilt bundle serves workers with and without tracing.
// Not a workflow; the one workflow-side module that imports more than @temporalio/workflow, and
// what it imports (the Temporal interceptors package) is built for the workflow sandbox.
//
// A workflow is traced only when its start carried a trace (the client interceptor's header, set
// when the API or the worker's outbox relay runs with tracing on). Every other workflow runs
// exactly as without this module: no span objects, no sink calls, no SDK flags, so histories
// recorded before tracing existed replay unchanged. The header is in the history, so a replay
// takes the same branch as the first run.

import type {
  WorkflowInboundCallsInterceptor, WorkflowInterceptors, WorkflowInternalsInterceptor, WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import type {
  OpenTelemetryInboundInterceptor, OpenTelemetryInternalsInterceptor, OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';

/** The header the Temporal OpenTelemetry interceptors put the trace context in. */
const TRACE_HEADER = '_tracer-data';

type Otel = { inbound: OpenTelemetryInboundInterceptor; outbound: OpenTelemetryOutboundInterceptor; internals: OpenTelemetryInternalsInterceptor };

/**
 * The OpenTelemetry modules, evaluated by the first traced workflow. Every workflow gets fresh
 * module state in the sandbox, so a static import evaluated OpenTelemetry's SDK for each one: a
 * profile of a webhook burst had a third of the workflow thread's time in it, for workflows never
 * traced. A synchronous require (webpack keeps the code in the bundle and evaluates it on first
 * call) leaves every interceptor's timing as it was, which replay depends on.
 */
function loadTracing(): Otel {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- evaluated on first use, see above
  const m = require('@temporalio/interceptors-opentelemetry/lib/workflow/index.js') as typeof import('@temporalio/interceptors-opentelemetry/lib/workflow/index.js');
  return { inbound: new m.OpenTelemetryInboundInterceptor(), outbound: new m.OpenTelemetryOutboundInterceptor(), internals: new m.OpenTelemetryInternalsInterceptor() };
}

export const interceptors = (): WorkflowInterceptors => {
  let traced = false;
  // Created on first use: constructing them registers a tracer in the sandbox.
  let otel: Otel | null = null;
  const tracing = () => (otel ??= loadTracing());

  const inbound: WorkflowInboundCallsInterceptor = {
    execute(input, next) {
      traced = TRACE_HEADER in input.headers;
      return traced ? tracing().inbound.execute(input, next) : next(input);
    },
    // A signal is traced by its own header (the till's capture arrives in the capture's trace).
    handleSignal(input, next) {
      return TRACE_HEADER in input.headers ? tracing().inbound.handleSignal(input, next) : next(input);
    },
    handleUpdate(input, next) {
      return TRACE_HEADER in input.headers ? tracing().inbound.handleUpdate(input, next) : next(input);
    },
  };

  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: (input, next) => (traced ? tracing().outbound.scheduleActivity(input, next) : next(input)),
    scheduleLocalActivity: (input, next) => (traced ? tracing().outbound.scheduleLocalActivity(input, next) : next(input)),
    startChildWorkflowExecution: (input, next) => (traced ? tracing().outbound.startChildWorkflowExecution(input, next) : next(input)),
    signalWorkflow: (input, next) => (traced ? tracing().outbound.signalWorkflow(input, next) : next(input)),
    continueAsNew: (input, next) => (traced ? tracing().outbound.continueAsNew(input, next) : next(input)),
    getLogAttributes: (input, next) => (traced ? tracing().outbound.getLogAttributes(input, next) : next(input)),
  };

  const internals: WorkflowInternalsInterceptor = {
    dispose(input, next) {
      if (otel) return otel.internals.dispose(input, next);
      next(input);
    },
  };

  return { inbound: [inbound], outbound: [outbound], internals: [internals] };
};
