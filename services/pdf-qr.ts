// A QR code drawn into a PDF as vector squares. Rendering it to a PNG first (qrcode's encoder,
// then pdfkit decoding and deflating the image again) took about a quarter of the worker's CPU per
// Print@Home purchase; squares cost a few path operators, print sharp at any size, and render to
// the same bytes every time.

import type PDFDocument from 'pdfkit';
import QRCode from 'qrcode';

type Doc = InstanceType<typeof PDFDocument>;

/**
 * Draws `text` as a QR code (error correction M) filling the `size`-point square at (x, y),
 * `quietModules` light modules wide on each side, as scanners need.
 */
export function drawQrCode(doc: Doc, text: string, x: number, y: number, size: number, quietModules: number): void {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const count = modules.size;
  const unit = size / (count + 2 * quietModules);
  const origin = { x: x + quietModules * unit, y: y + quietModules * unit };
  doc.save();
  for (let row = 0; row < count; row++) {
    // One rectangle per run of dark modules in a row: far fewer operators than one per module.
    for (let col = 0; col < count; col++) {
      if (!modules.get(row, col)) continue;
      const start = col;
      while (col + 1 < count && modules.get(row, col + 1)) col++;
      doc.rect(origin.x + start * unit, origin.y + row * unit, (col - start + 1) * unit, unit);
    }
  }
  doc.fillColor('#000').fill();
  doc.restore();
}
