// Monthly clearing, `clearing-<yyyy-mm>`: freeze the period -> compute every party's position from
// the ledger -> one child workflow per billing party renders and e-mails its statement -> wait for
// finance to approve (or ask for a rerun) -> close. Started by the `clearing-monthly` schedule (via
// scheduledClearingWorkflow) or on demand through the API.
//
// Everything it computes is a function of the frozen period, so a rerun or a replay after a crash
// gives the same numbers and the same documents.

import {
  ApplicationFailure, condition, executeChild, ParentClosePolicy, patched, proxyActivities,
  setHandler, startChild, upsertSearchAttributes, WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { ClearingActivities, StatementTarget } from '../activities/clearing.ts';
import { previousPeriodIn } from '../domain/period.ts';
import {
  approveClearingUpdate, clearingProgressQuery, clearingWorkflowId, NOT_AWAITING_APPROVAL, rerunClearingUpdate, statementWorkflowId,
  type ClearingProgress, type ClearingStep,
} from './names/clearing.ts';
import {
  VoucherAmount, VoucherBillingPartyId, VoucherCurrency, VoucherPeriod, VoucherStatus,
} from './search-attributes.ts';

export {
  approveClearingUpdate, clearingProgressQuery, NOT_AWAITING_APPROVAL, rerunClearingUpdate, type ClearingProgress, type ClearingStep,
} from './names/clearing.ts';

// Database or SMTP outages only delay a clearing: these retry until they succeed or are refused
// for a business reason (non-retryable). Computing a large month takes a while.
const { freezePeriod, computePositions, awaitApproval, reopenForRerun, closePeriod } = proxyActivities<ClearingActivities>({
  startToCloseTimeout: '30 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes' },
});

const { renderStatement, emailStatement, deliverStatement } = proxyActivities<ClearingActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * A statement is rendered and e-mailed by one activity: two workflow tasks and one activity task per
 * party instead of three and two. Added after statements had run as two activities.
 */
export const STATEMENT_ONE_ACTIVITY_PATCH = 'clearing-statement-one-activity';

/** Statements in flight at once: each waits mostly on Temporal and SMTP round trips, not CPU. */
const STATEMENT_LANES = 50;

/**
 * Computations of one period at most (the first and its reruns). Each adds a child workflow per
 * party to the history; the cap keeps a month's history far below Temporal's limits (50,000
 * events) even with hundreds of parties, and a month needing more reruns is a case for support.
 */
export const MAX_COMPUTATIONS = 20;

/** The rerun reopens the period first: added after clearings were already waiting for approval. */
export const RERUN_REOPENS_PATCH = 'clearing-rerun-reopens-period';

