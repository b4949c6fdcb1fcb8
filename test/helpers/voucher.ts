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

export function pdfQrCode(pdf: Buffer): string | null {
  const dir = mkdtempSync(path.join(tmpdir(), 'voucher-'));
  writeFileSync(path.join(dir, 'v.pdf'), pdf);
  execFileSync('pdftoppm', ['-png', '-r', '110', '-singlefile', path.join(dir, 'v.pdf'), path.join(dir, 'page')]);
  const png = PNG.sync.read(readFileSync(path.join(dir, 'page.png')));
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? null;
}
