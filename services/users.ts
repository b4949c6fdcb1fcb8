// Back-office users and their sessions: sign-in with attempts counted before the password is
// checked (services/sign-in-throttle.ts), a second factor (TOTP, RFC 6238, each code good once, with
// single-use recovery codes) that admins and finance must use and admins can require of anyone, and
// server-side sessions whose token lives only in an httpOnly cookie.

import { createHash, randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import type pg from 'pg';
import { DomainError } from '../domain/errors.ts';
import { hashPassword, passwordProblem, verifyPassword } from '../domain/password.ts';
import { generateRecoveryCodes, hashRecoveryCode } from '../domain/recovery-code.ts';
import { open, seal } from '../domain/secret-box.ts';
import { normaliseEmail, type PiiCipher } from '../domain/pii-crypto.ts';
import { audit, type AuditEvent } from './audit.ts';
import { inTransaction } from '../infra/db.ts';
import { SignInThrottle, signInPolicyFromEnv, type SignInPolicy } from './sign-in-throttle.ts';

export type UserRole = 'admin' | 'finance' | 'support' | 'store_staff';

/** Roles that move or settle money or manage access: they cannot work without a second factor. */
export const SECOND_FACTOR_ROLES: readonly UserRole[] = ['admin', 'finance'];

export interface PortalUser {
  userId: string;
  email: string;
  displayName: string;
  role: UserRole;
  storeId: string | null;
  /** Whether the user must give a second factor: by role, or because an admin requires it. */
  totpRequired: boolean;
  /** Required by the role alone (admins cannot lift it). */
  totpRequiredByRole: boolean;
  totpEnrolled: boolean;
  disabled: boolean;
  /** Until when sign-in attempts on this account wait (from any address), if they do. */
  lockedUntil: string | null;
}

export interface PortalSession {
  user: PortalUser;
  csrfToken: string;
  pendingSecondFactor: boolean;
}

/** What the browser must do after the password: nothing, give a TOTP code, or enrol first. */
export type SecondFactorStep = 'none' | 'verify' | 'enrol';

const IDLE_MINUTES = 60;
const MAX_HOURS = 12;
const TOTP_PERIOD = 30;
const RECOVERY_CODES = 10;
/** Compared against when the e-mail is unknown, so the answer takes as long as for a known one. */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const WRONG_CREDENTIALS = 'the e-mail or the password is wrong';

interface UserRow {
  id: string; email: string; display_name: string; role: UserRole; store_id: string | null; password_hash: string;
  totp_secret: string | null; totp_required: boolean; disabled_at: Date | null; throttled_until?: Date | null;
}

/** Users with the latest delay on their sign-in attempts. */
// Throttle rows are keyed by the address's keyed hash (never the address: it is personal data).
const SELECT_USERS = `SELECT u.*, (SELECT max(t.blocked_until) FROM sign_in_throttles t WHERE t.email = u.email_hash) AS throttled_until FROM users u`;

function mustUseSecondFactor(r: Pick<UserRow, 'role' | 'totp_required'>): boolean {
  return r.totp_required || SECOND_FACTOR_ROLES.includes(r.role);
}

/** The address is stored sealed (PII_KEYS) and found by its keyed hash. */
function userOf(r: UserRow, pii: PiiCipher): PortalUser {
  return {
    userId: r.id, email: pii.open(r.email), displayName: r.display_name, role: r.role, storeId: r.store_id,
    totpRequired: mustUseSecondFactor(r), totpRequiredByRole: SECOND_FACTOR_ROLES.includes(r.role),
    totpEnrolled: r.totp_secret !== null, disabled: r.disabled_at !== null,
    lockedUntil: r.throttled_until && r.throttled_until > new Date() ? r.throttled_until.toISOString() : null,
  };
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function totpFor(issuer: string, email: string, base32: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ issuer, label: email, algorithm: 'SHA1', digits: 6, period: TOTP_PERIOD, secret: OTPAuth.Secret.fromBase32(base32) });
}


/** A second factor as given: a TOTP code, or one of the recovery codes. */
export type SecondFactorProof = { code: string } | { recoveryCode: string };

export class UserDirectory {
  readonly throttle: SignInThrottle;

