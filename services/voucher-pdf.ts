// The printable Print@Home voucher: one A4 page with the amount, the code grouped for reading
// aloud, a QR code that tills scan, the expiry date, where it can be used and how to verify it.

import PDFDocument from 'pdfkit';
import type { Currency } from '../domain/money.ts';
import { formatAmount, formatDay, translator, type Locale } from './i18n/index.ts';
import { drawQrCode } from './pdf-qr.ts';

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
  /** The shopper's language. */
  locale: Locale;
  /** The centre's time zone: the days printed are its calendar days. */
  timeZone: string;
}

const A4 = { width: 595.28, height: 841.89 };

export async function renderVoucherPdf(v: VoucherContent): Promise<Buffer> {
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

  const t = translator(v.locale);
  const day = (at: Date) => formatDay(v.locale, at, v.timeZone);
  const left = 56;
  const width = A4.width - 112;
  doc.rect(left - 16, 40, width + 32, 470).lineWidth(1.5).strokeColor('#1f4e79').stroke();
  doc.fillColor('#1f4e79').font('Helvetica-Bold').fontSize(26).text(v.schemeName, left, 64, { width, align: 'center' });
  doc.fillColor('#333').font('Helvetica').fontSize(12).text(t('voucherPdf.validIn', { acceptedAt: v.acceptedAt }), { width, align: 'center' });
  doc.moveDown(1.2);
  doc.fillColor('#000').font('Helvetica-Bold').fontSize(40).text(formatAmount(v.locale, v.amount, v.currency), { width, align: 'center' });
  // The QR carries the code exactly as printed; its check character makes a damaged scan fail.
  drawQrCode(doc, v.code, left + width / 2 - 90, 230, 180, 2);
  doc.font('Courier-Bold').fontSize(24).text(v.code, left, 425, { width, align: 'center', characterSpacing: 1 });
  doc.font('Helvetica').fontSize(11).fillColor('#333')
    .text(t('voucherPdf.validUntil', { day: day(v.expiresAt) }), left, 462, { width, align: 'center' });

  doc.fillColor('#000').font('Helvetica-Bold').fontSize(13).text(t('voucherPdf.howTitle'), left, 540);
  doc.font('Helvetica').fontSize(11).text(t('voucherPdf.howText', { acceptedAt: v.acceptedAt }), { width });
  doc.moveDown(0.8);
  doc.font('Helvetica-Bold').fontSize(13).text(t('voucherPdf.safeTitle'));
  doc.font('Helvetica').fontSize(11).text(t('voucherPdf.safeText'), { width });
  doc.moveDown(0.8);
  doc.font('Helvetica-Bold').fontSize(13).text(t('voucherPdf.verifyTitle'));
  doc.font('Helvetica').fontSize(11).text(t('voucherPdf.verifyText', { last4: v.code.slice(-4) }), { width });
  doc.moveDown(1.5);
  doc.fontSize(9).fillColor('#666').text(t('voucherPdf.footer', { orderId: v.orderId, day: day(v.issuedAt) }), { width });
  doc.end();
  return done;
}
