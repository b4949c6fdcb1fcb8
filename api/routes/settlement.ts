// Settlement files and bank statements over plain HTTP (XML and CSV, not JSON):
//   GET  /v1/settlement/periods/:period/files/:fileId.xml      a pain.001/pain.008 file as offered (finance, admin)
//   GET  /v1/settlement/periods/:period/datev/:partyId.csv     a party's statement as a DATEV booking batch
//   GET  /v1/settlement/periods/:period/datev-journal.csv      the centre's journal of the period, the same (finance, admin)
//   POST /v1/settlement/periods/:period/bank-statements        upload the bank's camt.053 (XML body, up to 10 MiB)
//   POST /v1/settlement/stripe-payouts                          upload Stripe's itemized payout reconciliation report (CSV)
//   GET  /v1/settlement/stripe-payouts?notPaidOutAfterDays=7    what the uploaded payouts carried against our orders
// Authorized like the other back-office routes: a back-office API key, or the portal's session
// cookie (with its CSRF token for the upload). Downloads and uploads are audited.

import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../domain/errors.ts';
import { isPeriod } from '../../domain/period.ts';
import { audit } from '../../services/audit.ts';
import { periodJournal } from '../../services/centre-journal.ts';
import { datevBookingBatch, datevJournalBatch } from '../../services/datev.ts';
import { parseBankStatement } from '../../services/iso20022/camt.ts';
import { PAYOUT_REPORT_LIMIT, parsePayoutReport, StripePayoutStore, type PayoutReport } from '../../services/stripe-payouts.ts';
import { maySeeParty, type BackofficePrincipal } from '../backoffice-auth.ts';
import { createRequestContext, SESSION_COOKIE } from '../context.ts';
import type { AppDeps } from '../deps.ts';
import { describeError } from '../errors.ts';
import { settlementStore } from '../settlement-shared.ts';
import { backofficePrincipal, type RequestContext } from '../trpc.ts';

export const BANK_STATEMENT_LIMIT = 10 * 1024 * 1024;
const FINANCE = ['admin', 'finance'];

async function principalOf(deps: AppDeps, req: FastifyRequest, type: 'query' | 'mutation'): Promise<{ ctx: RequestContext; principal: BackofficePrincipal }> {
  const ctx = createRequestContext(deps, req.id, req.headers, req.ip, { token: req.cookies[SESSION_COOKIE] ?? null, cookie: null });
  return { ctx, principal: await backofficePrincipal(ctx, type) };
}

function requireFinance(principal: BackofficePrincipal): void {
  if (!FINANCE.includes(principal.role)) throw new DomainError('forbidden', `this is for admin or finance; you are ${principal.role}`);
}

function periodParam(period: string): string {
  if (!isPeriod(period)) throw new DomainError('invalid_period', 'a period is a month written YYYY-MM');
  return period;
}

function lastDayOf(period: string): string {
  const [y, m] = period.split('-').map(Number);
  return `${period}-${String(new Date(Date.UTC(y!, m!, 0)).getUTCDate()).padStart(2, '0')}`;
}

async function answer(req: FastifyRequest, reply: FastifyReply, work: () => Promise<unknown>): Promise<unknown> {
  try {
    return await work();
  } catch (err) {
    const { status, body } = describeError(err, req.id);
    if (status >= 500) req.log.error({ err }, 'settlement route failed');
    return reply.code(status).send(body);
  }
}

export async function registerSettlementRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  registerFileRoutes(app, deps);
  registerDatevRoutes(app, deps);
  await registerStripePayoutRoutes(app, deps);
  await registerBankStatementRoutes(app, deps);
}