export async function clearingWorkflow(input: { period: string; maxComputations?: number }): Promise<ClearingProgress> {
  const { period } = input;
  const progress: ClearingProgress = { period, step: 'freezing', runs: 0, parties: 0, statementsDone: 0, approvedBy: null };
  let approvedBy: string | null = null;
  let rerunRequested = false;

  const step = (next: ClearingStep) => {
    progress.step = next;
    upsertSearchAttributes([{ key: VoucherStatus, value: next }]);
  };
  // Approval and rerun exclude each other: whichever is accepted first decides, and the other is
  // refused rather than answered and then silently dropped.
  const refuseUnlessAwaiting = () => {
    if (progress.step !== 'awaiting_approval' || approvedBy !== null || rerunRequested) {
      const state = approvedBy !== null ? 'being closed' : rerunRequested ? 'being computed again' : progress.step;
      throw ApplicationFailure.nonRetryable(`the clearing of ${period} is ${state}, not awaiting approval`, NOT_AWAITING_APPROVAL);
    }
  };
  let computations = 0;
  const refuseRerun = () => {
    refuseUnlessAwaiting();
    if (computations >= (input.maxComputations ?? MAX_COMPUTATIONS)) {
      throw ApplicationFailure.nonRetryable(
        `the clearing of ${period} was computed ${computations} times, the most a period may be; approve it or ask support`,
        NOT_AWAITING_APPROVAL);
    }
  };

  setHandler(clearingProgressQuery, () => progress);
  setHandler(approveClearingUpdate, async ({ approvedBy: who }) => {
    approvedBy ??= who;
    await condition(() => progress.step === 'closed');
    return progress;
  }, { validator: (_approval: { approvedBy: string }) => refuseUnlessAwaiting() });
  setHandler(rerunClearingUpdate, (_rerun: { requestedBy: string }) => {
    rerunRequested = true;
    return progress;
  }, { validator: (_rerun: { requestedBy: string }) => refuseRerun() });

  upsertSearchAttributes([{ key: VoucherPeriod, value: period }]);
  step('freezing');
  await freezePeriod(period);

  for (;;) {
    step('computing');
    const computed = await computePositions(period);
    computations++;
    progress.runs = computed.computeCount;
    progress.parties = computed.parties.length;
    progress.statementsDone = 0;

    step('statements');
    await statementsFor(period, computed.parties, () => progress.statementsDone++);

    await awaitApproval(period);
    step('awaiting_approval');
    await condition(() => approvedBy !== null || rerunRequested);
    if (approvedBy === null) {
      // Clearings that were waiting for approval before this step existed went straight to
      // computing again; they replay that way.
      if (patched(RERUN_REOPENS_PATCH)) await reopenForRerun(period);
      rerunRequested = false;
      continue;
    }
    break;
  }

  step('closing');
  progress.approvedBy = approvedBy;
  await closePeriod(period, approvedBy);
  step('closed');
  return progress;
}

async function statementsFor(period: string, parties: StatementTarget[], done: () => void): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < parties.length) {
      const party = parties[next++]!;
      await executeChild(clearingStatementWorkflow, {
        workflowId: statementWorkflowId(period, party.billingPartyId),
        args: [{ period, billingPartyId: party.billingPartyId }],
        typedSearchAttributes: [
          { key: VoucherPeriod, value: period },
          { key: VoucherBillingPartyId, value: party.billingPartyId },
          { key: VoucherAmount, value: party.net },
          { key: VoucherCurrency, value: party.currency },
          { key: VoucherStatus, value: 'rendering' },
        ],
      });
      done();
    }
  };
  await Promise.all(Array.from({ length: Math.min(STATEMENT_LANES, parties.length) }, lane));
}

/** One billing party's statement: render it, then e-mail it to the party's contact. */
export async function clearingStatementWorkflow(input: { period: string; billingPartyId: string }): Promise<{ pdfSha256: string; sent: boolean }> {
  if (patched(STATEMENT_ONE_ACTIVITY_PATCH)) {
    const { pdfSha256, sent, error } = await deliverStatement(input.period, input.billingPartyId);
    upsertSearchAttributes([{ key: VoucherStatus, value: error ? 'email_failed' : 'sent' }]);
    return { pdfSha256, sent };
  }
  const { pdfSha256 } = await renderStatement(input.period, input.billingPartyId);
  upsertSearchAttributes([{ key: VoucherStatus, value: 'emailing' }]);
  const { sent, error } = await emailStatement(input.period, input.billingPartyId);
  // A bounced address does not hold up the month: the statement shows the error for finance.
  upsertSearchAttributes([{ key: VoucherStatus, value: error ? 'email_failed' : 'sent' }]);
  return { pdfSha256, sent };
}

/**
 * Started by the `clearing-monthly` schedule on the 1st at 02:00 in the centre's time zone: starts
 * `clearing-<previous month>` unless finance already has. The month is read in that time zone, so
 * a catch-up run later that day (or a zone far from UTC) still clears the right one.
 */
export async function scheduledClearingWorkflow(input: { timeZone?: string } = {}): Promise<{ period: string; started: boolean }> {
  const period = previousPeriodIn(new Date(), input.timeZone ?? 'Europe/Berlin');
  try {
    await startChild(clearingWorkflow, {
      workflowId: clearingWorkflowId(period),
      args: [{ period }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
    return { period, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { period, started: false };
    throw err;
  }
}
