// Back-office users and their sessions: sign-in with lockout after repeated failures, an optional
// second factor (TOTP, RFC 6238) that admins can require, and server-side sessions whose token
// lives only in an httpOnly cookie.

import { createHash, randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import type pg from 'pg';
import { DomainError } from '../domain/errors.ts';
import { hashPassword, passwordProblem, verifyPassword } from '../domain/password.ts';
import { open, seal } from '../domain/secret-box.ts';
import { normaliseEmail, type PiiCipher } from '../domain/pii-crypto.ts';

export type UserRole = 'admin' | 'finance' | 'support' | 'store_staff';

export interface PortalUser {
  userId: string;
  email: string;
  displayName: string;
  role: UserRole;
  storeId: string | null;
  totpRequired: boolean;
  totpEnrolled: boolean;
  disabled: boolean;
  lockedUntil: string | null;
}

export interface PortalSession {
  user: PortalUser;
  csrfToken: string;
  pendingSecondFactor: boolean;
}

/** What the browser must do after the password: nothing, give a TOTP code, or enrol first. */
export type SecondFactorStep = 'none' | 'verify' | 'enrol';

export const MAX_FAILED_SIGN_INS = 5;
export const LOCKOUT_MINUTES = 15;
const IDLE_MINUTES = 60;
const MAX_HOURS = 12;
/** Compared against when the e-mail is unknown, so the answer takes as long as for a known one. */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

interface UserRow {
  id: string; email: string; display_name: string; role: UserRole; store_id: string | null; password_hash: string;
  totp_secret: string | null; totp_required: boolean; failed_sign_ins: number; locked_until: Date | null; disabled_at: Date | null;
}

/** The address is stored sealed (PII_KEYS) and found by its keyed hash. */
function userOf(r: UserRow, pii: PiiCipher): PortalUser {
  return {
    userId: r.id, email: pii.open(r.email), displayName: r.display_name, role: r.role, storeId: r.store_id,
    totpRequired: r.totp_required, totpEnrolled: r.totp_secret !== null, disabled: r.disabled_at !== null,
    lockedUntil: r.locked_until && r.locked_until > new Date() ? r.locked_until.toISOString() : null,
  };
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function totpFor(issuer: string, email: string, base32: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ issuer, label: email, algorithm: 'SHA1', digits: 6, period: 30, secret: OTPAuth.Secret.fromBase32(base32) });
}

export class UserDirectory {
  constructor(
    private readonly pool: pg.Pool, private readonly totpKey: Buffer, private readonly issuer: string, private readonly pii: PiiCipher,
  ) {}

