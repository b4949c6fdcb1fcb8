// The printable Print@Home voucher: one A4 page with the amount, the code grouped for reading
// aloud, a QR code that tills scan, the expiry date, where it can be used and how to verify it.

import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import { formatMoney, type Currency } from '../domain/money.ts';

export interface VoucherContent {
  schemeName: string;
  acceptedAt: string;
  /** The card code as printed: XXXX-XXXX-XXXX-XXXX. */
  code: string;
  amount: bigint;
  currency: Currency;
  expiresAt: Date;
  orderId: string;
  issuedAt: Date;
}

const A4 = { width: 595.28, height: 841.89 };

export async function renderVoucherPdf(v: VoucherContent): Promise<Buffer> {
  // The QR carries the code exactly as printed; its check character makes a damaged scan fail.
  const qr = await QRCode.toBuffer(v.code, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 10 });
  const doc = new PDFDocument({
    size: 'A4', margin: 56,
    // Fixed metadata so the same voucher renders to the same bytes every time.
    info: { Title: `${v.schemeName} ${v.code.slice(-4)}`, Author: v.schemeName, CreationDate: v.issuedAt },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const left = 56;
  const width = A4.width - 112;
  doc.rect(left - 16, 40, width + 32, 470).lineWidth(1.5).strokeColor('#1f4e79').stroke();
  doc.fillColor('#1f4e79').font('Helvetica-Bold').fontSize(26).text(v.schemeName, left, 64, { width, align: 'center' });
  doc.fillColor('#333').font('Helvetica').fontSize(12).text(`Valid in ${v.acceptedAt}`, { width, align: 'center' });
  doc.moveDown(1.2);
  doc.fillColor('#000').font('Helvetica-Bold').fontSize(40).text(formatMoney({ amount: v.amount, currency: v.currency }), { width, align: 'center' });
  doc.image(qr, left + width / 2 - 90, 230, { width: 180, height: 180 });
  doc.font('Courier-Bold').fontSize(24).text(v.code, left, 425, { width, align: 'center', characterSpacing: 1 });
  doc.font('Helvetica').fontSize(11).fillColor('#333')
    .text(`Valid until ${v.expiresAt.toISOString().slice(0, 10)}`, left, 462, { width, align: 'center' });

  doc.fillColor('#000').font('Helvetica-Bold').fontSize(13).text('How to use it', left, 540);
  doc.font('Helvetica').fontSize(11).text(
    `It is accepted in ${v.acceptedAt}. Show this page, printed or on screen, at the till: staff scan the QR code `
    + 'or type the code. You can pay with it in several purchases until the balance is used up.', { width });
  doc.moveDown(0.8);
  doc.font('Helvetica-Bold').fontSize(13).text('Keep it safe');
  doc.font('Helvetica').fontSize(11).text(
    'Whoever has the code can spend the voucher: treat it like cash. Staff will never ask you for the code by phone '
    + 'or e-mail.', { width });
  doc.moveDown(0.8);
  doc.font('Helvetica-Bold').fontSize(13).text('Verify it');
  doc.font('Helvetica').fontSize(11).text(
    `A genuine voucher ends in ${v.code.slice(-4)} and its code passes the till's check. Any till in the centre `
    + 'shows its balance.', { width });
  doc.moveDown(1.5);
  doc.fontSize(9).fillColor('#666').text(`Order ${v.orderId} - issued ${v.issuedAt.toISOString().slice(0, 10)}`, { width });
  doc.end();
  return done;
}