/** The SEPA files of a settlement run, for finance to upload at the bank. */
function registerFileRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/v1/settlement/periods/:period/files/:file', (req, reply) => answer(req, reply, async () => {
    const { period, file } = req.params as { period: string; file: string };
    periodParam(period);
    const { ctx, principal } = await principalOf(deps, req, 'query');
    requireFinance(principal);
    const id = /^(.+)\.xml$/.exec(file)?.[1];
    if (!id || !z.uuid().safeParse(id).success) throw new DomainError('settlement_file_not_found', 'no such settlement file');
    const found = await settlementStore(ctx).fileXml(period, id);
    if (!found) throw new DomainError('settlement_file_not_found', 'no such settlement file');
    await audit(deps.db.pool, { actor: principal.name, action: 'settlement_file_downloaded', subject: `settlement:${period}`,
      details: { fileId: id, msgId: found.file.msgId, kind: found.file.kind, sha256: found.file.sha256 } });
    return reply.type('application/xml; charset=utf-8')
      .header('content-disposition', `attachment; filename="${found.file.msgId}.xml"`)
      .header('cache-control', 'private, no-store').header('x-content-sha256', found.file.sha256)
      .send(found.xml);
  }));
}

/** DATEV booking batches: a party's statement, and the centre's journal of the period. */
function registerDatevRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/v1/settlement/periods/:period/datev/:file', (req, reply) => answer(req, reply, async () => {
    const { period, file } = req.params as { period: string; file: string };
    periodParam(period);
    const { principal } = await principalOf(deps, req, 'query');
    const partyId = /^(.+)\.csv$/.exec(file)?.[1];
    if (!partyId || !z.uuid().safeParse(partyId).success || !(FINANCE.includes(principal.role) || principal.role === 'billing_party')
      || !maySeeParty(principal, partyId)) {
      if (principal.role !== 'billing_party' && !FINANCE.includes(principal.role)) throw new DomainError('forbidden', 'this is for finance or the party itself');
      throw new DomainError('statement_not_found', 'no such statement');
    }
    const found = await deps.clearing.get(period);
    if (found.status !== 'closed') throw new DomainError('period_not_closed', `${period} is not closed yet`);
    const [party, positions] = await Promise.all([deps.clearing.party(partyId), deps.clearing.positions(period, partyId)]);
    if (!party || positions.length === 0) throw new DomainError('statement_not_found', 'no such statement');
    const batch = datevBookingBatch({
      period, firstDay: `${period}-01`, lastDay: lastDayOf(period), party: { id: partyId, name: party.name }, positions,
      accounts: deps.config.settlement.datev, createdAt: found.closedAt ?? new Date(),
    });
    await audit(deps.db.pool, { actor: principal.name, action: 'datev_exported', subject: `statement:${period}:${partyId}` });
    return reply.type('text/csv; charset=windows-1252')
      .header('content-disposition', `attachment; filename="EXTF_Buchungsstapel_${period}_${partyId.slice(0, 8)}.csv"`)
      .header('cache-control', 'private, no-store').send(batch);
  }));

  app.get('/v1/settlement/periods/:period/datev-journal.csv', (req, reply) => answer(req, reply, async () => {
    const { period } = req.params as { period: string };
    periodParam(period);
    const { principal } = await principalOf(deps, req, 'query');
    requireFinance(principal);
    const found = await deps.clearing.get(period);
    if (found.status !== 'closed') throw new DomainError('period_not_closed', `${period} is not closed yet`);
    const movements = await periodJournal(deps.db.pool, found, deps.config.clearingTimeZone);
    const batch = datevJournalBatch({
      period, firstDay: `${period}-01`, lastDay: lastDayOf(period), movements, accounts: deps.config.settlement.datev, createdAt: found.closedAt ?? new Date(),
    });
    await audit(deps.db.pool, { actor: principal.name, action: 'datev_exported', subject: `journal:${period}` });
    return reply.type('text/csv; charset=windows-1252')
      .header('content-disposition', `attachment; filename="EXTF_Buchungsstapel_${period}_Journal.csv"`)
      .header('cache-control', 'private, no-store').send(batch);
  }));
}

