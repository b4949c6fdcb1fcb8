// A billing party's clearing statement as PDF: summary, positions per currency, counterparties and
// a signature block. Rendered from the period's stored positions with fixed metadata, so a rerun of
// the period renders the same bytes.

import PDFDocument from 'pdfkit';
import { formatMoney, type Currency } from '../domain/money.ts';
import type { Counterparty, Position } from './clearing.ts';

export interface StatementContent {
  schemeName: string;
  period: string;
  startsAt: Date;
  endsAt: Date;
  timeZone: string;
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

function money(amount: bigint, currency: string): string {
  return formatMoney({ amount, currency: currency as Currency });
}

function day(d: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: 'long', day: 'numeric' }).format(d);
}

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
  const doc = new PDFDocument({
    // Uncompressed: deflating the page streams was 60% of the render time, for a few KiB of text.
    size: 'A4', margin: MARGIN, compress: false,
    // Fixed metadata: the statement is dated at the end of its period, not when it was rendered.
    info: {
      Title: `Clearing statement ${s.period} - ${s.party.name}`, Author: s.schemeName,
      Subject: `Clearing ${s.period}`, CreationDate: s.endsAt,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.font('Helvetica-Bold').fontSize(18).fillColor(BLUE).text(`${s.schemeName}: clearing statement`, { width: WIDTH });
  doc.moveDown(0.3).font('Helvetica').fontSize(10.5).fillColor('black');
  doc.text(`Billing party: ${s.party.name}`);
  doc.text(`Party id: ${s.party.billingPartyId}`);
  doc.text(`Period: ${s.period} (${day(s.startsAt, s.timeZone)} to ${day(new Date(s.endsAt.getTime() - 1), s.timeZone)}, ${s.timeZone})`);
  doc.moveDown(0.8);

  heading(doc, 'Summary');
  for (const p of s.positions) {
    const owed = p.net >= 0n;
    doc.font('Helvetica-Bold').fontSize(11).text(
      owed ? `The centre pays you ${money(p.net, p.currency)}.` : `You pay the centre ${money(-p.net, p.currency)}.`,
      { width: WIDTH });
  }
  if (s.positions.length === 0) doc.font('Helvetica').text('No transactions in this period.');
  doc.moveDown(0.8);

  heading(doc, 'Positions');
  for (const p of s.positions) {
    table(doc, [255, 90, 150], ['', 'Count', `Amount (${p.currency})`], [
      ['Vouchers sold and loaded at your tills (cash you hold for the scheme)', String(p.salesCount), money(-p.salesAmount, p.currency)],
      ['Vouchers redeemed at your stores', String(p.redemptionsCount), money(p.redemptionsAmount, p.currency)],
      ['Refunds of redemptions back to vouchers', String(p.refundsCount), money(-p.refundsAmount, p.currency)],
      ['Net position (positive: owed to you)', '', money(p.net, p.currency)],
    ], (i) => i === 3);
  }

  heading(doc, 'Counterparties');
  doc.font('Helvetica').fontSize(9.5).text('Redemptions at your stores, by who sold the voucher:', { width: WIDTH });
  doc.moveDown(0.3);
  table(doc, [215, 70, 105, 105], ['Sold by', 'Count', 'Redeemed', 'Refunded'],
    s.accepted.map((c) => [c.issuerName, String(c.redemptionsCount), money(c.redemptionsAmount, c.currency), money(c.refundsAmount, c.currency)]));
  doc.font('Helvetica').fontSize(9.5).text('Your vouchers redeemed at other parties\' stores:', { width: WIDTH });
  doc.moveDown(0.3);
  table(doc, [215, 70, 105, 105], ['Redeemed at', 'Count', 'Redeemed', 'Refunded'],
    s.redeemedElsewhere.map((c) => [c.partyName, String(c.redemptionsCount),
      money(c.redemptionsAmount, c.currency), money(c.refundsAmount, c.currency)]));

  const rows = s.positions.reduce((n, p) => n + p.salesCount + p.redemptionsCount + p.refundsCount, 0n);
  doc.font('Helvetica').fontSize(9).fillColor('#444').text(
    `Every transaction behind these figures (${rows} rows) is in this statement's CSV. Vouchers expired in the ` +
    'period are breakage of the scheme and do not change your position.', { width: WIDTH });
  doc.moveDown(1.5).fillColor('black');

  heading(doc, 'Signatures');
  const y = doc.y + 30;
  doc.moveTo(MARGIN, y).lineTo(MARGIN + 220, y).lineWidth(0.7).strokeColor('black').stroke();
  doc.moveTo(MARGIN + 275, y).lineTo(MARGIN + WIDTH, y).stroke();
  doc.font('Helvetica').fontSize(9).text(`For the centre (${s.schemeName}): name, date, signature`, MARGIN, y + 5, { width: 220 });
  doc.text(`For ${s.party.name}: name, date, signature`, MARGIN + 275, y + 5, { width: WIDTH - 275 });

  doc.end();
  return done;
}
