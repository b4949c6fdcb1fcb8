// A scratch-card batch's print file, each format exactly once (POST: it changes what can be shown
// afterwards). The first call marks the format exported (audited) and streams the codes; every
// later call is refused with batch_already_exported, and from then on only serials are shown.

import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { batchCsv, batchPdf } from '../../services/batch-print.ts';
import { CardBatches } from '../../services/card-batches.ts';
import { createRequestContext, SESSION_COOKIE } from '../context.ts';
import type { AppDeps } from '../deps.ts';
import { describeError } from '../errors.ts';
import { backofficePrincipal } from '../trpc.ts';

const PRINTERS = ['admin', 'finance'];

export async function registerCardBatchPrintRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.post('/v1/backoffice/card-batches/:batchId/print.:format', async (req, reply) => {
    try {
      const ctx = createRequestContext(deps, req.id, req.headers, req.ip, { token: req.cookies[SESSION_COOKIE] ?? null, cookie: null });
      const principal = await backofficePrincipal(ctx, 'mutation');
      if (!PRINTERS.includes(principal.role)) throw new DomainError('forbidden', 'your role cannot print card batches');
      const params = z.object({ batchId: z.uuid(), format: z.enum(['csv', 'pdf']) }).safeParse(req.params);
      if (!params.success) throw new DomainError('validation_error', 'the path names a batch id and print.csv or print.pdf');
      const { batchId, format } = params.data;
      const { batch, rows } = await new CardBatches(deps.db.pool, deps.secrets).exportOnce(batchId, format,
        { identity: `${principal.kind}:${principal.clientId}`, name: principal.name }, deps.config.cardLifecycle.batchActivationCodeDigits);
      reply.header('content-disposition', `attachment; filename="card-batch-${batch.number}.${format}"`).header('cache-control', 'private, no-store');
      if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(Readable.from(batchCsv(rows)));
      return reply.type('application/pdf').send(batchPdf(rows, {
        faceValue: batch.face_value === null ? null : Number(batch.face_value), currency: batch.currency, schemeName: deps.config.shop.schemeName,
      }));
    } catch (err) {
      const { status, body } = describeError(err, req.id);
      if (status >= 500) req.log.error({ err }, 'print file failed');
      return reply.code(status).send(body);
    }
  });
}
