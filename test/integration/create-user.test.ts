// `npm run user:create`: the first admin of an installation without demo data.

import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processEnv, startHarness, type Harness } from '../helpers/harness.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

function createUser(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/create-user.ts', ...args], {
    cwd: ROOT, encoding: 'utf8', timeout: 60_000,
    env: { ...process.env, ...processEnv(h), ...env },
  });
}

describe('user:create', () => {
  it('creates an admin whose generated password signs in (second factor to enrol next), once', async () => {
    const email = `first-admin-${randomUUID().slice(0, 8)}@example.test`;
    const r = createUser(['--email', email, '--role', 'admin', '--name', 'First Admin']);
    expect(r.status, r.stderr).toBe(0);
    const password = /password \(shown once\): (\S+)/.exec(r.stdout)?.[1];
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const signIn = await h.deps.users.signIn(email, password!, '127.0.0.1');
    expect(signIn.session.user.role).toBe('admin');
    expect(signIn.secondFactor).toBe('enrol');

    const again = createUser(['--email', email, '--role', 'admin'], { PORTAL_USER_PASSWORD: 'another-long-password-1' });
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('user_exists');
  });

  it('refuses an unknown role with its usage and creates nothing', async () => {
    const email = `nobody-${randomUUID().slice(0, 8)}@example.test`;
    const r = createUser(['--email', email, '--role', 'root']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: npm run user:create');
    expect((await h.deps.users.list()).some((u) => u.email === email)).toBe(false);
  });
});