/** Stripe's payout reconciliation reports against the orders paid online. */
async function registerStripePayoutRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const payoutStore = new StripePayoutStore(deps.db.pool);
  app.get('/v1/settlement/stripe-payouts', (req, reply) => answer(req, reply, async () => {
    const { principal } = await principalOf(deps, req, 'query');
    requireFinance(principal);
    const days = z.coerce.number().int().min(0).max(365).default(7).safeParse((req.query as Record<string, unknown>).notPaidOutAfterDays);
    if (!days.success) throw new DomainError('validation_error', 'notPaidOutAfterDays is a whole number of days, 0 to 365');
    return reply.header('cache-control', 'private, no-store').send(payoutJson(await payoutStore.report(new Date(), days.data)));
  }));

  await app.register(async (scope) => {
    scope.addContentTypeParser(['text/csv'], { parseAs: 'string', bodyLimit: PAYOUT_REPORT_LIMIT }, (_req, body, done) => done(null, body));
    scope.post('/v1/settlement/stripe-payouts', { bodyLimit: PAYOUT_REPORT_LIMIT }, (req, reply) => answer(req, reply, async () => {
      const { principal } = await principalOf(deps, req, 'mutation');
      requireFinance(principal);
      if (typeof req.body !== 'string' || req.body.trim() === '') {
        throw new DomainError('invalid_payout_report', "send Stripe's itemized payout reconciliation report as the body (Content-Type: text/csv)");
      }
      const lines = parsePayoutReport(req.body);
      const sha256 = createHash('sha256').update(req.body).digest('hex');
      const imported = await payoutStore.import(lines, sha256, principal.name);
      return reply.send({ ...imported, lines: lines.length, report: payoutJson(await payoutStore.report(new Date(), 7)) });
    }));
  });
}

/** The bank's account statement (camt.053), reconciled against the run's payments. */
async function registerBankStatementRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await app.register(async (scope) => {
    // Only here are XML bodies taken, and larger ones: a month's statement runs to megabytes.
    scope.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'string', bodyLimit: BANK_STATEMENT_LIMIT },
      (_req, body, done) => done(null, body));
    scope.post('/v1/settlement/periods/:period/bank-statements', { bodyLimit: BANK_STATEMENT_LIMIT }, (req, reply) => answer(req, reply, async () => {
      const { period } = req.params as { period: string };
      periodParam(period);
      const { ctx, principal } = await principalOf(deps, req, 'mutation');
      requireFinance(principal);
      if (typeof req.body !== 'string' || req.body.trim() === '') {
        throw new DomainError('invalid_bank_statement', 'send the camt.053 file as the body (Content-Type: application/xml)');
      }
      const store = settlementStore(ctx);
      if (!(await store.run(period))) throw new DomainError('period_not_found', `${period} has not been settled; nothing to reconcile`);
      const statement = await parseBankStatement(deps.config.settlement.iso20022SchemaDir, req.body);
      const sha256 = createHash('sha256').update(req.body).digest('hex');
      const { importId, replayed } = await store.reconcile(period, statement, sha256, principal.name);
      const [payments, differences] = await Promise.all([store.payments(period), store.differences(period)]);
      return reply.send({
        importId, replayed, schema: statement.schema, entries: statement.entries.length,
        payments: payments.filter((p) => p.fileId).map((p) => ({
          billingPartyId: p.billingPartyId, partyName: p.partyName, endToEndId: p.endToEndId, direction: p.direction,
          amount: Number(p.amount), currency: p.currency, status: p.status, returnReason: p.returnReason,
        })),
        differences: differences.map((d) => ({
          ...d, expectedAmount: d.expectedAmount === null ? null : Number(d.expectedAmount), actualAmount: d.actualAmount === null ? null : Number(d.actualAmount),
        })),
      });
    }));
  });
}

/** Amounts as numbers (minor units), like the rest of the API's JSON. */
function payoutJson(r: PayoutReport) {
  const n = (v: bigint | null) => (v === null ? null : Number(v));
  return {
    payouts: r.payouts.map((p) => ({ ...p, gross: n(p.gross), fee: n(p.fee), net: n(p.net) })),
    matched: r.matched,
    differences: r.differences.map((d) => ({ ...d, gross: n(d.gross), expectedAmount: n(d.expectedAmount) })),
    other: r.other.map((o) => ({ ...o, net: n(o.net) })),
    notPaidOut: r.notPaidOut.map((o) => ({ ...o, amount: n(o.amount) })),
    providerClearing: r.providerClearing.map((c) => ({ currency: c.currency, collected: n(c.collected), paidOutGross: n(c.paidOutGross), fees: n(c.fees), outstanding: n(c.outstanding) })),
  };
}