  async findByEmail(email: string): Promise<PortalUser | null> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users WHERE email_hash = ANY($1)', [this.pii.lookupHashes(email)]);
    return rows[0] ? userOf(rows[0], this.pii) : null;
  }

  async create(p: { email: string; displayName: string; role: UserRole; storeId?: string | null; password: string }): Promise<PortalUser> {
    const problem = passwordProblem(p.password);
    if (problem) throw new DomainError('validation_error', problem);
    if ((p.role === 'store_staff') !== Boolean(p.storeId)) {
      throw new DomainError('validation_error', 'store staff belong to exactly one store; other roles to none');
    }
    try {
      // Not under the current key's hash, nor under an older key's (a row not yet re-encrypted).
      const email = normaliseEmail(p.email);
      const { rows } = await this.pool.query<UserRow>(
        `INSERT INTO users (id, email, email_hash, display_name, role, store_id, password_hash)
         SELECT gen_random_uuid(), $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM users WHERE email_hash = ANY($7))
         RETURNING *`,
        [this.pii.seal(email), this.pii.lookupHash(email), p.displayName, p.role, p.storeId ?? null, await hashPassword(p.password),
          this.pii.lookupHashes(email)]);
      if (!rows[0]) throw new DomainError('user_exists', 'a user with this e-mail exists already');
      return userOf(rows[0], this.pii);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new DomainError('user_exists', 'a user with this e-mail exists already');
      if ((err as { code?: string }).code === '23503') throw new DomainError('not_found', 'no such store');
      throw err;
    }
  }

  async list(): Promise<PortalUser[]> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users');
    return rows.map((r) => userOf(r, this.pii)).sort((a, b) => a.email.localeCompare(b.email));
  }

  /** Changes a user's role (store staff with their store), disables or re-enables them, or lifts a lockout. */
  async update(userId: string, p: { role?: UserRole; storeId?: string | null; disabled?: boolean; unlock?: boolean }): Promise<PortalUser> {
    const { rows: [current] } = await this.pool.query<UserRow>('SELECT * FROM users WHERE id = $1', [userId]);
    if (!current) throw new DomainError('not_found', 'no such user');
    const role = p.role ?? current.role;
    const storeId = p.storeId !== undefined ? p.storeId : role === 'store_staff' ? current.store_id : null;
    if ((role === 'store_staff') !== Boolean(storeId)) {
      throw new DomainError('validation_error', 'store staff belong to exactly one store; other roles to none');
    }
    try {
      const { rows } = await this.pool.query<UserRow>(
        `UPDATE users SET role = $2, store_id = $3,
                disabled_at = CASE WHEN $4::boolean IS NULL THEN disabled_at WHEN $4 THEN coalesce(disabled_at, now()) ELSE NULL END,
                locked_until = CASE WHEN $5 THEN NULL ELSE locked_until END,
                failed_sign_ins = CASE WHEN $5 THEN 0 ELSE failed_sign_ins END
          WHERE id = $1 RETURNING *`,
        [userId, role, storeId, p.disabled ?? null, p.unlock === true]);
      // A disabled user is signed out everywhere at once.
      if (p.disabled) await this.pool.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
      return userOf(rows[0]!, this.pii);
    } catch (err) {
      if ((err as { code?: string }).code === '23503') throw new DomainError('not_found', 'no such store');
      throw err;
    }
  }

  async setTotpRequired(userId: string, required: boolean): Promise<PortalUser> {
    const { rows } = await this.pool.query<UserRow>('UPDATE users SET totp_required = $2 WHERE id = $1 RETURNING *', [userId, required]);
    if (!rows[0]) throw new DomainError('not_found', 'no such user');
    return userOf(rows[0], this.pii);
  }

  /**
   * Checks the password and opens a session. Wrong passwords count towards a lockout; a locked or
   * disabled account and an unknown e-mail answer like a wrong password, except that a locked one
   * says so (and until when), which tells an attacker nothing they could not learn by trying.
   */
  async signIn(email: string, password: string): Promise<{ token: string; session: PortalSession; secondFactor: SecondFactorStep }> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users WHERE email_hash = ANY($1)', [this.pii.lookupHashes(email)]);
    const row = rows[0];
    if (!row || row.disabled_at) {
      await verifyPassword(password, DUMMY_HASH);
      throw new DomainError('invalid_credentials', 'the e-mail or the password is wrong');
    }
    if (row.locked_until && row.locked_until > new Date()) throw this.locked(row.locked_until);
    if (!(await verifyPassword(password, row.password_hash))) {
      await this.countFailure(row.id);
      throw new DomainError('invalid_credentials', 'the e-mail or the password is wrong');
    }
    await this.pool.query('UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE id = $1', [row.id]);
    const secondFactor: SecondFactorStep = row.totp_secret ? 'verify' : row.totp_required ? 'enrol' : 'none';
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    await this.pool.query(
      `INSERT INTO sessions (token_hash, user_id, csrf_token, pending_second_factor, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(mins => $5))`,
      [hashSessionToken(token), row.id, csrfToken, secondFactor !== 'none', IDLE_MINUTES]);
    return { token, session: { user: userOf(row, this.pii), csrfToken, pendingSecondFactor: secondFactor !== 'none' }, secondFactor };
  }

  private locked(until: Date): DomainError {
    return new DomainError('account_locked', `too many failed sign-ins; try again after ${until.toISOString()}`, { lockedUntil: until.toISOString() });
  }

  private async countFailure(userId: string): Promise<void> {
    await this.pool.query(
      `UPDATE users SET failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= $2 THEN 0 ELSE failed_sign_ins + 1 END,
              locked_until = CASE WHEN failed_sign_ins + 1 >= $2 THEN now() + make_interval(mins => $3) ELSE locked_until END
        WHERE id = $1`,
      [userId, MAX_FAILED_SIGN_INS, LOCKOUT_MINUTES]);
  }

  /**
   * The session behind a cookie, kept alive while it is used (sliding idle timeout, absolute cap).
   * Most requests only read: the expiry moves on at most once a minute.
   */
  async session(token: string | null): Promise<PortalSession | null> {
    if (!token) return null;
    const tokenHash = hashSessionToken(token);
    const { rows } = await this.pool.query<UserRow & { csrf_token: string; pending_second_factor: boolean; stale: boolean }>(
      `SELECT u.*, s.csrf_token, s.pending_second_factor, s.last_seen_at < now() - interval '1 minute' AS stale
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.expires_at > now() AND u.disabled_at IS NULL`, [tokenHash]);
    const row = rows[0];
    if (!row) return null;
    if (row.stale) {
      await this.pool.query(
        `UPDATE sessions SET last_seen_at = now(),
                expires_at = least(now() + make_interval(mins => $2), created_at + make_interval(hours => $3))
          WHERE token_hash = $1`, [tokenHash, IDLE_MINUTES, MAX_HOURS]);
    }
    return { user: userOf(row, this.pii), csrfToken: row.csrf_token, pendingSecondFactor: row.pending_second_factor };
  }

  /** Creates the user's TOTP secret when an admin requires one and none exists; shown once. */
  async enrolTotp(token: string): Promise<{ uri: string; secret: string }> {
    const session = await this.session(token);
    if (!session) throw new DomainError('unauthenticated', 'sign in first');
    if (session.user.totpEnrolled) throw new DomainError('totp_already_enrolled', 'a second factor is set up already');
    const secret = new OTPAuth.Secret({ size: 20 }).base32;
    await this.pool.query('UPDATE users SET totp_secret = $2 WHERE id = $1 AND totp_secret IS NULL',
      [session.user.userId, seal(this.totpKey, secret)]);
    return { uri: totpFor(this.issuer, session.user.email, secret).toString(), secret };
  }

  /** Completes a sign-in with a TOTP code; wrong codes count towards the lockout like passwords. */
  async verifyTotp(token: string, code: string): Promise<PortalSession> {
    const session = await this.session(token);
    if (!session) throw new DomainError('unauthenticated', 'sign in first');
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users WHERE id = $1', [session.user.userId]);
    const row = rows[0]!;
    if (row.locked_until && row.locked_until > new Date()) throw this.locked(row.locked_until);
    if (!row.totp_secret) throw new DomainError('totp_not_enrolled', 'set up the second factor first');
    const ok = totpFor(this.issuer, this.pii.open(row.email), open(this.totpKey, row.totp_secret)).validate({ token: code, window: 1 }) !== null;
    if (!ok) {
      await this.countFailure(row.id);
      throw new DomainError('invalid_credentials', 'the code is wrong or has expired');
    }
    await this.pool.query('UPDATE users SET failed_sign_ins = 0 WHERE id = $1', [row.id]);
    await this.pool.query('UPDATE sessions SET pending_second_factor = false WHERE token_hash = $1', [hashSessionToken(token)]);
    return { ...session, user: userOf(row, this.pii), pendingSecondFactor: false };
  }

  async signOut(token: string | null): Promise<void> {
    if (token) await this.pool.query('DELETE FROM sessions WHERE token_hash = $1', [hashSessionToken(token)]);
  }

  /** For tests and the development seed: the current code of a user's second factor. */
  async currentTotpCode(userId: string): Promise<string> {
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users WHERE id = $1', [userId]);
    if (!rows[0]?.totp_secret) throw new Error('no second factor');
    return totpFor(this.issuer, this.pii.open(rows[0].email), open(this.totpKey, rows[0].totp_secret)).generate();
  }
}
