// The legacy import capability's Temporal names: workflow type, progress query, accept and cancel updates. Workflow-safe (definitions and types
// only): the workflow imports it, and so do the API and services that start or signal it.

import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ImportSummary } from '../../services/legacy-import/store.ts';
import type { StageProgress } from '../../services/legacy-import/stage.ts';

export const IMPORT_WORKFLOW = 'importWorkflow';

export type ImportStep = 'staging' | 'checking' | 'awaiting_acceptance' | 'loading' | 'completed' | 'rejected'
  | 'dry_run_completed' | 'failed';

export interface ImportProgress {
  importId: string;
  step: ImportStep;
  /** 0-100: staging is most of the time an import takes before loading. */
  percent: number;
  vouchers: StageProgress | null;
  history: StageProgress | null;
  summary: ImportSummary | null;
  reconciled: boolean | null;
  error: string | null;
}

export const importProgressQuery = defineQuery<ImportProgress>('progress');
/** An operator accepts the rejections of the report they saw (its SHA-256), and the import loads. */
export const acceptImportUpdate = defineUpdate<ImportProgress, [{ reportSha256: string; acceptedBy: string }]>('accept');
/** An operator gives up an import awaiting acceptance. */
export const cancelImportUpdate = defineUpdate<ImportProgress, [{ cancelledBy: string }]>('cancel');

export const IMPORT_NOT_AWAITING_ACCEPTANCE = 'import_not_awaiting_acceptance';
