// Where a workflow's time goes, from its Temporal history: the gap before each event, labelled
// by the event pair ("ActivityTaskScheduled(issueCard) -> ActivityTaskStarted(issueCard)" is
// queue wait, "... Started -> Completed" the activity's run, "WorkflowTaskScheduled ->
// WorkflowTaskStarted" the wait for a worker to pick up the workflow code).

import type { temporal } from '@temporalio/proto';
import proto from '@temporalio/proto';
import { percentile } from './load.ts';

// @temporalio/proto is CommonJS: Node's ESM loader sees only its default export.
const { EventType } = proto.temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface Step {
  label: string;
  ms: number;
}

const camel = (type: number) => String(EventType[type] ?? type).replace(/^EVENT_TYPE_/, '').toLowerCase()
  .replace(/(^|_)(\w)/g, (_, __, c: string) => c.toUpperCase());
const toMs = (t: HistoryEvent['eventTime']) => {
  const s = t?.seconds as number | { toNumber(): number } | null | undefined;
  return (typeof s === 'object' && s ? s.toNumber() : Number(s ?? 0)) * 1000 + (t?.nanos ?? 0) / 1e6;
};

/** The gaps between consecutive events, from the first event of type `from` (e.g. the webhook's signal) on. */
export function historySteps(events: HistoryEvent[], from = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED): Step[] {
  const start = events.findIndex((e) => e.eventType === from);
  if (start < 0) return [];
  const activityOf = new Map<string, string>();
  for (const e of events) {
    const a = e.activityTaskScheduledEventAttributes;
    if (a) activityOf.set(String(e.eventId), a.activityType?.name ?? '?');
  }
  // Workflow tasks are numbered from the signal on (#1 reacts to the payment, #2 to the first
  // activity's result, ...), so the same task lines up across purchases.
  let task = 0;
  const names = events.map((e, i) => {
    if (i >= start && e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) task++;
    if (e.workflowTaskScheduledEventAttributes || e.workflowTaskStartedEventAttributes || e.workflowTaskCompletedEventAttributes) {
      return `${camel(e.eventType ?? 0)}#${task}`;
    }
    const scheduled = e.activityTaskScheduledEventAttributes ? e.eventId
      : e.activityTaskStartedEventAttributes?.scheduledEventId ?? e.activityTaskCompletedEventAttributes?.scheduledEventId;
    return scheduled != null ? `${camel(e.eventType ?? 0)}(${activityOf.get(String(scheduled))})` : camel(e.eventType ?? 0);
  });
  const steps: Step[] = [];
  for (let i = start + 1; i < events.length; i++) {
    steps.push({ label: `${names[i - 1]} -> ${names[i]}`, ms: toMs(events[i]!.eventTime) - toMs(events[i - 1]!.eventTime) });
  }
  return steps;
}

/** What a step's time is: waiting in a task queue for a worker, running workflow code, running an activity. */
function category(label: string): string {
  if (/Scheduled\S* -> \w+Started/.test(label)) return 'waiting for a worker (task queue dispatch)';
  if (/WorkflowTaskStarted\S* -> WorkflowTaskCompleted/.test(label)) return 'workflow tasks (worker runs workflow code)';
  const activity = /ActivityTaskStarted\((\w+)\) -> ActivityTaskCompleted/.exec(label);
  return activity ? `activity ${activity[1]}` : 'other (commands, timers, search attributes)';
}

/** Median and p99 per label over many workflows, in order of first appearance, with their share of the total. */
export function summarizeSteps(runs: Step[][]): string[] {
  const byLabel = new Map<string, number[]>();
  for (const run of runs) for (const s of run) (byLabel.get(s.label) ?? byLabel.set(s.label, []).get(s.label)!).push(s.ms);
  const totals = runs.map((r) => r.reduce((sum, s) => sum + s.ms, 0));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
  const all = mean(totals);
  const lines = [`  ${'step'.padEnd(84)} ${'n'.padStart(4)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'share'.padStart(6)}`];
  for (const [label, xs] of byLabel) {
    // Share of the mean total: a step that only some workflows have weighs accordingly.
    const share = (xs.reduce((a, b) => a + b, 0) / runs.length / all) * 100;
    if (share < 0.5) continue;
    lines.push(`  ${label.padEnd(84)} ${String(xs.length).padStart(4)} ${percentile(xs, 50).toFixed(0).padStart(7)} `
      + `${percentile(xs, 99).toFixed(0).padStart(7)} ${share.toFixed(0).padStart(5)}%`);
  }
  const byCategory = new Map<string, number[]>();
  for (const run of runs) {
    const sums = new Map<string, number>();
    for (const s of run) sums.set(category(s.label), (sums.get(category(s.label)) ?? 0) + s.ms);
    for (const [c, ms] of sums) (byCategory.get(c) ?? byCategory.set(c, []).get(c)!).push(ms);
  }
  lines.push('  per purchase, summed by kind:');
  for (const [c, xs] of [...byCategory].sort((a, b) => percentile(b[1], 50) - percentile(a[1], 50))) {
    lines.push(`    ${c.padEnd(82)} ${String(xs.length).padStart(4)} ${percentile(xs, 50).toFixed(0).padStart(7)} ${percentile(xs, 99).toFixed(0).padStart(7)}`);
  }
  lines.push(`  ${'total (signal -> workflow completed)'.padEnd(84)} ${String(runs.length).padStart(4)} `
    + `${percentile(totals, 50).toFixed(0).padStart(7)} ${percentile(totals, 99).toFixed(0).padStart(7)}`);
  return lines;
}
