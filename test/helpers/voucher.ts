// Reads a voucher PDF the way a till and a person would: the QR code from the rendered page,
// the printed text with pdftotext (poppler-utils, installed by the test runner if missing).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';

// jsqr is CommonJS whose types declare an ES default export; take whichever shape arrives.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ?? jsQRModule) as unknown as typeof jsQRModule.default;

export function pdfText(pdf: Buffer): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'voucher-'));
  writeFileSync(path.join(dir, 'v.pdf'), pdf);
  execFileSync('pdftotext', ['-layout', path.join(dir, 'v.pdf'), path.join(dir, 'v.txt')]);
  return readFileSync(path.join(dir, 'v.txt'), 'utf8');
}

/**
 * The QR code on a PDF's first page, rendered at 110 dpi. `region` (in points from the top left)
 * reads one code of a page that holds several: jsQR finds none where many finder patterns are in view.
 */
export function pdfQrCode(pdf: Buffer, region?: { x: number; y: number; width: number; height: number }): string | null {
  const dir = mkdtempSync(path.join(tmpdir(), 'voucher-'));
  writeFileSync(path.join(dir, 'v.pdf'), pdf);
  const dpi = 110;
  execFileSync('pdftoppm', ['-png', '-r', String(dpi), '-singlefile', path.join(dir, 'v.pdf'), path.join(dir, 'page')]);
  const png = PNG.sync.read(readFileSync(path.join(dir, 'page.png')));
  if (!region) return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
  const px = (points: number) => Math.round((points * dpi) / 72);
  const [x0, y0, width, height] = [px(region.x), px(region.y), px(region.width), px(region.height)];
  const crop = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    const from = ((y0 + y) * png.width + x0) * 4;
    crop.set(png.data.subarray(from, from + width * 4), y * width * 4);
  }
  return jsQR(crop, width, height)?.data ?? null;
}
