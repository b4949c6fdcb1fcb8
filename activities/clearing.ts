// Activities of the monthly clearing. Each is idempotent for its period: freezing twice is one
// freeze, computing rewrites the same rows, a statement renders to the same bytes and is e-mailed
// once. Temporal may run any of them again after a timeout or a worker crash.

import { createHash } from 'node:crypto';
import type pg from 'pg';
import { DomainError } from '../domain/errors.ts';
import { refusalsFinal } from './failures.ts';
import { asLocale, formatAmount, translator } from '../services/i18n/index.ts';
import { signLink } from '../domain/signed-link.ts';
import { STATEMENT_DOWNLOAD, STATEMENT_LINK_TTL_SECONDS, statementLinkSubject, statementPath } from '../domain/statement-links.ts';
import type { Config } from '../infra/config.ts';
import { ClearingStore, SCHEME_PARTY } from '../services/clearing.ts';
import type { Mailer } from '../services/mailer.ts';
import { renderStatementPdf } from '../services/statement-pdf.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';

export interface ClearingActivityDeps {
  config: Config;
  pool: pg.Pool;
  mailer: Mailer;
  secrets: { downloadKey: Buffer };
  pii: PiiCipher;
}

export interface StatementTarget {
  billingPartyId: string;
  /** The party's net in its first currency (minor units), for the Temporal UI. */
  net: number;
  currency: string;
}

export interface ComputedPeriod {
  computeCount: number;
  parties: StatementTarget[];
}

export interface ClearingActivities {
  freezePeriod(period: string): Promise<{ startsAt: string; endsAt: string }>;
  computePositions(period: string): Promise<ComputedPeriod>;
  renderStatement(period: string, billingPartyId: string): Promise<{ pdfSha256: string }>;
  emailStatement(period: string, billingPartyId: string): Promise<{ sent: boolean; error?: string }>;
  awaitApproval(period: string): Promise<void>;
  reopenForRerun(period: string): Promise<void>;
  closePeriod(period: string, approvedBy: string): Promise<{ closedAt: string }>;
}

export { STATEMENT_DOWNLOAD, STATEMENT_LINK_TTL_SECONDS, statementLinkSubject, statementPath } from '../domain/statement-links.ts';

export function createClearingActivities(deps: ClearingActivityDeps): ClearingActivities {
  const store = new ClearingStore(deps.pool, deps.config.clearingTimeZone);

  return {
    freezePeriod: (period) => refusalsFinal(async () => {
      await store.open(period);
      const frozen = await store.freeze(period);
      return { startsAt: frozen.startsAt.toISOString(), endsAt: frozen.endsAt.toISOString() };
    }),

    computePositions: (period) => refusalsFinal(async () => {
      const computed = await store.compute(period);
      const positions = await store.positions(period);
      const parties = new Map<string, StatementTarget>();
      for (const p of positions) {
        if (p.partyKey === SCHEME_PARTY || parties.has(p.partyKey)) continue;
        parties.set(p.partyKey, { billingPartyId: p.partyKey, net: Number(p.net), currency: p.currency });
      }
      return {
        computeCount: computed.computeCount,
        parties: [...parties.values()].sort((a, b) => (a.billingPartyId < b.billingPartyId ? -1 : 1)),
      };
    }),

    renderStatement: (period, billingPartyId) => refusalsFinal(async () => {
      const [found, party, positions, counterparties] = await Promise.all([
        store.get(period), store.party(billingPartyId), store.positions(period, billingPartyId),
        store.counterparties(period, billingPartyId),
      ]);
      if (!party) throw new DomainError('not_found', `billing party ${billingPartyId} does not exist`);
      const pdf = await renderStatementPdf({
        schemeName: deps.config.shop.schemeName, period, startsAt: found.startsAt, endsAt: found.endsAt,
        timeZone: deps.config.clearingTimeZone, locale: asLocale(party.locale), party: { billingPartyId, name: party.name }, positions,
        accepted: counterparties.filter((c) => c.partyKey === billingPartyId),
        redeemedElsewhere: counterparties.filter((c) => c.issuerKey === billingPartyId && c.partyKey !== billingPartyId),
      });
      const pdfSha256 = createHash('sha256').update(pdf).digest('hex');
      await store.saveStatement(period, billingPartyId, pdf, pdfSha256);
      return { pdfSha256 };
    }),

    emailStatement: (period, billingPartyId) => refusalsFinal(async () => {
      const [statement, party, positions] = await Promise.all([
        store.statement(period, billingPartyId), store.party(billingPartyId), store.positions(period, billingPartyId),
      ]);
      if (!statement || !party) throw new DomainError('statement_not_found', `no statement for ${billingPartyId} in ${period}`);
      if (statement.emailedAt) return { sent: false };
      const csvLink = `${deps.config.publicUrl}${statementPath(period, billingPartyId, 'csv')}?` +
        signLink(deps.secrets.downloadKey, STATEMENT_DOWNLOAD, statementLinkSubject(period, billingPartyId, 'csv'), STATEMENT_LINK_TTL_SECONDS);
      const locale = asLocale(party.locale);
      const t = translator(locale);
      const lines = positions.map((p) => {
        const amount = formatAmount(locale, p.net < 0n ? -p.net : p.net, p.currency);
        return t(p.net >= 0n ? 'statement.owedToParty' : 'statement.owedByParty', { amount });
      });
      try {
        await deps.mailer.send({
          to: deps.pii.open(party.contactEmail),
          subject: t('statementMail.subject', { scheme: deps.config.shop.schemeName, period, party: party.name }),
          text: t('statementMail.text', { party: party.name, period, positions: lines.join('\n'), csvLink }),
          // The same statement always has the same Message-ID, so a resend after a crash is recognisable.
          messageId: `<clearing-${period}-${billingPartyId}-${statement.pdfSha256.slice(0, 16)}@voucher-engine>`,
          attachments: [{
            filename: `statement-${period}-${party.name.replace(/[^A-Za-z0-9]+/g, '-')}.pdf`,
            content: statement.pdf, contentType: 'application/pdf',
          }],
        });
      } catch (err) {
        // A relay that is down answers 4xx or not at all: retry until it is back. A permanent
        // refusal (5xx: the address bounced; or no relay at all) will not change by retrying, and
        // must not hold up the month: note it on the statement and let finance send it by hand.
        const code = (err as { responseCode?: number }).responseCode;
        const permanent = (code !== undefined && code >= 500) || !deps.config.mail.smtpUrl;
        if (!permanent) throw err;
        const error = err instanceof Error ? err.message : String(err);
        await store.markEmailFailed(period, billingPartyId, error);
        return { sent: false, error };
      }
      await store.markEmailed(period, billingPartyId, party.contactEmail, statement.pdfSha256);
      return { sent: true };
    }),

    awaitApproval: (period) => refusalsFinal(async () => {
      await store.setStatus(period, 'running', 'awaiting_approval');
    }),

    reopenForRerun: (period) => refusalsFinal(async () => {
      await store.setStatus(period, 'awaiting_approval', 'running');
    }),

    closePeriod: (period, approvedBy) => refusalsFinal(async () => {
      const closed = await store.setStatus(period, 'awaiting_approval', 'closed', approvedBy);
      return { closedAt: closed.closedAt!.toISOString() };
    }),
  };
}
