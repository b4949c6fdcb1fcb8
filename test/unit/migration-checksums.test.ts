// A committed migration never changes: the check fails on an edited, a removed or an unrecorded one.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkMigrations, lockMigrations } from '../../scripts/migration-checksums.ts';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function migration(name: string, sql: string): void {
  mkdirSync(path.join(dir, name), { recursive: true });
  writeFileSync(path.join(dir, name, 'migration.sql'), sql);
}

describe('migration checksums', () => {
  it('records new migrations and then fails on an edit, a removal and an unrecorded one', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'migrations-'));
    migration('001_a', 'CREATE TABLE a (id int);');
    migration('002_b', 'CREATE TABLE b (id int);');
    expect(checkMigrations(dir)).toHaveLength(2);
    expect(lockMigrations(dir)).toEqual(['001_a', '002_b']);
    expect(checkMigrations(dir)).toEqual([]);

    migration('002_b', 'CREATE TABLE b (id bigint);');
    migration('003_c', 'CREATE TABLE c (id int);');
    rmSync(path.join(dir, '001_a'), { recursive: true });
    const problems = checkMigrations(dir);
    expect(problems).toEqual([
      expect.stringMatching(/^001_a: recorded but missing/),
      expect.stringMatching(/^002_b: changed since it was recorded/),
      expect.stringMatching(/^003_c: new and not recorded yet/),
    ]);
    expect(() => lockMigrations(dir)).toThrow(/not recording/);
  });

});
