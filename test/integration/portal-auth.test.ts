// Portal sign-in: scrypt-hashed passwords, httpOnly SameSite=Strict session cookies, CSRF tokens on
// changes, lockout after repeated failures, and a second factor (TOTP) that admins can require.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { MAX_FAILED_SIGN_INS } from '../../services/users.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { signIn, trpc } from '../helpers/portal.ts';

let h: Harness;
const password = 'correct horse battery staple';
const email = () => `user-${randomUUID().slice(0, 8)}@centre.test`;

beforeAll(async () => {
  h = await startHarness({ worker: false });
});
afterAll(async () => {
  await h?.close();
});

describe('portal sign-in', () => {
  it('stores only a memory-hard hash and answers with an httpOnly, SameSite=Strict session cookie', async () => {
    const address = email();
    const user = await h.deps.users.create({ email: address.toUpperCase(), displayName: 'Fin', role: 'finance', password });
    expect(user.email).toBe(address);
    const { rows } = await h.deps.db.pool.query('SELECT password_hash FROM users WHERE id = $1', [user.userId]);
    expect(rows[0].password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(rows[0].password_hash).not.toContain(password);

    const session = await signIn(h, address, password);
    expect(session.response.status).toBe(200);
    expect(session.response.data).toMatchObject({ user: { email: address, role: 'finance' }, pendingSecondFactor: false, secondFactor: 'none' });
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
    expect((await trpc(h, 'query', 'clearing.list', undefined, session)).status).toBe(200);

    // Changes need the CSRF token besides the cookie.
    const noCsrf = await trpc(h, 'mutation', 'clearing.start', { period: '2024-01' }, { cookie: session.cookie });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.code).toBe('csrf_token_invalid');
    const wrongCsrf = await trpc(h, 'mutation', 'clearing.start', { period: '2024-01' }, { cookie: session.cookie, csrf: 'x'.repeat(32) });
    expect(wrongCsrf.code).toBe('csrf_token_invalid');

    // Signing out ends the session for good.
    expect((await trpc(h, 'mutation', 'auth.signOut', {}, session)).data).toEqual({ signedOut: true });
    expect((await trpc(h, 'query', 'auth.me', undefined, session)).data).toBeNull();
    expect((await trpc(h, 'query', 'clearing.list', undefined, session)).code).toBe('unauthenticated');
  });

  it('refuses wrong passwords and unknown e-mails alike, and locks the account after repeated failures', async () => {
    const address = email();
    const sup = await h.deps.users.create({ email: address, displayName: 'Sup', role: 'support', password });
    const unknown = await signIn(h, email(), password);
    expect([unknown.response.status, unknown.response.code]).toEqual([401, 'invalid_credentials']);
    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) {
      const wrong = await signIn(h, address, 'wrong password!!');
      expect(wrong.response.code).toBe('invalid_credentials');
      expect(wrong.cookie).toBeUndefined();
    }
    // Locked: even the right password is refused until the lock ends.
    const locked = await signIn(h, address, password);
    expect([locked.response.status, locked.response.code]).toEqual([429, 'account_locked']);
    expect(locked.cookie).toBeUndefined();
    await h.deps.db.pool.query(`UPDATE users SET locked_until = now() - interval '1 second' WHERE id = $1`, [sup.userId]);
    expect((await signIn(h, address, password)).response.status).toBe(200);
    const { rows } = await h.deps.db.pool.query(`SELECT action FROM audit_entries WHERE actor = $1 ORDER BY id`, [address]);
    expect(rows.map((r) => r.action)).toEqual([
      ...Array(MAX_FAILED_SIGN_INS).fill('sign_in_refused:invalid_credentials'), 'sign_in_refused:account_locked', 'sign_in',
    ]);
  });

  it('lets an admin require a second factor: enrol, then a TOTP code at every sign-in', async () => {
    const admin = await h.deps.users.create({ email: email(), displayName: 'Admin', role: 'admin', password });
    const target = await h.deps.users.create({ email: email(), displayName: 'Finance two', role: 'finance', password });
    const adminSession = await signIn(h, admin.email, password);
    const required = await trpc(h, 'mutation', 'users.setTotpRequired', { userId: target.userId, required: true }, adminSession);
    expect(required.data).toMatchObject({ totpRequired: true, totpEnrolled: false });

    // Password alone opens nothing but the enrolment.
    const first = await signIn(h, target.email, password);
    expect(first.response.data).toMatchObject({ pendingSecondFactor: true, secondFactor: 'enrol' });
    expect((await trpc(h, 'query', 'clearing.list', undefined, first)).code).toBe('second_factor_required');
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
    expect((await trpc(h, 'query', 'clearing.list', undefined, first)).status).toBe(200);

    // The next sign-in asks for the code straight away.
    const second = await signIn(h, target.email, password);
    expect(second.response.data).toMatchObject({ pendingSecondFactor: true, secondFactor: 'verify' });
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

    const promoted = await trpc(h, 'mutation', 'users.update', { userId: user.userId, role: 'finance' }, adminSession);
    expect(promoted.data).toMatchObject({ role: 'finance', disabled: false });
    expect((await trpc(h, 'query', 'clearing.list', undefined, session)).status).toBe(200); // at once, same session

    for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) await signIn(h, user.email, 'wrong password!!');
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
