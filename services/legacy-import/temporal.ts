// The legacy import's Temporal names and client calls: `import-<id>`, its progress query and its
// accept / cancel updates.

import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { acceptImportUpdate, cancelImportUpdate, IMPORT_WORKFLOW, importProgressQuery, type ImportProgress } from '../../workflows/names/import.ts';
import { VoucherProgress, VoucherStatus } from '../../workflows/search-attributes.ts';
import { importTaskQueue, type Config } from '../../infra/config.ts';
import type { ImportRecord } from './store.ts';

export function importWorkflowId(importId: string): string {
  return `import-${importId}`;
}

/**
 * Starts the import's workflow on the imports' queue (an import worker, or any worker of role
 * `all`); a second start of the same import joins the first.
 */
export async function startImportWorkflow(client: Client, config: Pick<Config, 'taskQueue'>, imp: ImportRecord): Promise<void> {
  try {
    await client.workflow.start(IMPORT_WORKFLOW, {
      workflowId: importWorkflowId(imp.id), taskQueue: importTaskQueue(config),
      args: [{ importId: imp.id, dryRun: imp.dryRun, waitForAcceptance: imp.waitForAcceptance }],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [{ key: VoucherStatus, value: 'staging' }, { key: VoucherProgress, value: 0 }],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** The running (or finished) import's progress; null when Temporal has no such workflow. */
export async function importProgress(client: Client, importId: string): Promise<ImportProgress | null> {
  try {
    return await client.workflow.getHandle(importWorkflowId(importId)).query(importProgressQuery);
  } catch {
    return null;
  }
}

export function waitForImport(client: Client, importId: string): Promise<ImportProgress> {
  return client.workflow.getHandle(importWorkflowId(importId)).result() as Promise<ImportProgress>;
}

export function acceptImport(client: Client, importId: string, reportSha256: string, acceptedBy: string): Promise<ImportProgress> {
  return client.workflow.getHandle(importWorkflowId(importId)).executeUpdate(acceptImportUpdate, { args: [{ reportSha256, acceptedBy }] });
}

export function cancelImport(client: Client, importId: string, cancelledBy: string): Promise<ImportProgress> {
  return client.workflow.getHandle(importWorkflowId(importId)).executeUpdate(cancelImportUpdate, { args: [{ cancelledBy }] });
}
