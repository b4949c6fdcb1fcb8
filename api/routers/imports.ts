// Legacy import from the portal (finance and admins): files uploaded to the import directory
// (api/routes/imports.ts) are imported by the `import-<id>` workflow; the page follows its
// progress, shows the rejection report and, when there are rejections, lets the operator accept
// exactly that report (or give up). The command line (`npm run import`) runs the same workflow.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { LEGACY_CODE_FORMATS } from '../../domain/legacy-code.ts';
import { audit } from '../../services/audit.ts';
import { createImport, firstRejections, getImport, importUploadsDir, listImports, type ImportRecord } from '../../services/legacy-import/store.ts';
import { acceptImport, cancelImport, importProgress, startImportWorkflow } from '../../services/legacy-import/temporal.ts';
import { backofficeProcedure, requireTemporal, router, type RequestContext } from '../trpc.ts';
import type { BackofficePrincipal } from '../backoffice-auth.ts';

const FINANCE = ['admin', 'finance'] as const;
const uploadName = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.csv$/, 'an upload name the API gave out');
const importId = z.object({ importId: z.uuid() }).strict();
/** Rejections shown on the page; the whole report is a download. */
const REPORT_PREVIEW = 200;

const importSchema = z.object({
  id: z.string(), status: z.string(), dryRun: z.boolean(), encoding: z.string(), codeFormat: z.string(),
  requestedBy: z.string(), createdAt: z.string(), completedAt: z.string().nullable(), error: z.string().nullable(),
  summary: z.object({ vouchers: z.number().int(), history: z.number().int(), rejections: z.number().int(),
    byReason: z.record(z.string(), z.number().int()), reportSha256: z.string() }).nullable(),
  reconciled: z.boolean().nullable(),
});

function view(imp: ImportRecord): z.infer<typeof importSchema> {
  return {
    id: imp.id, status: imp.status, dryRun: imp.dryRun, encoding: imp.encoding, codeFormat: imp.codeFormat,
    requestedBy: imp.requestedBy, createdAt: imp.createdAt.toISOString(), completedAt: imp.completedAt?.toISOString() ?? null,
    error: imp.error, summary: imp.summary, reconciled: imp.reconciliation?.ok ?? null,
  };
}

async function found(ctx: RequestContext, id: string): Promise<ImportRecord> {
  const imp = await getImport(ctx.deps.db.pool, id);
  if (!imp) throw new DomainError('not_found', 'no such import');
  return imp;
}

/** A refused accept or cancel (not awaiting acceptance, the report changed) is a 409, not a 500. */
async function decided<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new DomainError('import_not_awaiting_acceptance', err.cause?.message ?? err.message);
    throw err;
  }
}

type Ctx = RequestContext & { principal: BackofficePrincipal };
const logged = (ctx: Ctx, action: string, id: string, details: Record<string, unknown> = {}) =>
  audit(ctx.deps.db.pool, { actor: ctx.principal.name, action, subject: `import:${id}`, details, requestId: ctx.requestId });

export const importsRouter = router({
  list: backofficeProcedure(FINANCE)
    .input(z.object({ limit: z.number().int().min(1).max(100).default(20) }).strict())
    .output(z.object({ imports: z.array(importSchema) }))
    .query(async ({ ctx, input }) => ({ imports: (await listImports(ctx.deps.db.pool, input.limit)).map(view) })),

  get: backofficeProcedure(FINANCE)
    .input(importId)
    .output(importSchema.extend({
      progress: z.object({ step: z.string(), percent: z.number().int() }).nullable(),
      rejections: z.array(z.object({ file: z.string(), line: z.number().int(), reason: z.string(), detail: z.string() })),
      reportUrl: z.string(), reconciliationUrl: z.string().nullable(),
    }))
    .query(async ({ ctx, input }) => {
      const imp = await found(ctx, input.importId);
      const live = ctx.deps.temporal ? await importProgress(ctx.deps.temporal, imp.id) : null;
      const rejections = await firstRejections(ctx.deps.db.pool, imp.id, REPORT_PREVIEW);
      return {
        ...view(imp), progress: live ? { step: live.step, percent: live.percent } : null, rejections,
        reportUrl: `/v1/imports/${imp.id}/report.csv`, reconciliationUrl: imp.reconciliation ? `/v1/imports/${imp.id}/reconciliation.json` : null,
      };
    }),

  start: backofficeProcedure(FINANCE)
    .input(z.object({
      vouchers: uploadName, history: uploadName, stores: uploadName,
      encoding: z.enum(['utf8', 'latin1']).default('utf8'), codeFormat: z.enum(LEGACY_CODE_FORMATS).default('plain'),
      dryRun: z.boolean().default(false),
    }).strict())
    .output(z.object({ importId: z.string(), alreadyImported: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const client = requireTemporal(ctx);
      const dir = importUploadsDir(ctx.deps.config.legacyImport.dir);
      const [vouchersPath, historyPath, storesPath] = [input.vouchers, input.history, input.stores].map((f) => path.join(dir, f)) as [string, string, string];
      if (![vouchersPath, historyPath, storesPath].every((p) => existsSync(p))) throw new DomainError('not_found', 'upload the three files first');
      // A repeated start of the same files joins the import already running (or done).
      const { record, existing } = await createImport(ctx.deps.db.pool, {
        vouchersPath, historyPath, storesPath, encoding: input.encoding, codeFormat: input.codeFormat, dryRun: input.dryRun,
        acceptedPath: null, waitForAcceptance: true, requestedBy: ctx.principal.name,
      });
      if (!existing) {
        await startImportWorkflow(client, ctx.deps.config, record);
        await logged(ctx, 'import_started', record.id, { dryRun: input.dryRun });
      }
      return { importId: record.id, alreadyImported: existing && record.status === 'completed' };
    }),

  accept: backofficeProcedure(FINANCE)
    .input(importId.extend({ reportSha256: z.string().regex(/^[0-9a-f]{64}$/, 'the report\'s SHA-256 as the API gave it') }).strict())
    .output(z.object({ importId: z.string(), step: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const client = requireTemporal(ctx);
      const imp = await found(ctx, input.importId);
      const progress = await decided(() => acceptImport(client, imp.id, input.reportSha256, ctx.principal.name));
      await logged(ctx, 'import_rejections_accepted', imp.id, { reportSha256: input.reportSha256, rejections: imp.summary?.rejections ?? 0 });
      return { importId: imp.id, step: progress.step };
    }),

  cancel: backofficeProcedure(FINANCE)
    .input(importId)
    .output(z.object({ importId: z.string(), step: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const client = requireTemporal(ctx);
      const imp = await found(ctx, input.importId);
      const progress = await decided(() => cancelImport(client, imp.id, ctx.principal.name));
      await logged(ctx, 'import_cancelled', imp.id);
      return { importId: imp.id, step: progress.step };
    }),
});
