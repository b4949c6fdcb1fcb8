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

type ImportInput = { importId: string; dryRun: boolean; waitForAcceptance: boolean };

export async function importWorkflow(input: ImportInput): Promise<ImportProgress> {
  const run = new ImportRun(input);
  await stageFiles(run);
  const accepted = await check(run);
  if (input.dryRun || !accepted) return discard(run);
  return publish(run);
}

/** The import's progress and the operator's decision, and the query and updates that read and set them. */
class ImportRun {
  readonly progress: ImportProgress;
  decision: 'accepted' | 'cancelled' | null = null;

  constructor(readonly input: ImportInput) {
    this.progress = {
      importId: input.importId, step: 'staging', percent: 0, vouchers: null, history: null, summary: null, reconciled: null, error: null,
    };
    setHandler(importProgressQuery, () => this.progress);
    setHandler(acceptImportUpdate, () => {
      this.decision = 'accepted';
      return this.progress;
    }, { validator: ({ reportSha256 }: { reportSha256: string; acceptedBy: string }) => {
      this.refuseUnlessAwaiting();
      if (reportSha256 !== this.progress.summary?.reportSha256) {
        throw ApplicationFailure.nonRetryable('the report changed since it was shown; read it again', IMPORT_NOT_AWAITING_ACCEPTANCE);
      }
    } });
    setHandler(cancelImportUpdate, () => {
      this.decision = 'cancelled';
      return this.progress;
    }, { validator: (_c: { cancelledBy: string }) => this.refuseUnlessAwaiting() });
  }

  get importId(): string {
    return this.input.importId;
  }

  step(next: ImportStep, percent = this.progress.percent): void {
    this.progress.step = next;
    this.progress.percent = percent;
    upsertSearchAttributes([{ key: VoucherStatus, value: next }, { key: VoucherProgress, value: percent }]);
  }

  private refuseUnlessAwaiting(): void {
    if (this.progress.step !== 'awaiting_acceptance' || this.decision !== null) {
      throw ApplicationFailure.nonRetryable(
        `import ${this.importId} is ${this.progress.step}, not awaiting acceptance`, IMPORT_NOT_AWAITING_ACCEPTANCE);
    }
  }
}

/** Both files, chunk by chunk: staging is the first 80 %. */
async function stageFiles(run: ImportRun): Promise<void> {
  const { progress } = run;
  run.step('staging', 0);
  for (const file of ['vouchers', 'history'] as const) {
    for (;;) {
      const p = await stageImportFile(run.importId, file);
      progress[file] = p;
      const bytes = (progress.vouchers?.bytesDone ?? 0) + (progress.history?.bytesDone ?? 0);
      if (patched('import-progress-monotonic') && p.importBytesTotal !== undefined) {
        // Against both files' bytes from the start: the history file's size was unknown while the
        // vouchers were staged, so the bar fell back when its staging began.
        run.step('staging', stagingPercent(progress.percent, bytes, p.importBytesTotal));
      } else {
        const total = (progress.vouchers?.bytesTotal ?? 0) + (progress.history?.bytesTotal ?? p.bytesTotal);
        run.step('staging', Math.min(80, Math.floor((80 * bytes) / Math.max(total, 1))));
      }
      if (p.done) break;
    }
  }
}

/** The checks across rows; rejections wait for an operator's decision where the import asks for one. */
async function check(run: ImportRun): Promise<boolean> {
  run.step('checking', 80);
  const checked = await checkImport(run.importId);
  run.progress.summary = checked.summary;
  if (checked.accepted || !run.input.waitForAcceptance || run.input.dryRun) return checked.accepted;
  await setImportStatus(run.importId, 'awaiting_acceptance');
  run.step('awaiting_acceptance', 85);
  await condition(() => run.decision !== null, ACCEPTANCE_WAIT);
  return run.decision === 'accepted';
}

/** A dry run, or rejections not accepted: the staged rows go, nothing is published. */
async function discard(run: ImportRun): Promise<ImportProgress> {
  await cleanUpImport(run.importId);
  const end = run.input.dryRun ? 'dry_run_completed' : 'rejected';
  await setImportStatus(run.importId, end);
  run.step(end, 100);
  return run.progress;
}

/** Into the ledger in one transaction ending with the reconciliation; a failure publishes nothing. */
async function publish(run: ImportRun): Promise<ImportProgress> {
  const { progress } = run;
  await setImportStatus(run.importId, 'loading');
  run.step('loading', 90);
  try {
    await publishImport(run.importId);
    progress.reconciled = true;
  } catch (err) {
    progress.reconciled = false;
    progress.error = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    await setImportStatus(run.importId, 'failed');
    await cleanUpImport(run.importId);
    run.step('failed', 100);
    return progress;
  }
  await cleanUpImport(run.importId);
  run.step('completed', 100);
  return progress;
}

export type { Reconciliation };
