// Activities of the legacy import (`import-<id>`). Each is safe to run again: staging resumes after
// the last committed chunk, the checks run once per import (a retry finds them done), publishing
// is one transaction that a crash rolls back and a retry repeats, or finds committed.
// File contents never pass through Temporal: activities read the files from disk and the staged
// rows from PostgreSQL; only counts and states go into the workflow's history.

import { ApplicationFailure, Context } from '@temporalio/activity';
import type pg from 'pg';
import { DomainError } from '../domain/errors.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import type { Config } from '../infra/config.ts';
import { stageChunks, type StageContext, type StagedFile, type StageProgress } from '../services/legacy-import/stage.ts';
import {
  checkStaged, dropStaging, forgetLostStaging, getImport, publish, readStoreMapping, rejectionsAccepted, setStatus,
  type ImportRecord, type ImportStatus, type ImportSummary, type Reconciliation,
} from '../services/legacy-import/store.ts';

export interface ImportActivityDeps {
  pool: pg.Pool;
  config: Config;
  secrets: { hashKey: Buffer };
  pii: PiiCipher;
}

export interface CheckedImport {
  summary: ImportSummary;
  /** No rejections, or an operator accepted exactly these in advance. */
  accepted: boolean;
}

export interface ImportActivities {
  /** Stages the next chunks of a file for up to ~10 s; call again until `done`. */
  stageImportFile(importId: string, file: StagedFile): Promise<StageProgress>;
  checkImport(importId: string): Promise<CheckedImport>;
  setImportStatus(importId: string, status: ImportStatus): Promise<void>;
  publishImport(importId: string): Promise<Reconciliation>;
  /** Drops the staging rows; a dry run ends here. */
  cleanUpImport(importId: string): Promise<void>;
}

const STAGE_BUDGET_MS = 10_000;

/**
 * Heartbeats, and stops the attempt between chunks once it is cancelled (a worker shutting down):
 * what it committed stays, and the next attempt carries on from there.
 */
function beat(details: unknown): void {
  const ctx = Context.current();
  ctx.heartbeat(details);
  if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('activity cancelled');
}

async function recordOf(pool: pg.Pool, importId: string): Promise<ImportRecord> {
  const imp = await getImport(pool, importId);
  if (!imp) throw ApplicationFailure.nonRetryable(`import ${importId} does not exist`, 'not_found');
  return imp;
}

async function finalRefusals<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof DomainError) throw ApplicationFailure.nonRetryable(err.message, err.code);
    throw err;
  }
}

export function createImportActivities(deps: ImportActivityDeps): ImportActivities {
  const { pool } = deps;
  const stageContext = (imp: ImportRecord, stores: Map<string, string>): StageContext => ({
    format: imp.codeFormat, stores, now: new Date(), maxBalance: deps.config.maxCardBalance,
    hashKey: deps.secrets.hashKey, pii: deps.pii, chunkRows: deps.config.legacyImport.chunkRows,
  });
  return {
    async stageImportFile(importId, file) {
      const imp = await recordOf(pool, importId);
      const { stores } = await readStoreMapping(pool, imp);
      return stageChunks(pool, imp, file, stageContext(imp, stores), STAGE_BUDGET_MS, beat);
    },

    async checkImport(importId) {
      const imp = await recordOf(pool, importId);
      const { stores, rejections } = await readStoreMapping(pool, imp);
      if (imp.status === 'staging') {
        // The database restarted since staging and emptied the unlogged staging tables: stage again.
        for (const file of ['vouchers', 'history'] as const) {
          if (!(await forgetLostStaging(pool, importId, file))) continue;
          while (!(await stageChunks(pool, imp, file, stageContext(imp, stores), Infinity, beat)).done) { /* until the file's end */ }
        }
      }
      await checkStaged(pool, imp, rejections);
      const checked = await recordOf(pool, importId);
      const summary = checked.summary!;
      return { summary, accepted: summary.rejections === 0 || await rejectionsAccepted(pool, checked) };
    },

    async setImportStatus(importId, status) {
      await setStatus(pool, importId, status);
    },

    publishImport: (importId) => finalRefusals(async () => {
      const imp = await recordOf(pool, importId);
      return publish(pool, imp, beat);
    }),

    async cleanUpImport(importId) {
      await dropStaging(pool, importId);
    },
  };
}
