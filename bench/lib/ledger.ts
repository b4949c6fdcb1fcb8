// `scripts/check-ledger.ts` against the bench database, as a child process so its exit code is the
// verdict; the output's last line (or first error) goes into the benchmark's report.

import { spawn } from 'node:child_process';
import { ROOT } from './engine.ts';

export function checkLedger(databaseUrl: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/check-ledger.ts'], {
      cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => resolve({ ok: false, output: err.message }));
    child.on('close', (code) => resolve({ ok: code === 0, output: output.trim() }));
  });
}
