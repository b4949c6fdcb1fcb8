// Import files over HTTP, for the portal: an upload streams one file to the import directory (never
// held in memory, never through Temporal), a finished import's rejection report and reconciliation
// are downloads. Finance and admins only: the portal's session (with its CSRF token for uploads) or
// a back-office API key.

import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { audit } from '../../services/audit.ts';
import { getImport, importUploadsDir, reportLines } from '../../services/legacy-import/store.ts';
import { createRequestContext, SESSION_COOKIE } from '../context.ts';
import type { AppDeps } from '../deps.ts';
import { describeError } from '../errors.ts';
import { backofficePrincipal } from '../trpc.ts';

const ROLES = ['admin', 'finance'];
/** The largest file one upload takes (a legacy system's history of many years runs to gigabytes). */
export const MAX_UPLOAD_BYTES = 4 * 1024 ** 3;


async function principalFor(deps: AppDeps, req: FastifyRequest, type: 'query' | 'mutation') {
  const ctx = createRequestContext(deps, req.id, req.headers, req.ip, { token: req.cookies[SESSION_COOKIE] ?? null, cookie: null });
  const principal = await backofficePrincipal(ctx, type);
  if (!ROLES.includes(principal.role)) throw new DomainError('forbidden', 'imports are for finance and admins');
  return principal;
}

export async function registerImportRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await app.register(async (scope) => {
    // Only here: a CSV body is a stream for the upload, not a parsed value with the API's 64 KiB limit.
    scope.addContentTypeParser(['text/csv', 'application/octet-stream'], (_req, payload, done) => done(null, payload));

    scope.post('/v1/imports/uploads', async (req, reply) => {
      try {
        const principal = await principalFor(deps, req, 'mutation');
        const declared = Number(req.headers['content-length'] ?? NaN);
        if (declared > MAX_UPLOAD_BYTES) throw new DomainError('payload_too_large', `an import file may have at most ${MAX_UPLOAD_BYTES} bytes`);
        const body = req.body as Readable | undefined;
        if (!body || typeof (body as Readable).pipe !== 'function') {
          throw new DomainError('unsupported_media_type', 'send the file as text/csv or application/octet-stream');
        }
        const dir = importUploadsDir(deps.config.legacyImport.dir);
        await mkdir(dir, { recursive: true });
        const name = `${randomUUID()}.csv`;
        const partial = path.join(dir, `${name}.part`);
        let bytes = 0;
        const limit = new Transform({
          transform(chunk: Buffer, _enc, next) {
            bytes += chunk.length;
            next(bytes > MAX_UPLOAD_BYTES ? new DomainError('payload_too_large', `an import file may have at most ${MAX_UPLOAD_BYTES} bytes`) : null, chunk);
          },
        });
        try {
          await pipeline(body, limit, createWriteStream(partial));
        } catch (err) {
          await rm(partial, { force: true });
          throw err;
        }
        await rename(partial, path.join(dir, name));
        await audit(deps.db.pool, { actor: principal.name, action: 'import_file_uploaded', subject: `import-file:${name}`, details: { bytes }, requestId: req.id });
        return reply.code(201).send({ upload: name, bytes });
      } catch (err) {
        const { status, body } = describeError(err, req.id);
        return reply.code(status).send(body);
      }
    });
  });

  app.get('/v1/imports/:id/:file', async (req, reply) => {
    try {
      await principalFor(deps, req, 'query');
      const { id, file } = req.params as { id: string; file: string };
      if (!z.uuid().safeParse(id).success || (file !== 'report.csv' && file !== 'reconciliation.json')) {
        throw new DomainError('not_found', 'no such import file');
      }
      const imp = await getImport(deps.db.pool, id);
      if (!imp) throw new DomainError('not_found', 'no such import');
      reply.header('content-disposition', `attachment; filename="import-${id}-${file}"`).header('cache-control', 'private, no-store');
      if (file === 'report.csv') return reply.type('text/csv; charset=utf-8').send(Readable.from(reportLines(deps.db.pool, id)));
      if (!imp.reconciliation) throw new DomainError('not_found', 'this import has no reconciliation (it did not load)');
      return reply.type('application/json').send(JSON.stringify(imp.reconciliation, null, 2));
    } catch (err) {
      const { status, body } = describeError(err, req.id);
      return reply.code(status).send(body);
    }
  });
}
