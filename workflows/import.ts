// Legacy import, `import-<id>` (README, "Importing existing vouchers"): stage both files in chunks
// -> check across rows -> (stop, or wait for an operator to accept the rejections) -> publish into
// the ledger in one transaction ending with the reconciliation -> clean up. The files and their
// rows never enter the workflow's history: activities stream them from disk into PostgreSQL, and
// the workflow sees counts.

import { ApplicationFailure, condition, patched, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { stagingPercent } from '../domain/legacy-import.ts';
import type { ImportActivities } from '../activities/import.ts';
import type { Reconciliation } from '../services/legacy-import/store.ts';
import { VoucherProgress, VoucherStatus } from './search-attributes.ts';
import {
  acceptImportUpdate, cancelImportUpdate, IMPORT_NOT_AWAITING_ACCEPTANCE, importProgressQuery, type ImportProgress, type ImportStep,
} from './names/import.ts';

export { acceptImportUpdate, cancelImportUpdate, IMPORT_NOT_AWAITING_ACCEPTANCE, importProgressQuery, type ImportProgress, type ImportStep };


const { stageImportFile, setImportStatus } = proxyActivities<ImportActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// Set-based passes over all staged rows: minutes for millions of them.
const { checkImport, cleanUpImport } = proxyActivities<ImportActivities>({
  startToCloseTimeout: '2 hours',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes' },
});

// One transaction over the whole import: long for a million vouchers; heartbeats show it is alive.
const { publishImport } = proxyActivities<ImportActivities>({
  startToCloseTimeout: '3 hours',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes' },
});

/** How long a portal import waits for an operator's decision before it gives up. */
const ACCEPTANCE_WAIT = '7 days';

export async function importWorkflow(input: { importId: string; dryRun: boolean; waitForAcceptance: boolean }): Promise<ImportProgress> {
  const progress: ImportProgress = {
    importId: input.importId, step: 'staging', percent: 0, vouchers: null, history: null, summary: null, reconciled: null, error: null,
  };
  let decision: 'accepted' | 'cancelled' | null = null;
  const step = (next: ImportStep, percent = progress.percent) => {
    progress.step = next;
    progress.percent = percent;
    upsertSearchAttributes([{ key: VoucherStatus, value: next }, { key: VoucherProgress, value: percent }]);
  };
  const refuseUnlessAwaiting = () => {
    if (progress.step !== 'awaiting_acceptance' || decision !== null) {
      throw ApplicationFailure.nonRetryable(`import ${input.importId} is ${progress.step}, not awaiting acceptance`, IMPORT_NOT_AWAITING_ACCEPTANCE);
    }
  };
  setHandler(importProgressQuery, () => progress);
  setHandler(acceptImportUpdate, ({ reportSha256 }) => {
    decision = 'accepted';
    void reportSha256;
    return progress;
  }, { validator: ({ reportSha256 }: { reportSha256: string; acceptedBy: string }) => {
    refuseUnlessAwaiting();
    if (reportSha256 !== progress.summary?.reportSha256) {
      throw ApplicationFailure.nonRetryable('the report changed since it was shown; read it again', IMPORT_NOT_AWAITING_ACCEPTANCE);
    }
  } });
  setHandler(cancelImportUpdate, () => {
    decision = 'cancelled';
    return progress;
  }, { validator: (_c: { cancelledBy: string }) => refuseUnlessAwaiting() });

  step('staging', 0);
  for (const file of ['vouchers', 'history'] as const) {
    for (;;) {
      const p = await stageImportFile(input.importId, file);
      progress[file] = p;
      const bytes = (progress.vouchers?.bytesDone ?? 0) + (progress.history?.bytesDone ?? 0);
      if (patched('import-progress-monotonic') && p.importBytesTotal !== undefined) {
        // Against both files' bytes from the start: the history file's size was unknown while the
        // vouchers were staged, so the bar fell back when its staging began.
        step('staging', stagingPercent(progress.percent, bytes, p.importBytesTotal));
      } else {
        const total = (progress.vouchers?.bytesTotal ?? 0) + (progress.history?.bytesTotal ?? p.bytesTotal);
        step('staging', Math.min(80, Math.floor((80 * bytes) / Math.max(total, 1))));
      }
      if (p.done) break;
    }
  }

  step('checking', 80);
  const checked = await checkImport(input.importId);
  progress.summary = checked.summary;
  let accepted = checked.accepted;
  if (!accepted && input.waitForAcceptance && !input.dryRun) {
    await setImportStatus(input.importId, 'awaiting_acceptance');
    step('awaiting_acceptance', 85);
    await condition(() => decision !== null, ACCEPTANCE_WAIT);
    accepted = decision === 'accepted';
  }
  if (input.dryRun || !accepted) {
    await cleanUpImport(input.importId);
    const end = input.dryRun ? 'dry_run_completed' : 'rejected';
    await setImportStatus(input.importId, end);
    step(end, 100);
    return progress;
  }

  await setImportStatus(input.importId, 'loading');
  step('loading', 90);
  try {
    await publishImport(input.importId);
    progress.reconciled = true;
  } catch (err) {
    progress.reconciled = false;
    progress.error = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    await setImportStatus(input.importId, 'failed');
    await cleanUpImport(input.importId);
    step('failed', 100);
    return progress;
  }
  await cleanUpImport(input.importId);
  step('completed', 100);
  return progress;
}

export type { Reconciliation };