  constructor(private readonly pool: pg.Pool, private readonly totpKey: Buffer, private readonly issuer: string,
    private readonly pii: PiiCipher, policy: SignInPolicy = signInPolicyFromEnv()) {
    this.throttle = new SignInThrottle(pool, policy);
  }

  get policy(): SignInPolicy {
    return this.throttle.policy;
  }

  /** What sign-in attempts are counted under: the address's keyed hash, the same for any spelling of it. */
  private throttleKey(address: string): string {
    return this.pii.lookupHash(address);
  }

  async findByEmail(email: string): Promise<PortalUser | null> {
    const { rows } = await this.pool.query<UserRow>(`${SELECT_USERS} WHERE u.email_hash = ANY($1)`, [this.pii.lookupHashes(email)]);
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
    // Sorted here: the addresses are sealed in the table.
    const { rows } = await this.pool.query<UserRow>(SELECT_USERS);
    return rows.map((r) => userOf(r, this.pii)).sort((a, b) => a.email.localeCompare(b.email));
  }

  private async find(userId: string): Promise<UserRow> {
    const { rows } = await this.pool.query<UserRow>(`${SELECT_USERS} WHERE u.id = $1`, [userId]);
    if (!rows[0]) throw new DomainError('not_found', 'no such user');
    return rows[0];
  }

  /** Changes a user's role (store staff with their store), disables or re-enables them, or lifts sign-in delays. */
  async update(userId: string, p: { role?: UserRole; storeId?: string | null; disabled?: boolean; unlock?: boolean }): Promise<PortalUser> {
    const current = await this.find(userId);
    const role = p.role ?? current.role;
    const storeId = p.storeId !== undefined ? p.storeId : role === 'store_staff' ? current.store_id : null;
    if ((role === 'store_staff') !== Boolean(storeId)) {
      throw new DomainError('validation_error', 'store staff belong to exactly one store; other roles to none');
    }
    try {
      await this.pool.query(
        `UPDATE users SET role = $2, store_id = $3,
                disabled_at = CASE WHEN $4::boolean IS NULL THEN disabled_at WHEN $4 THEN coalesce(disabled_at, now()) ELSE NULL END
          WHERE id = $1`,
        [userId, role, storeId, p.disabled ?? null]);
      if (p.unlock) await this.throttle.lift(this.throttleKey(this.pii.open(current.email)));
      // A disabled user is signed out everywhere at once.
      if (p.disabled) await this.pool.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
      return userOf(await this.find(userId), this.pii);
    } catch (err) {
      if ((err as { code?: string }).code === '23503') throw new DomainError('not_found', 'no such store');
      throw err;
    }
  }

  /** Requires (or stops requiring) a second factor of a user whose role does not require one anyway. */
  async setTotpRequired(userId: string, required: boolean): Promise<PortalUser> {
    const { rowCount } = await this.pool.query('UPDATE users SET totp_required = $2 WHERE id = $1', [userId, required]);
    if (!rowCount) throw new DomainError('not_found', 'no such user');
    return userOf(await this.find(userId), this.pii);
  }

  /**
   * For a user who lost their second factor: forgets it and its recovery codes and ends their
   * sessions. Where one is required, the next sign-in enrols a new one.
   */
  async resetSecondFactor(userId: string): Promise<PortalUser> {
    const { rowCount } = await this.pool.query('UPDATE users SET totp_secret = NULL, totp_last_step = NULL WHERE id = $1', [userId]);
    if (!rowCount) throw new DomainError('not_found', 'no such user');
    await this.pool.query('DELETE FROM recovery_codes WHERE user_id = $1', [userId]);
    await this.pool.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
    return userOf(await this.find(userId), this.pii);
  }

