// A billing party's clearing statement: rendered to a PDF once its period is computed, then
// e-mailed with a signed link to the CSV of every transaction behind it.

import { createHash } from 'node:crypto';
import { DomainError } from '../domain/errors.ts';
import { signLink } from '../domain/signed-link.ts';
import { STATEMENT_DOWNLOAD, STATEMENT_LINK_TTL_SECONDS, statementLinkSubject, statementPath } from '../domain/statement-links.ts';
import type { ClearingStore, StatementParty } from '../services/clearing.ts';
import { asLocale, formatAmount, translator, type Locale } from '../services/i18n/index.ts';
import { renderStatementPdf } from '../services/statement-pdf.ts';
import type { ClearingActivityDeps } from './clearing.ts';

type Positions = Awaited<ReturnType<ClearingStore['positions']>>;

/** What rendering read and wrote, so that delivery need not read it again. */
interface RenderedStatement {
  pdf: Buffer;
  pdfSha256: string;
  /** Set when these very bytes were e-mailed already (a retry after the mail went out). */
  emailedAt: Date | null;
  party: StatementParty;
  positions: Positions;
}

export async function renderStatement(
  deps: ClearingActivityDeps, store: ClearingStore, period: string, billingPartyId: string,
): Promise<{ pdfSha256: string }> {
  const { pdfSha256 } = await renderAndSave(deps, store, period, billingPartyId);
  return { pdfSha256 };
}

/** Renders the statement and e-mails it unless these bytes went out already: one activity. */
export async function deliverStatement(
  deps: ClearingActivityDeps, store: ClearingStore, period: string, billingPartyId: string,
): Promise<{ pdfSha256: string; sent: boolean; error?: string }> {
  const rendered = await renderAndSave(deps, store, period, billingPartyId);
  if (rendered.emailedAt) return { pdfSha256: rendered.pdfSha256, sent: false };
  return { pdfSha256: rendered.pdfSha256, ...await sendStatement(deps, store, period, rendered) };
}

async function renderAndSave(
  deps: ClearingActivityDeps, store: ClearingStore, period: string, billingPartyId: string,
): Promise<RenderedStatement> {
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
  const { emailedAt } = await store.saveStatement(period, billingPartyId, pdf, pdfSha256);
  return { pdf, pdfSha256, emailedAt, party, positions };
}

export async function emailStatement(
  deps: ClearingActivityDeps, store: ClearingStore, period: string, billingPartyId: string,
): Promise<{ sent: boolean; error?: string }> {
  const [statement, party, positions] = await Promise.all([
    store.statement(period, billingPartyId), store.party(billingPartyId), store.positions(period, billingPartyId),
  ]);
  if (!statement || !party) throw new DomainError('statement_not_found', `no statement for ${billingPartyId} in ${period}`);
  if (statement.emailedAt) return { sent: false };
  return sendStatement(deps, store, period, { ...statement, party, positions });
}

async function sendStatement(
  deps: ClearingActivityDeps, store: ClearingStore, period: string, statement: RenderedStatement,
): Promise<{ sent: boolean; error?: string }> {
  const { party, positions } = statement;
  const { billingPartyId } = party;
  const locale = asLocale(party.locale);
  const text = statementText(deps, locale, period, billingPartyId, party.name, positions);
  try {
    await deps.mailer.send({
      to: deps.pii.open(party.contactEmail),
      subject: translator(locale)('statementMail.subject', { scheme: deps.config.shop.schemeName, period, party: party.name }),
      text,
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
}

function statementText(
  deps: ClearingActivityDeps, locale: Locale, period: string, billingPartyId: string, partyName: string, positions: Positions,
): string {
  const csvLink = `${deps.config.publicUrl}${statementPath(period, billingPartyId, 'csv')}?` +
    signLink(deps.secrets.downloadKey, STATEMENT_DOWNLOAD, statementLinkSubject(period, billingPartyId, 'csv'), STATEMENT_LINK_TTL_SECONDS);
  const t = translator(locale);
  const lines = positions.map((p) => {
    const amount = formatAmount(locale, p.net < 0n ? -p.net : p.net, p.currency);
    return t(p.net >= 0n ? 'statement.owedToParty' : 'statement.owedByParty', { amount });
  });
  return t('statementMail.text', { party: partyName, period, positions: lines.join('\n'), csvLink });
}
