// Committed migrations are never edited: every database, migrated long ago or today, must have
// the same schema. prisma/migrations/checksums.json records a SHA-256 per migration folder when
// it is added (`npm run migrations:lock`); `npm run migrations:check` (in CI) fails when a
// recorded migration changed, disappeared, or a new one is not recorded yet.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../prisma/migrations', import.meta.url));
const LOCK_FILE = 'checksums.json';

/** SHA-256 over a migration folder's files (names and bytes, in name order). */
export function folderChecksum(dir: string): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (!statSync(file).isFile()) continue;
    hash.update(`${name}\0`).update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

export function currentChecksums(dir = MIGRATIONS_DIR): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort()
    .filter((name) => statSync(path.join(dir, name)).isDirectory())
    .map((name) => [name, folderChecksum(path.join(dir, name))]));
}

export function recordedChecksums(dir = MIGRATIONS_DIR): Record<string, string> {
  const file = path.join(dir, LOCK_FILE);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as Record<string, string> : {};
}

/** What is wrong with the migrations against the lock file; empty when nothing is. */
export function checkMigrations(dir = MIGRATIONS_DIR): string[] {
  const recorded = recordedChecksums(dir);
  const current = currentChecksums(dir);
  const problems: string[] = [];
  for (const [name, sum] of Object.entries(recorded)) {
    if (!(name in current)) problems.push(`${name}: recorded but missing (a committed migration must stay)`);
    else if (current[name] !== sum) problems.push(`${name}: changed since it was recorded (never edit a committed migration; add a new one)`);
  }
  for (const name of Object.keys(current)) {
    if (!(name in recorded)) problems.push(`${name}: new and not recorded yet (run npm run migrations:lock)`);
  }
  return problems;
}

/** Records new migrations; refuses while a recorded one changed or went missing. */
export function lockMigrations(dir = MIGRATIONS_DIR): string[] {
  const recorded = recordedChecksums(dir);
  const current = currentChecksums(dir);
  const broken = checkMigrations(dir).filter((p) => !p.includes('not recorded yet'));
  if (broken.length) throw new Error(`not recording: ${broken.join('; ')}`);
  const added = Object.keys(current).filter((name) => !(name in recorded));
  writeFileSync(path.join(dir, LOCK_FILE), `${JSON.stringify({ ...recorded, ...Object.fromEntries(added.map((n) => [n, current[n]!])) }, null, 2)}\n`);
  return added;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--lock')) {
    const added = lockMigrations();
    console.log(added.length ? `recorded: ${added.join(', ')}` : 'every migration is recorded already');
  } else {
    const problems = checkMigrations();
    for (const p of problems) console.error(`migrations: ${p}`);
    if (problems.length) process.exit(1);
    console.log(`migrations: ${Object.keys(recordedChecksums()).length} recorded, none changed`);
  }
}
