// A scratch-card batch's print file: CSV for variable-data printing, and print-ready PDF sheets
// (A4, 3 x 7 cards, each with its code as text and QR, its serial and its value), streamed page by
// page so a large batch never sits in memory as one document.

import PDFDocument from 'pdfkit';
import { formatCardCode } from '../domain/card-code.ts';
import { formatMoney, type Currency } from '../domain/money.ts';
import { drawQrCode } from './pdf-qr.ts';
import { csvField } from './statement-csv.ts';
import type { PrintRow } from './card-batches.ts';

export function* batchCsv(rows: PrintRow[]): Generator<string> {
  yield 'position,serial,code,activation_code\r\n';
  for (let i = 0; i < rows.length; i += 1_000) {
    yield rows.slice(i, i + 1_000).map((r) => [String(r.seq), r.serial, formatCardCode(r.code), r.activationCode].map(csvField).join(',') + '\r\n').join('');
  }
}

const COLUMNS = 3;
const ROWS = 7;

/** The sheets as a PDFKit document the caller pipes out; it ends after the last page. */
export function batchPdf(rows: PrintRow[], value: { faceValue: number | null; currency: string; schemeName: string }): PDFKit.PDFDocument {
  const doc = new PDFDocument({ size: 'A4', margin: 28, autoFirstPage: false });
  const valueText = value.faceValue === null ? 'Value set at activation' : formatMoney({ amount: BigInt(value.faceValue), currency: value.currency as Currency });
  void (async () => {
    for (let i = 0; i < rows.length; i++) {
      const slot = i % (COLUMNS * ROWS);
      if (slot === 0) {
        // A page at a time, then back to the event loop: the reader drains it, and a large
        // batch neither sits in memory nor holds up other requests.
        if (i > 0) await new Promise((resolve) => setImmediate(resolve));
        doc.addPage();
      }
      const cellW = (doc.page.width - 56) / COLUMNS;
      const cellH = (doc.page.height - 56) / ROWS;
      const x = 28 + (slot % COLUMNS) * cellW;
      const y = 28 + Math.floor(slot / COLUMNS) * cellH;
      const r = rows[i]!;
      doc.rect(x + 2, y + 2, cellW - 4, cellH - 4).lineWidth(0.5).stroke('#999');
      drawQrCode(doc, r.code, x + 8, y + 10, cellH - 24, 1);
      const tx = x + cellH - 8;
      doc.fillColor('#000').fontSize(8).text(value.schemeName, tx, y + 12, { width: cellW - cellH });
      doc.fontSize(10).text(valueText, tx, y + 26, { width: cellW - cellH });
      doc.font('Courier').fontSize(8).text(formatCardCode(r.code), tx, y + 44, { width: cellW - cellH });
      doc.font('Helvetica').fontSize(7).text(`Serial ${r.serial}`, tx, y + 62, { width: cellW - cellH });
    }
    doc.end();
  })().catch((err) => doc.emit('error', err));
  return doc;
}
