// `npm test` (everything that needs no browser) and `npm run test:e2e` (browser tests).
// Vitest itself starts the services (test/global-setup.ts). The last line printed is the plain
// "N passed, N failed" summary that CI reads.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const e2e = process.argv.includes('--e2e');
const extra = process.argv.slice(2).filter((a) => a !== '--e2e');

// Debian packages the tests use: poppler-utils reads voucher PDFs as a person would (text and
// the QR code from the rendered page); Chromium runs the browser tests.
const needed = [
  ...(existsSync('/usr/bin/pdftotext') && existsSync('/usr/bin/pdftoppm') ? [] : ['poppler-utils']),
  ...(e2e && !existsSync('/usr/bin/chromium') ? ['chromium'] : []),
];
if (needed.length) {
  console.log(`[test] installing Debian packages: ${needed.join(' ')}`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  for (const args of [['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', ...needed]]) {
    const command = [...sudo, ...args];
    const r = spawnSync(command[0]!, command.slice(1), {
      stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}

mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
const report = path.join(ROOT, 'test-artifacts', e2e ? 'e2e-results.json' : 'results.json');
const result = spawnSync(process.execPath, [
  path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run',
  '--config', e2e ? 'vitest.e2e.config.ts' : 'vitest.config.ts',
  '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra,
], { cwd: ROOT, stdio: 'inherit' });

let passed = 0;
let failed = 0;
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number };
  passed = json.numPassedTests;
  failed = json.numFailedTests;
}
if (result.status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(result.status ?? 1);