  /**
   * Checks the password and opens a session. The attempt is counted before the password is
   * checked; past the free attempts the answer is `account_locked` with the time to wait, for
   * unknown e-mails exactly as for known ones. Unknown, disabled and wrong all answer alike.
   */
  async signIn(
    email: string, password: string, client = 'unknown', entry?: (user: PortalUser) => AuditEvent,
  ): Promise<{ token: string; session: PortalSession; secondFactor: SecondFactorStep }> {
    const address = this.throttleKey(email);
    const claim = await this.throttle.claim(address, client);
    if (!claim.allowed) throw this.locked(claim.retryAt);
    const { rows } = await this.pool.query<UserRow>('SELECT * FROM users WHERE email_hash = ANY($1)', [this.pii.lookupHashes(email)]);
    const row = rows[0];
    if (!row || row.disabled_at) {
      await verifyPassword(password, DUMMY_HASH);
      throw new DomainError('invalid_credentials', WRONG_CREDENTIALS);
    }
    if (!(await verifyPassword(password, row.password_hash))) throw new DomainError('invalid_credentials', WRONG_CREDENTIALS);
    const secondFactor: SecondFactorStep = row.totp_secret ? 'verify' : mustUseSecondFactor(row) ? 'enrol' : 'none';
    // The count starts afresh only once the sign-in is complete: a known password must not buy
    // fresh guesses at the second factor.
    if (secondFactor === 'none') await this.throttle.clear(address, client);
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const user = userOf(row, this.pii);
    await this.withEntry(entry?.(user), (db) => db.query(
      `INSERT INTO sessions (token_hash, user_id, csrf_token, pending_second_factor, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(mins => $5))`,
      [hashSessionToken(token), row.id, csrfToken, secondFactor !== 'none', IDLE_MINUTES]));
    return { token, session: { user, csrfToken, pendingSecondFactor: secondFactor !== 'none' }, secondFactor };
  }

  private locked(until: Date): DomainError {
    return new DomainError('account_locked', `too many failed attempts; try again after ${until.toISOString()}`, { lockedUntil: until.toISOString() });
  }

  /**
   * The session behind a cookie, kept alive while it is used (sliding idle timeout, absolute cap).
   * A session opened without a second factor ends once its user must use one (their role or an
   * admin's requirement changed since). Most requests only read: the expiry moves on at most once a minute.
   */
  async session(token: string | null): Promise<PortalSession | null> {
    if (!token) return null;
    const tokenHash = hashSessionToken(token);
    const { rows } = await this.pool.query<UserRow & { csrf_token: string; pending_second_factor: boolean; second_factor_verified: boolean; stale: boolean }>(
      `SELECT u.*, s.csrf_token, s.pending_second_factor, s.second_factor_verified, s.last_seen_at < now() - interval '1 minute' AS stale
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.expires_at > now() AND u.disabled_at IS NULL`, [tokenHash]);
    const row = rows[0];
    if (!row) return null;
    if (mustUseSecondFactor(row) && !row.pending_second_factor && !row.second_factor_verified) {
      await this.pool.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
      return null;
    }
    if (row.stale) {
      await this.pool.query(
        `UPDATE sessions SET last_seen_at = now(),
                expires_at = least(now() + make_interval(mins => $2), created_at + make_interval(hours => $3))
          WHERE token_hash = $1`, [tokenHash, IDLE_MINUTES, MAX_HOURS]);
    }
    return { user: userOf(row, this.pii), csrfToken: row.csrf_token, pendingSecondFactor: row.pending_second_factor };
  }

  /**
   * Creates the user's TOTP secret and ten recovery codes: both shown once, here. The secret is
   * sealed at rest, the codes only hashed.
   */
  async enrolTotp(token: string, entry?: AuditEvent): Promise<{ uri: string; secret: string; recoveryCodes: string[] }> {
    const session = await this.session(token);
    if (!session) throw new DomainError('unauthenticated', 'sign in first');
    if (session.user.totpEnrolled) throw new DomainError('totp_already_enrolled', 'a second factor is set up already');
    const secret = new OTPAuth.Secret({ size: 20 }).base32;
    const recoveryCodes = generateRecoveryCodes(RECOVERY_CODES);
    // The secret, its recovery codes and the audit entry: all or nothing.
    await this.withEntry(entry, async (db) => {
      const { rowCount } = await db.query('UPDATE users SET totp_secret = $2, totp_last_step = NULL WHERE id = $1 AND totp_secret IS NULL',
        [session.user.userId, seal(this.totpKey, secret)]);
      if (!rowCount) throw new DomainError('totp_already_enrolled', 'a second factor is set up already');
      await db.query('DELETE FROM recovery_codes WHERE user_id = $1', [session.user.userId]);
      await db.query('INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])',
        [session.user.userId, recoveryCodes.map(hashRecoveryCode)]);
    }, { transaction: true });
    return { uri: totpFor(this.issuer, session.user.email, secret).toString(), secret, recoveryCodes };
  }

