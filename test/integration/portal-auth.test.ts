// Portal sign-in: scrypt-hashed passwords, httpOnly SameSite=Strict session cookies, CSRF tokens on
// changes, attempts counted before checking with progressive delays, and a second factor (TOTP,
// single-use codes, recovery codes) that admin and finance must use and admins can require.

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { signIn, trpc } from '../helpers/portal.ts';

let h: Harness;
const password = 'correct horse battery staple';
const email = () => `user-${randomUUID().slice(0, 8)}@centre.test`;
let FREE: number;

beforeAll(async () => {
  h = await startHarness({ worker: false });
  FREE = h.deps.users.policy.freeAttemptsPerClient;
});
afterAll(async () => {
  await h?.close();
});

describe('portal sign-in', () => {
  it('stores only a memory-hard hash and answers with an httpOnly, SameSite=Strict session cookie', async () => {
    const address = email();
    const user = await h.deps.users.create({ email: address.toUpperCase(), displayName: 'Sue', role: 'support', password });
    expect(user.email).toBe(address);
    const { rows } = await h.deps.db.pool.query('SELECT password_hash FROM users WHERE id = $1', [user.userId]);
    expect(rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(rows[0].password_hash).not.toContain(password);

    const session = await signIn(h, address, password);
    expect(session.response.status).toBe(200);
    expect(session.response.data).toMatchObject({ user: { email: address, role: 'support' }, pendingSecondFactor: false, secondFactor: 'none' });
    const cookie = session.response.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^ve_session=[\w-]{43};/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\//);
    // The token is not stored, only its hash.
    const token = session.cookie!.split('=')[1]!;
    expect((await h.deps.db.pool.query('SELECT count(*)::int AS n FROM sessions WHERE token_hash = $1', [token])).rows[0].n).toBe(0);

    const me = await trpc(h, 'query', 'auth.me', undefined, session);
    expect(me.data.user.userId).toBe(user.userId);
    expect((await trpc(h, 'query', 'support.stuck', { thresholdMinutes: 60 }, session)).code).not.toBe('unauthenticated');

    // Changes need the CSRF token besides the cookie.
    const noCsrf = await trpc(h, 'mutation', 'transactions.void', { holdId: randomUUID() }, { cookie: session.cookie });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.code).toBe('csrf_token_invalid');
    const wrongCsrf = await trpc(h, 'mutation', 'transactions.void', { holdId: randomUUID() }, { cookie: session.cookie, csrf: 'x'.repeat(32) });
    expect(wrongCsrf.code).toBe('csrf_token_invalid');

    // Signing out ends the session for good.
    expect((await trpc(h, 'mutation', 'auth.signOut', {}, session)).data).toEqual({ signedOut: true });
    expect((await trpc(h, 'query', 'auth.me', undefined, session)).data).toBeNull();
    expect((await trpc(h, 'query', 'transactions.list', {}, session)).code).toBe('unauthenticated');
  });

  it('answers an unknown e-mail exactly like a wrong password, and delays an address after repeated failures', async () => {
    const address = email();
    await h.deps.users.create({ email: address, displayName: 'Sup', role: 'support', password });
    const unknownAddress = email();
    const answers = async (who: string) => {
      const seen: string[] = [];
      for (let i = 0; i < FREE + 1; i++) {
        const res = await signIn(h, who, 'wrong password!!');
        expect(res.cookie).toBeUndefined();
        seen.push(`${res.response.status} ${res.response.code}`);
      }
      return seen;
    };
    const known = await answers(address);
    expect(known).toEqual([...Array(FREE).fill('401 invalid_credentials'), '429 account_locked']);
    expect(await answers(unknownAddress)).toEqual(known);

    // Delayed: even the right password is refused until the delay ends.
    const locked = await signIn(h, address, password);
    expect([locked.response.status, locked.response.code]).toEqual([429, 'account_locked']);
    expect(locked.cookie).toBeUndefined();
    await h.deps.db.pool.query(`UPDATE sign_in_throttles SET blocked_until = now() - interval '1 second' WHERE email = $1`, [h.deps.pii.lookupHash(address)]);
    expect((await signIn(h, address, password)).response.status).toBe(200);
    const { rows } = await h.deps.db.pool.query(`SELECT action FROM audit_entries WHERE actor = $1 ORDER BY id`, [address]);
    expect(rows.map((r) => r.action)).toEqual([
      ...Array(FREE).fill('sign_in_refused:invalid_credentials'), 'sign_in_refused:account_locked', 'sign_in_refused:account_locked', 'sign_in',
    ]);
  });

  it('counts 200 parallel wrong passwords before checking them: only the free attempts are checked, and a right guess then does not get in', async () => {
    const admin = await h.deps.users.create({ email: email(), displayName: 'Target', role: 'admin', password });
    const guesses = await Promise.all(Array.from({ length: 200 }, () => trpc(h, 'mutation', 'auth.signIn', { email: admin.email, password: 'a wrong guess!!' })));
    const tally: Record<string, number> = {};
    for (const g of guesses) tally[`${g.status} ${g.code}`] = (tally[`${g.status} ${g.code}`] ?? 0) + 1;
    expect(tally).toEqual({ '401 invalid_credentials': FREE, '429 account_locked': 200 - FREE });
    const { rows } = await h.deps.db.pool.query(`SELECT client, attempts FROM sign_in_throttles WHERE email = $1 ORDER BY client`, [h.deps.pii.lookupHash(admin.email)]);
    expect(rows).toEqual([{ client: '', attempts: FREE }, { client: '127.0.0.1', attempts: FREE }]);
    // The right password, guessed now, does not clear the delay.
    const right = await trpc(h, 'mutation', 'auth.signIn', { email: admin.email, password });
    expect(right.code).toBe('account_locked');
  });

  it('counts parallel TOTP guesses before checking them, in the same budget as the password', async () => {
    const user = await h.deps.users.create({ email: email(), displayName: 'Guessed', role: 'finance', password });
    await signIn(h, user.email, password); // enrols; a completed sign-in starts the count afresh
    const pending = await signIn(h, user.email, password, { secondFactor: false }); // one attempt, still counted
    const guesses = await Promise.all(Array.from({ length: 100 }, (_, i) =>
      trpc(h, 'mutation', 'auth.verifyTotp', { code: String(i).padStart(6, '0') }, pending)));
    const tally: Record<string, number> = {};
    for (const g of guesses) tally[`${g.status} ${g.code}`] = (tally[`${g.status} ${g.code}`] ?? 0) + 1;
    const checked = tally['401 invalid_credentials'] ?? 0;
    // One of a hundred codes may be the right one by chance; then it got in and the rest were refused.
    expect(checked + (tally['200 null'] ?? 0)).toBe(FREE - 1);
    expect(tally['429 account_locked']).toBe(100 - (FREE - 1));
  });

  it('delays progressively, per client address first: another address still signs in', async () => {
    const user = await h.deps.users.create({ email: email(), displayName: 'Prog', role: 'support', password });
    const { freeAttemptsPerClient, firstDelaySeconds } = h.deps.users.policy;
    for (let i = 0; i < freeAttemptsPerClient; i++) await h.deps.users.signIn(user.email, 'wrong password!!', '203.0.113.7').catch(() => {});
    const delay = async (client: string) => (await h.deps.db.pool.query(
      `SELECT extract(epoch FROM blocked_until - updated_at)::int AS s FROM sign_in_throttles WHERE email = $1 AND client = $2`, [h.deps.pii.lookupHash(user.email), client])).rows[0]?.s;
    expect(await delay('203.0.113.7')).toBe(firstDelaySeconds);
    // The next failure after the delay waits twice as long.
    await h.deps.db.pool.query(`UPDATE sign_in_throttles SET blocked_until = now() WHERE email = $1`, [h.deps.pii.lookupHash(user.email)]);
    await expect(h.deps.users.signIn(user.email, 'wrong password!!', '203.0.113.7')).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(await delay('203.0.113.7')).toBe(firstDelaySeconds * 2);
    await expect(h.deps.users.signIn(user.email, password, '203.0.113.7')).rejects.toMatchObject({ code: 'account_locked' });
    // The account as a whole is under its own, larger budget: its owner elsewhere is not locked out.
    expect((await h.deps.users.signIn(user.email, password, '198.51.100.2')).secondFactor).toBe('none');
  });

  it('limits sign-in requests per client address, across accounts', async () => {
    const redis = new Redis(inject('redisUrl') as string);
    const saved = h.deps.users.policy.perClientPerMinute;
    try {
      await redis.del('vc:rl:sign-in:127.0.0.1');
      h.deps.users.policy.perClientPerMinute = 3;
      for (let i = 0; i < 3; i++) expect((await signIn(h, email(), 'wrong password!!')).response.code).toBe('invalid_credentials');
      const limited = await signIn(h, email(), 'wrong password!!');
      expect([limited.response.status, limited.response.code]).toEqual([429, 'rate_limited']);
    } finally {
      h.deps.users.policy.perClientPerMinute = saved;
      await redis.del('vc:rl:sign-in:127.0.0.1');
      redis.disconnect();
    }
  });

  it('lets an admin require a second factor: enrol, then a single-use TOTP code at every sign-in', async () => {
    const admin = await h.deps.users.create({ email: email(), displayName: 'Admin', role: 'admin', password });
    const target = await h.deps.users.create({ email: email(), displayName: 'Support two', role: 'support', password });
    const adminSession = await signIn(h, admin.email, password);
    const required = await trpc(h, 'mutation', 'users.setTotpRequired', { userId: target.userId, required: true }, adminSession);
    expect(required.data).toMatchObject({ totpRequired: true, totpRequiredByRole: false, totpEnrolled: false });

    // Password alone opens nothing but the enrolment.
    const first = await signIn(h, target.email, password, { secondFactor: false });
    expect(first.response.data).toMatchObject({ pendingSecondFactor: true, secondFactor: 'enrol' });
    expect((await trpc(h, 'query', 'support.stuck', { thresholdMinutes: 60 }, first)).code).toBe('second_factor_required');
    const enrolment = await trpc(h, 'mutation', 'auth.enrolTotp', {}, first);
    expect(enrolment.data.uri).toMatch(/^otpauth:\/\/totp\//);
    const { rows } = await h.deps.db.pool.query('SELECT totp_secret FROM users WHERE id = $1', [target.userId]);
    expect(rows[0].totp_secret).not.toContain(enrolment.data.secret); // sealed at rest
    expect((await trpc(h, 'mutation', 'auth.enrolTotp', {}, first)).code).toBe('totp_already_enrolled');

    const wrong = await trpc(h, 'mutation', 'auth.verifyTotp', { code: '000000' }, first);
    expect(wrong.code).toBe('invalid_credentials');
    const code = await h.deps.users.currentTotpCode(target.userId);
    const verified = await trpc(h, 'mutation', 'auth.verifyTotp', { code }, first);
    expect(verified.data).toMatchObject({ pendingSecondFactor: false, secondFactor: 'none' });
    expect((await trpc(h, 'query', 'support.stuck', { thresholdMinutes: 60 }, first)).code).not.toBe('second_factor_required');

    // The next sign-in asks for the code straight away, and the code just used is not good again.
    const second = await signIn(h, target.email, password, { secondFactor: false });
    expect(second.response.data).toMatchObject({ pendingSecondFactor: true, secondFactor: 'verify' });
    expect((await trpc(h, 'mutation', 'auth.verifyTotp', { code }, second)).code).toBe('invalid_credentials');
    const fresh = await h.deps.users.currentTotpCode(target.userId);
    expect(fresh).not.toBe(code);
    expect((await trpc(h, 'mutation', 'auth.verifyTotp', { code: fresh }, second)).status).toBe(200);
  }, 90_000);

  it('accepts one TOTP code once even when two sessions send it at the same moment', async () => {
    const user = await h.deps.users.create({ email: email(), displayName: 'Race', role: 'finance', password });
    await signIn(h, user.email, password); // enrols
    const sessions = await Promise.all([1, 2].map(() => signIn(h, user.email, password, { secondFactor: false })));
    const code = await h.deps.users.currentTotpCode(user.userId);
    const results = await Promise.all(sessions.map((s) => trpc(h, 'mutation', 'auth.verifyTotp', { code }, s)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  }, 90_000);

  it('gives ten recovery codes once at enrolment, stores them hashed, and takes each once', async () => {
    const user = await h.deps.users.create({ email: email(), displayName: 'Lost phone', role: 'finance', password });
    const first = await signIn(h, user.email, password, { secondFactor: false });
    const enrolment = await trpc(h, 'mutation', 'auth.enrolTotp', {}, first);
    const codes: string[] = enrolment.data.recoveryCodes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    const stored = (await h.deps.db.pool.query('SELECT code_hash FROM recovery_codes WHERE user_id = $1', [user.userId])).rows.map((r) => r.code_hash);
    expect(stored).toHaveLength(10);
    for (const c of codes) expect(JSON.stringify(stored)).not.toContain(c.replace(/-/g, ''));

    // Typed by hand: lower case, without dashes.
    const used = await trpc(h, 'mutation', 'auth.verifyTotp', { recoveryCode: codes[0]!.toLowerCase().replace(/-/g, '') }, first);
    expect(used.data).toMatchObject({ pendingSecondFactor: false });
    const again = await signIn(h, user.email, password, { secondFactor: false });
    expect((await trpc(h, 'mutation', 'auth.verifyTotp', { recoveryCode: codes[0] }, again)).code).toBe('invalid_credentials');
    expect((await trpc(h, 'mutation', 'auth.verifyTotp', { recoveryCode: codes[1] }, again)).status).toBe(200);
    const log = (await h.deps.db.pool.query(`SELECT action, details FROM audit_entries WHERE subject = $1 ORDER BY id`, [`user:${user.userId}`])).rows;
    expect(log.filter((e) => e.action === 'recovery_code_used').map((e) => e.details.left)).toEqual([9, 8]);
    // Neither the codes nor the secret are shown again.
    expect((await trpc(h, 'mutation', 'auth.enrolTotp', {}, again)).code).toBe('totp_already_enrolled');
  });

  it('requires a second factor of admin and finance: enrolment at the next sign-in, and sessions opened without one end', async () => {
    const admin = await h.deps.users.create({ email: email(), displayName: 'Admin', role: 'admin', password });
    const passwordOnly = await signIn(h, admin.email, password, { secondFactor: false });
    expect(passwordOnly.response.data).toMatchObject({ pendingSecondFactor: true, secondFactor: 'enrol', user: { totpRequired: true, totpRequiredByRole: true } });
    expect((await trpc(h, 'query', 'users.list', undefined, passwordOnly)).code).toBe('second_factor_required');
    const adminSession = await signIn(h, admin.email, password);
    expect((await trpc(h, 'query', 'users.list', undefined, adminSession)).status).toBe(200);

    // A support user's session, opened with the password alone, ends when they become finance,
    // and likewise when an admin requires a second factor of them.
    for (const change of ['promote', 'require'] as const) {
      const user = await h.deps.users.create({ email: email(), displayName: 'Sue', role: 'support', password });
      const session = await signIn(h, user.email, password);
      expect((await trpc(h, 'query', 'auth.me', undefined, session)).data).not.toBeNull();
      if (change === 'promote') await trpc(h, 'mutation', 'users.update', { userId: user.userId, role: 'finance' }, adminSession);
      else await trpc(h, 'mutation', 'users.setTotpRequired', { userId: user.userId, required: true }, adminSession);
      expect((await trpc(h, 'query', 'auth.me', undefined, session)).data).toBeNull();
      expect((await trpc(h, 'query', 'transactions.list', {}, session)).code).toBe('unauthenticated');
      expect((await signIn(h, user.email, password, { secondFactor: false })).response.data.secondFactor).toBe('enrol');
    }
    // Admins cannot lift the requirement that comes with the role.
    const fin = await h.deps.users.create({ email: email(), displayName: 'Fin', role: 'finance', password });
    expect((await trpc(h, 'mutation', 'users.setTotpRequired', { userId: fin.userId, required: false }, adminSession)).data.totpRequired).toBe(true);
  });

  it('lets an admin reset a user\'s second factor: audited, signs them out, and the next sign-in enrols a new one', async () => {
    const admin = await h.deps.users.create({ email: email(), displayName: 'Admin', role: 'admin', password });
    const adminSession = await signIn(h, admin.email, password);
    const user = await h.deps.users.create({ email: email(), displayName: 'Fin', role: 'finance', password });
    const session = await signIn(h, user.email, password);
    expect((await trpc(h, 'query', 'auth.me', undefined, session)).data.user.totpEnrolled).toBe(true);

    const reset = await trpc(h, 'mutation', 'users.resetSecondFactor', { userId: user.userId }, adminSession);
    expect(reset.data).toMatchObject({ totpEnrolled: false, totpRequired: true });
    expect((await trpc(h, 'query', 'auth.me', undefined, session)).data).toBeNull();
    expect((await h.deps.db.pool.query('SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = $1', [user.userId])).rows[0].n).toBe(0);
    expect((await signIn(h, user.email, password, { secondFactor: false })).response.data.secondFactor).toBe('enrol');
    const log = await trpc(h, 'query', 'admin.auditLog', { text: user.userId }, adminSession);
    expect(log.data.entries.find((e: any) => e.action === 'second_factor_reset')).toMatchObject({ actor: 'Admin', subject: `user:${user.userId}` });
    expect((await trpc(h, 'mutation', 'users.resetSecondFactor', { userId: randomUUID() }, adminSession)).code).toBe('not_found');
  });

  it('refuses malformed sign-in input with 400 and changes nothing', async () => {
    for (const input of [{}, { email: 'a@b.c' }, { email: 'a@b.c', password: '' }, { email: 'a@b.c', password: 'x', extra: 1 }]) {
      const res = await trpc(h, 'mutation', 'auth.signIn', input);
      expect(res.status).toBe(400);
      expect(res.code).toBe('validation_error');
    }
    const weak = await trpc(h, 'mutation', 'users.create', { email: email(), displayName: 'X', role: 'finance', password: 'short' },
      await signIn(h, (await h.deps.users.create({ email: email(), displayName: 'A', role: 'admin', password })).email, password));
    expect([weak.status, weak.code]).toEqual([400, 'validation_error']);
  });

  it('lets an admin change a role, lift a lockout and disable a user, who is signed out at once', async () => {
    const admin = await h.deps.users.create({ email: email(), displayName: 'Admin', role: 'admin', password });
    const adminSession = await signIn(h, admin.email, password);
    const user = await h.deps.users.create({ email: email(), displayName: 'Sue', role: 'support', password });
    const session = await signIn(h, user.email, password);
    expect((await trpc(h, 'query', 'clearing.list', undefined, session)).code).toBe('forbidden');

    // A new role applies at once to the same session.
    const moved = await trpc(h, 'mutation', 'users.update', { userId: user.userId, role: 'store_staff', storeId: h.storeA }, adminSession);
    expect(moved.data).toMatchObject({ role: 'store_staff', storeId: h.storeA, disabled: false });
    expect((await trpc(h, 'query', 'auth.me', undefined, session)).data.user).toMatchObject({ role: 'store_staff', storeId: h.storeA });
    await trpc(h, 'mutation', 'users.update', { userId: user.userId, role: 'support', storeId: null }, adminSession);

    for (let i = 0; i < FREE; i++) await signIn(h, user.email, 'wrong password!!');
    expect((await trpc(h, 'query', 'users.list', undefined, adminSession)).data.users.find((u: any) => u.userId === user.userId).lockedUntil).not.toBeNull();
    await trpc(h, 'mutation', 'users.update', { userId: user.userId, unlock: true }, adminSession);
    expect((await signIn(h, user.email, password)).response.status).toBe(200);

    expect((await trpc(h, 'mutation', 'users.update', { userId: user.userId, role: 'store_staff' }, adminSession)).code).toBe('validation_error');
    expect((await trpc(h, 'mutation', 'users.update', { userId: admin.userId, disabled: true }, adminSession)).code).toBe('validation_error');
    const disabled = await trpc(h, 'mutation', 'users.update', { userId: user.userId, disabled: true }, adminSession);
    expect(disabled.data.disabled).toBe(true);
    expect((await trpc(h, 'query', 'auth.me', undefined, session)).data).toBeNull();
    expect((await signIn(h, user.email, password)).response.code).toBe('invalid_credentials');
  });
});
