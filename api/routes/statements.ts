// Statement downloads: a billing party's PDF as sent, and its CSV of transactions streamed from the
// frozen ledger. Authorized by a back-office API key (finance and admin: any party; a billing
// party: its own) or by a signed link from the statement e-mail or the portal.

import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { isPeriod } from '../../domain/period.ts';
import { verifyLink } from '../../domain/signed-link.ts';
import { statementLinkSubject, STATEMENT_DOWNLOAD } from '../../domain/statement-links.ts';
import { audit } from '../../services/audit.ts';
import { statementCsv } from '../../services/statement-csv.ts';
import { maySeeParty } from '../backoffice-auth.ts';
import type { AppDeps } from '../deps.ts';
import { describeError } from '../errors.ts';

type Format = 'pdf' | 'csv';

/** Checks the caller's right to the file; returns who they are, for the audit log. */
async function authorize(deps: AppDeps, req: FastifyRequest, period: string, partyId: string, format: Format): Promise<string> {
  const { expires, sig } = req.query as { expires?: string; sig?: string };
  if (sig !== undefined || expires !== undefined) {
    verifyLink(deps.secrets.downloadKey, STATEMENT_DOWNLOAD, statementLinkSubject(period, partyId, format), expires, sig,
      'ask finance for a new one');
    return 'signed link';
  }
  const header = req.headers.authorization;
  const key = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : null;
  const principal = key ? await deps.apiClients.authenticate(key) : null;
  if (!principal) throw new DomainError('unauthenticated', 'an API key (Authorization: Bearer <key>) or a signed link is required');
  // Another party's statement does not exist for a billing party's key.
  if (!maySeeParty(principal, partyId)) throw new DomainError('statement_not_found', 'no such statement');
  return principal.name;
}

export async function registerStatementRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/v1/clearing/periods/:period/statements/:file', async (req, reply) => {
    try {
      const { period, file } = req.params as { period: string; file: string };
      const match = /^(.+)\.(pdf|csv)$/.exec(file);
      if (!isPeriod(period)) throw new DomainError('invalid_period', 'a period is a month written YYYY-MM');
      if (!match || !z.uuid().safeParse(match[1]).success) throw new DomainError('statement_not_found', 'no such statement');
      const partyId = match[1]!;
      const format = match[2] as Format;
      const actor = await authorize(deps, req, period, partyId, format);

      const statement = await deps.clearing.statement(period, partyId);
      if (!statement) throw new DomainError('statement_not_found', 'no such statement');
      await audit(deps.db.pool, { actor, action: 'statement_downloaded', subject: `statement:${period}:${partyId}`, details: { format } });
      const name = `statement-${period}-${partyId}.${format}`;
      reply.header('content-disposition', `attachment; filename="${name}"`).header('cache-control', 'private, no-store');
      if (format === 'pdf') {
        return reply.type('application/pdf').header('x-content-sha256', statement.pdfSha256).send(statement.pdf);
      }
      const found = await deps.clearing.get(period);
      const rows = statementCsv(deps.db.pool, { billingPartyId: partyId, startsAt: found.startsAt, endsAt: found.endsAt });
      return reply.type('text/csv; charset=utf-8').send(Readable.from(rows));
    } catch (err) {
      const { status, body } = describeError(err, req.id);
      if (status >= 500) req.log.error({ err }, 'statement download failed');
      return reply.code(status).send(body);
    }
  });
}