  /**
   * Completes a sign-in with a TOTP code or a recovery code. Attempts count like passwords (before
   * the check); a TOTP code is accepted once (its time step is stored), a recovery code once ever.
   */
  async verifySecondFactor(
    token: string, proof: SecondFactorProof, client = 'unknown',
    entry?: (user: PortalUser, used: 'totp' | 'recovery_code') => Promise<AuditEvent>,
  ): Promise<{ session: PortalSession; used: 'totp' | 'recovery_code' }> {
    const session = await this.session(token);
    if (!session) throw new DomainError('unauthenticated', 'sign in first');
    const row = await this.find(session.user.userId);
    if (!row.totp_secret) throw new DomainError('totp_not_enrolled', 'set up the second factor first');
    const claim = await this.throttle.claim(this.throttleKey(this.pii.open(row.email)), client);
    if (!claim.allowed) throw this.locked(claim.retryAt);
    const ok = 'code' in proof ? await this.useTotpCode(row, proof.code) : await this.useRecoveryCode(row.id, proof.recoveryCode);
    if (!ok) throw new DomainError('invalid_credentials', 'the code is wrong, has expired or was used already');
    await this.throttle.clear(this.throttleKey(this.pii.open(row.email)), client);
    const used = 'code' in proof ? 'totp' as const : 'recovery_code' as const;
    const user = userOf(await this.find(row.id), this.pii);
    await this.withEntry(entry && (await entry(user, used)), (db) => db.query(
      'UPDATE sessions SET pending_second_factor = false, second_factor_verified = true WHERE token_hash = $1', [hashSessionToken(token)]));
    return { session: { ...session, user, pendingSecondFactor: false }, used };
  }

  private async useTotpCode(row: UserRow, code: string): Promise<boolean> {
    const now = Date.now();
    const delta = totpFor(this.issuer, this.pii.open(row.email), open(this.totpKey, row.totp_secret!)).validate({ token: code, window: 1, timestamp: now });
    if (delta === null) return false;
    const step = Math.floor(now / 1000 / TOTP_PERIOD) + delta;
    // Conditional on the last step, so two requests with one code cannot both pass.
    const { rowCount } = await this.pool.query(
      'UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)', [row.id, step]);
    return rowCount === 1;
  }

  private async useRecoveryCode(userId: string, code: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'UPDATE recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL', [userId, hashRecoveryCode(code)]);
    return rowCount === 1;
  }

  async recoveryCodesLeft(userId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL', [userId]);
    return rows[0]!.n;
  }

  async signOut(token: string | null, entry?: AuditEvent): Promise<void> {
    if (token) await this.withEntry(entry, (db) => db.query('DELETE FROM sessions WHERE token_hash = $1', [hashSessionToken(token)]));
  }

  /** A change and its audit entry in one transaction: neither without the other. */
  private async withEntry(
    entry: AuditEvent | undefined, change: (db: pg.PoolClient | pg.Pool) => Promise<unknown>, { transaction = false } = {},
  ): Promise<void> {
    if (!entry && !transaction) {
      await change(this.pool);
      return;
    }
    await inTransaction(this.pool, async (db) => {
      await change(db);
      if (entry) await audit(db, entry);
    });
  }

  /**
   * For tests and the development seed: a code of the user's second factor that has not been used
   * yet (codes are single-use, so a second sign-in within one period waits for the next one).
   */
  async currentTotpCode(userId: string): Promise<string> {
    for (;;) {
      const { rows } = await this.pool.query<UserRow & { totp_last_step: string | null }>('SELECT * FROM users WHERE id = $1', [userId]);
      if (!rows[0]?.totp_secret) throw new Error('no second factor');
      const now = Math.floor(Date.now() / 1000 / TOTP_PERIOD);
      const step = Math.max(now, rows[0].totp_last_step === null ? now : Number(rows[0].totp_last_step) + 1);
      if (step <= now + 1) {
        return totpFor(this.issuer, this.pii.open(rows[0].email), open(this.totpKey, rows[0].totp_secret)).generate({ timestamp: step * TOTP_PERIOD * 1000 });
      }
      await new Promise((r) => setTimeout(r, (now + 1) * TOTP_PERIOD * 1000 - Date.now() + 50));
    }
  }
}
