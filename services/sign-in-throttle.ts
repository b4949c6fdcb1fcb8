// Counts sign-in attempts (passwords, TOTP and recovery codes) per e-mail address as typed, per
// client address and for the account as a whole, BEFORE the secret is checked: the count and the
// decision to check are one locked row update, so parallel guesses cannot all slip past a limit
// that was read before any of them failed. Unknown addresses are counted like known ones, so the
// answers never tell them apart.
//
// Past the free attempts each further one is allowed only after a delay that doubles (up to a cap):
// a progressive delay rather than a hard lock, and per client address first, so one attacker cannot
// lock every admin out for long; the account-wide budget is larger and only reached from many addresses.

import type pg from 'pg';
import { readEnv } from '../infra/config-env.ts';
import { inTransaction } from '../infra/db.ts';
import { signInLockouts, signInRefusals } from '../infra/metrics.ts';

export interface SignInPolicy {
  /** Attempts one client address may make on one account before the delays start. */
  freeAttemptsPerClient: number;
  /** Attempts from all addresses together on one account before the delays start. */
  freeAttemptsPerAccount: number;
  /** The first delay; each further failure doubles it. */
  firstDelaySeconds: number;
  maxDelaySeconds: number;
  /** Sign-in requests one client address may send per minute, across accounts (Redis; fails open). */
  perClientPerMinute: number;
}

export function signInPolicyFromEnv(): SignInPolicy {
  const env = readEnv(process.env, { only: ['SIGN_IN_FREE_ATTEMPTS', 'SIGN_IN_FREE_ATTEMPTS_PER_ACCOUNT', 'SIGN_IN_FIRST_DELAY_SECONDS',
    'SIGN_IN_MAX_DELAY_SECONDS', 'SIGN_IN_PER_ADDRESS_PER_MINUTE'] });
  return {
    freeAttemptsPerClient: env.SIGN_IN_FREE_ATTEMPTS,
    freeAttemptsPerAccount: env.SIGN_IN_FREE_ATTEMPTS_PER_ACCOUNT,
    firstDelaySeconds: env.SIGN_IN_FIRST_DELAY_SECONDS,
    maxDelaySeconds: env.SIGN_IN_MAX_DELAY_SECONDS,
    perClientPerMinute: env.SIGN_IN_PER_ADDRESS_PER_MINUTE,
  };
}

/** The account's row has this client; every other row is one client address on that account. */
const ACCOUNT = '';

export type Claim = { allowed: true } | { allowed: false; retryAt: Date };

export class SignInThrottle {
  constructor(private readonly pool: pg.Pool, readonly policy: SignInPolicy) {}

  /** Counts one attempt by `client` on `email`; refused (and not counted) while a delay runs. */
  async claim(email: string, client: string): Promise<Claim> {
    // Counted once the transaction has committed: the metrics say what happened, not what was tried.
    const { claim, delaysStarted } = await inTransaction(this.pool, async (db): Promise<{ claim: Claim; delaysStarted: string[] }> => {
      // Rows are created and locked in one order ('' sorts first), so claims never deadlock.
      await db.query(
        `INSERT INTO sign_in_throttles (email, client) VALUES ($1, $2), ($1, $3) ON CONFLICT DO NOTHING`,
        [email, ACCOUNT, client]);
      const { rows } = await db.query<{ client: string; blocked_until: Date | null; blocked: boolean }>(
        `SELECT client, blocked_until, blocked_until > now() AS blocked FROM sign_in_throttles
          WHERE email = $1 AND client IN ($2, $3) ORDER BY client FOR UPDATE`, [email, ACCOUNT, client]);
      const blocking = rows.filter((r) => r.blocked).map((r) => r.blocked_until!.getTime());
      if (blocking.length > 0) {
        return { claim: { allowed: false, retryAt: new Date(Math.max(...blocking)) }, delaysStarted: [] };
      }
      const p = this.policy;
      const { rows: counted } = await db.query<{ client: string; delayed: boolean }>(
        `UPDATE sign_in_throttles SET attempts = attempts + 1, updated_at = now(),
                blocked_until = CASE WHEN attempts + 1 >= free THEN now() + make_interval(secs =>
                  least($5::float8, $4::float8 * power(2, attempts + 1 - free))) END
           FROM (VALUES ($2, $6::int), ($3, $7::int)) AS f(c, free)
          WHERE email = $1 AND client = f.c
          RETURNING client, blocked_until IS NOT NULL AS delayed`,
        [email, ACCOUNT, client, p.firstDelaySeconds, p.maxDelaySeconds, p.freeAttemptsPerAccount, p.freeAttemptsPerClient]);
      return { claim: { allowed: true }, delaysStarted: counted.filter((r) => r.delayed).map((r) => r.client) };
    });
    if (!claim.allowed) signInRefusals.inc();
    for (const c of delaysStarted) signInLockouts.inc({ scope: c === ACCOUNT ? 'account' : 'client' });
    return claim;
  }

  /** A completed sign-in: this address and the account start afresh. */
  async clear(email: string, client: string): Promise<void> {
    await this.pool.query('DELETE FROM sign_in_throttles WHERE email = $1 AND client IN ($2, $3)', [email, ACCOUNT, client]);
    // Rows of addresses nobody signed in with (guessed e-mails) go once their delays are long over.
    if (Math.random() < 0.01) {
      await this.pool.query(`DELETE FROM sign_in_throttles WHERE updated_at < now() - make_interval(secs => $1 * 2)`, [this.policy.maxDelaySeconds]);
    }
  }

  /** An admin lifts every delay on an account. */
  async lift(email: string): Promise<void> {
    await this.pool.query('DELETE FROM sign_in_throttles WHERE email = $1', [email]);
  }
}
