// A billing party's clearing statement as PDF: summary, positions per currency, counterparties and
// a signature block. Rendered from the period's stored positions with fixed metadata, so a rerun of
// the period renders the same bytes.

import PDFDocument from 'pdfkit';
import type { Counterparty, Position } from './clearing.ts';
import { formatAmount, formatDay, translator, type Locale } from './i18n/index.ts';

export interface StatementContent {
  schemeName: string;
  period: string;
  startsAt: Date;
  endsAt: Date;
  timeZone: string;
  /** The party's language. */
  locale: Locale;
  party: { billingPartyId: string; name: string };
  /** The party's positions, one per currency. */
  positions: Position[];
  /** Redemptions the party accepted, by issuer (partyKey = the party). */
  accepted: Counterparty[];
  /** The party's vouchers redeemed at other parties' stores (issuerKey = the party). */
  redeemedElsewhere: Counterparty[];
}

const MARGIN = 50;
const WIDTH = 595.28 - 2 * MARGIN;
const BLUE = '#1f4e79';

type Doc = InstanceType<typeof PDFDocument>;

/** Rows of text in fixed columns; the first column left-aligned, the others right-aligned. */
function table(doc: Doc, columns: number[], header: string[], rows: string[][], bold?: (i: number) => boolean): void {
  const draw = (cells: string[], font: string) => {
    const y = doc.y;
    let x = MARGIN;
    cells.forEach((cell, i) => {
      doc.font(font).fontSize(9.5).text(cell, x, y, { width: columns[i]! - 6, align: i === 0 ? 'left' : 'right' });
      x += columns[i]!;
    });
    doc.x = MARGIN;
    doc.y = y + 15;
  };
  doc.fillColor(BLUE);
  draw(header, 'Helvetica-Bold');
  doc.moveTo(MARGIN, doc.y - 3).lineTo(MARGIN + WIDTH, doc.y - 3).lineWidth(0.5).strokeColor(BLUE).stroke();
  doc.fillColor('black');
  rows.forEach((row, i) => draw(row, bold?.(i) ? 'Helvetica-Bold' : 'Helvetica'));
  doc.moveDown(0.8);
}

function heading(doc: Doc, text: string): void {
  doc.x = MARGIN;
  doc.font('Helvetica-Bold').fontSize(12).fillColor(BLUE).text(text, MARGIN, doc.y, { width: WIDTH });
  doc.moveDown(0.4).fillColor('black');
}

export async function renderStatementPdf(s: StatementContent): Promise<Buffer> {
  const t = translator(s.locale);
  const money = (amount: bigint, currency: string) => formatAmount(s.locale, amount, currency);
  const day = (d: Date) => formatDay(s.locale, d, s.timeZone);
  const doc = new PDFDocument({
    // Uncompressed: deflating the page streams was 60% of the render time, for a few KiB of text.
    size: 'A4', margin: MARGIN, compress: false,
    // Fixed metadata: the statement is dated at the end of its period, not when it was rendered.
    info: {
      Title: t('statementPdf.metaTitle', { period: s.period, party: s.party.name }), Author: s.schemeName,
      Subject: t('statementPdf.metaSubject', { period: s.period }), CreationDate: s.endsAt,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.font('Helvetica-Bold').fontSize(18).fillColor(BLUE).text(t('statementPdf.title', { scheme: s.schemeName }), { width: WIDTH });
  doc.moveDown(0.3).font('Helvetica').fontSize(10.5).fillColor('black');
  doc.text(t('statementPdf.party', { party: s.party.name }));
  doc.text(t('statementPdf.partyId', { id: s.party.billingPartyId }));
  doc.text(t('statementPdf.period', {
    period: s.period, from: day(s.startsAt), to: day(new Date(s.endsAt.getTime() - 1)), timeZone: s.timeZone,
  }));
  doc.moveDown(0.8);

  heading(doc, t('statementPdf.summary'));
  for (const p of s.positions) {
    const owed = p.net >= 0n;
    doc.font('Helvetica-Bold').fontSize(11).text(
      owed ? t('statement.owedToParty', { amount: money(p.net, p.currency) }) : t('statement.owedByParty', { amount: money(-p.net, p.currency) }),
      { width: WIDTH });
  }
  if (s.positions.length === 0) doc.font('Helvetica').text(t('statementPdf.noTransactions'));
  doc.moveDown(0.8);

  heading(doc, t('statementPdf.positions'));
  for (const p of s.positions) {
    table(doc, [255, 90, 150], ['', t('statementPdf.count'), t('statementPdf.amountIn', { currency: p.currency })], [
      [t('statementPdf.sales'), String(p.salesCount), money(-p.salesAmount, p.currency)],
      [t('statementPdf.redemptions'), String(p.redemptionsCount), money(p.redemptionsAmount, p.currency)],
      [t('statementPdf.refunds'), String(p.refundsCount), money(-p.refundsAmount, p.currency)],
      [t('statementPdf.net'), '', money(p.net, p.currency)],
    ], (i) => i === 3);
  }

  heading(doc, t('statementPdf.counterparties'));
  const counterpartyHeader = (first: string) => [first, t('statementPdf.count'), t('statementPdf.redeemed'), t('statementPdf.refunded')];
  doc.font('Helvetica').fontSize(9.5).text(t('statementPdf.acceptedIntro'), { width: WIDTH });
  doc.moveDown(0.3);
  table(doc, [215, 70, 105, 105], counterpartyHeader(t('statementPdf.soldBy')),
    s.accepted.map((c) => [c.issuerName, String(c.redemptionsCount), money(c.redemptionsAmount, c.currency), money(c.refundsAmount, c.currency)]));
  doc.font('Helvetica').fontSize(9.5).text(t('statementPdf.elsewhereIntro'), { width: WIDTH });
  doc.moveDown(0.3);
  table(doc, [215, 70, 105, 105], counterpartyHeader(t('statementPdf.redeemedAt')),
    s.redeemedElsewhere.map((c) => [c.partyName, String(c.redemptionsCount),
      money(c.redemptionsAmount, c.currency), money(c.refundsAmount, c.currency)]));

  const rows = s.positions.reduce((n, p) => n + p.salesCount + p.redemptionsCount + p.refundsCount, 0n);
  doc.font('Helvetica').fontSize(9).fillColor('#444').text(t('statementPdf.csvNote', { rows }), { width: WIDTH });
  doc.moveDown(1.5).fillColor('black');

  heading(doc, t('statementPdf.signatures'));
  const y = doc.y + 30;
  doc.moveTo(MARGIN, y).lineTo(MARGIN + 220, y).lineWidth(0.7).strokeColor('black').stroke();
  doc.moveTo(MARGIN + 275, y).lineTo(MARGIN + WIDTH, y).stroke();
  doc.font('Helvetica').fontSize(9).text(t('statementPdf.signCentre', { scheme: s.schemeName }), MARGIN, y + 5, { width: 220 });
  doc.text(t('statementPdf.signParty', { party: s.party.name }), MARGIN + 275, y + 5, { width: WIDTH - 275 });

  doc.end();
  return done;
}
