// The audit log: written in the transaction of the change, append-only, hash-chained under
// concurrency, and `npm run check:audit` finds a changed or removed entry.

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { audit, verifyAuditChain, withAudit } from '../../services/audit.ts';
import { createStore } from '../../services/directory.ts';
import { call, issueCard, posRef, startHarness, type Harness } from '../helpers/harness.ts';
import { signIn, trpc } from '../helpers/portal.ts';

const run = promisify(execFile);
let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function check(): Promise<string[]> {
  const client = await h.deps.db.pool.connect();
  try {
    return (await verifyAuditChain(client)).problems;
  } finally {
    client.release();
  }
}

/** `npm run check:audit` as an operator runs it: exit code and output. */
async function checkCommand(): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run('npx', ['tsx', 'scripts/check-audit.ts'], { env: { ...process.env, DATABASE_URL: inject('databaseUrl') } });
    return { code: 0, output: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

/** Runs SQL as the superuser with the log's triggers off: what an attacker with full access can do. */
async function asSuperuser(sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: inject('databaseUrl') });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('ALTER TABLE audit_entries DISABLE TRIGGER USER');
    const result = await client.query(sql, values);
    await client.query('ALTER TABLE audit_entries ENABLE TRIGGER USER');
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    await client.end();
  }
}

/** The longest chain: the tampering test picks its entries there, counting from its end. */
async function longestChain(): Promise<number> {
  const { rows } = await h.deps.db.pool.query('SELECT chain FROM audit_entries GROUP BY chain ORDER BY count(*) DESC LIMIT 1');
  return rows[0].chain;
}

async function someEntry(chain: number, offsetFromEnd: number): Promise<Record<string, unknown>> {
  const { rows } = await h.deps.db.pool.query('SELECT * FROM audit_entries WHERE chain = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1', [chain, offsetFromEnd]);
  return rows[0];
}

const headsSeq = async () => Number((await h.deps.db.pool.query('SELECT sum(seq)::int AS seq FROM audit_chain_head')).rows[0].seq);

async function restore(row: Record<string, unknown>): Promise<void> {
  await asSuperuser(
    `INSERT INTO audit_entries (id, actor, action, subject, details, request_id, created_at, client_request_id, seq, prev_hash, hash, chain)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [row.id, row.actor, row.action, row.subject, JSON.stringify(row.details), row.request_id, row.created_at, row.client_request_id, row.seq, row.prev_hash, row.hash, row.chain]);
}

describe('audit log', () => {
  it('writes a till operation with the change, under the server\'s request id, and keeps the client\'s apart', async () => {
    const card = await issueCard(h, 1_000);
    const clientId = `till-${randomUUID()}`;
    const res = await call(h, 'POST', '/v1/redemptions', {
      body: { code: card.code, amount: 400, currency: 'EUR', posReference: posRef() }, headers: { 'x-request-id': clientId },
    });
    expect(res.status).toBe(200);
    const serverId = res.headers.get('request-id');
    expect(serverId).toMatch(/^req_/);
    expect(serverId).not.toBe(clientId);
    const { rows } = await h.deps.db.pool.query('SELECT actor, action, subject, details, request_id, client_request_id FROM audit_entries WHERE subject = $1', [`hold:${res.body.id}`]);
    expect(rows).toEqual([{
      actor: `terminal:${h.terminalA.id}`, action: 'redemption_authorized', subject: `hold:${res.body.id}`,
      details: expect.objectContaining({ approvedAmount: 400, currency: 'EUR', status: 'authorized', replayed: false }),
      request_id: serverId, client_request_id: clientId,
    }]);
    // Card code hashes stay out of the log.
    expect(JSON.stringify(rows[0].details)).not.toMatch(/codeHash/);

    // A refused call changes nothing, so it leaves no entry either.
    const refused = await call(h, 'POST', '/v1/redemptions', { body: { code: card.code, amount: 5_000, currency: 'EUR', posReference: posRef() } });
    expect(refused.body.error.code).toBe('insufficient_funds');
    const none = await h.deps.db.pool.query('SELECT 1 FROM audit_entries WHERE request_id = $1', [refused.headers.get('request-id')]);
    expect(none.rowCount).toBe(0);
  });

  it('an entry written in a transaction that rolls back is gone with it, and leaves no gap in the chain', async () => {
    const before = await headsSeq();
    const client = await h.deps.db.pool.connect();
    try {
      await client.query('BEGIN');
      await audit(client, { actor: 'test', action: 'rolled_back', subject: 'test:rollback' });
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    expect((await h.deps.db.pool.query(`SELECT 1 FROM audit_entries WHERE action = 'rolled_back'`)).rowCount).toBe(0);
    expect(await headsSeq()).toBe(before);
    expect(await check()).toEqual([]);
  });

  it('a change through Prisma and its entry commit together: an entry that cannot be written undoes the change', async () => {
    const name = `store-${randomUUID()}`;
    await expect(withAudit(h.deps.db.prisma, (tx) => createStore(tx, { billingPartyId: h.billingPartyId, name }),
      (s) => ({ actor: null as unknown as string, action: 'store_created', subject: `store:${s.id}` }))).rejects.toThrow();
    expect(await h.deps.db.prisma.store.count({ where: { name } })).toBe(0);
    const created = await withAudit(h.deps.db.prisma, (tx) => createStore(tx, { billingPartyId: h.billingPartyId, name }),
      (s) => ({ actor: 'test', action: 'store_created', subject: `store:${s.id}` }));
    expect((await h.deps.db.pool.query('SELECT action FROM audit_entries WHERE subject = $1', [`store:${created.id}`])).rows).toEqual([{ action: 'store_created' }]);
  });

  it('a sign-in, a second factor and a sign-out commit with their entries: an entry that cannot be written undoes them', async () => {
    const password = 'a long enough password';
    const user = await h.deps.users.create({ email: `atomic-${randomUUID().slice(0, 6)}@centre.test`, displayName: 'Atomic', role: 'support', password });
    const unwritable = { actor: null as unknown as string, action: 'sign_in', subject: `user:${user.userId}` };
    const sessions = async () => Number((await h.deps.db.pool.query('SELECT count(*) FROM sessions WHERE user_id = $1', [user.userId])).rows[0].count);
    await expect(h.deps.users.signIn(user.email, password, '192.0.2.9', () => unwritable)).rejects.toThrow();
    expect(await sessions()).toBe(0);
    const { token } = await h.deps.users.signIn(user.email, password, '192.0.2.9',
      (u) => ({ actor: u.email, action: 'sign_in', subject: `user:${u.userId}` }));
    expect(await sessions()).toBe(1);
    await expect(h.deps.users.signOut(token, { ...unwritable, action: 'sign_out' })).rejects.toThrow();
    expect(await sessions()).toBe(1);
    await expect(h.deps.users.enrolTotp(token, { ...unwritable, action: 'totp_enrolled' })).rejects.toThrow();
    expect((await h.deps.users.findByEmail(user.email))?.totpEnrolled).toBe(false);
    await h.deps.users.signOut(token, { actor: user.email, action: 'sign_out', subject: `user:${user.userId}` });
    expect(await sessions()).toBe(0);
    const { rows } = await h.deps.db.pool.query('SELECT action FROM audit_entries WHERE subject = $1 ORDER BY id', [`user:${user.userId}`]);
    expect(rows.map((r) => r.action)).toEqual(['sign_in', 'sign_out']);
  });

  it('refuses to update, delete or truncate entries', async () => {
    const pool = h.deps.db.pool;
    for (const sql of [`UPDATE audit_entries SET actor = 'someone else'`, 'DELETE FROM audit_entries', 'TRUNCATE audit_entries']) {
      await expect(pool.query(sql)).rejects.toThrow(/append-only/);
    }
    await expect(pool.query('DELETE FROM audit_chain_head')).rejects.toThrow(/append-only/);
  });

  it('keeps its chains unbroken under concurrent appends from tills and the back office, which do not all wait for one chain', async () => {
    const cards = await Promise.all(Array.from({ length: 8 }, () => issueCard(h, 5_000)));
    const before = await headsSeq();
    await Promise.all([
      ...cards.flatMap((c) => Array.from({ length: 4 }, () =>
        call(h, 'POST', '/v1/redemptions', { body: { code: c.code, amount: 100, currency: 'EUR', posReference: posRef() } })
          .then((r) => expect(r.status).toBe(200)))),
      ...Array.from({ length: 32 }, (_, i) => audit(h.deps.db.pool, { actor: 'test', action: 'concurrent', subject: `test:${i}` })),
    ]);
    expect(await headsSeq() - before).toBeGreaterThanOrEqual(64);
    const { rows: gaps } = await h.deps.db.pool.query('SELECT chain, count(*)::int AS n, max(seq)::int AS last FROM audit_entries GROUP BY chain');
    for (const g of gaps) expect(g.n, `chain ${g.chain}`).toBe(g.last);
    // Appends from different connections go to different chains (one head serialised them all).
    const { rows: [spread] } = await h.deps.db.pool.query(`SELECT count(DISTINCT chain)::int AS chains FROM audit_entries WHERE action = 'concurrent'`);
    expect(spread.chains).toBeGreaterThan(1);
    expect(await check()).toEqual([]);
  });

  it('check:audit reports a changed entry, a removed entry and a removed last entry, and passes once they are restored', async () => {
    await audit(h.deps.db.pool, { actor: 'test', action: 'before_tampering', subject: 'test:tamper' });
    expect(await checkCommand()).toMatchObject({ code: 0, output: expect.stringMatching(/audit log OK/) });

    // Changed: someone rewrites what an entry says.
    const chain = await longestChain();
    const changed = await someEntry(chain, 3);
    await asSuperuser(`UPDATE audit_entries SET actor = 'nobody' WHERE id = $1`, [changed.id]);
    expect(await check()).toEqual([`entry ${chain}/${changed.seq} (id ${changed.id}) was changed: its content does not match its hash`]);
    const report = await checkCommand();
    expect(report.code).toBe(1);
    expect(report.output).toMatch(/AUDIT LOG TAMPERED WITH/);
    expect(report.output).toContain(`entry ${chain}/${changed.seq} (id ${changed.id}) was changed`);
    // Recomputing its hash too does not help: the next entry names the old one.
    await asSuperuser(`UPDATE audit_entries SET hash = audit_entry_hash(audit_entries) WHERE id = $1`, [changed.id]);
    expect((await check()).join('\n')).toMatch(new RegExp(`entry ${chain}/${BigInt(changed.seq as string) + 1n} .* does not follow the entry before it`));
    await asSuperuser('UPDATE audit_entries SET actor = $2, hash = $3 WHERE id = $1', [changed.id, changed.actor, changed.hash]);
    expect(await check()).toEqual([]);

    // Removed from the middle.
    const removed = await someEntry(chain, 2);
    await asSuperuser('DELETE FROM audit_entries WHERE id = $1', [removed.id]);
    const problems = await check();
    expect(problems).toContain(`entries ${chain}/${removed.seq}..${removed.seq} are missing (before entry id ${(await someEntry(chain, 1)).id})`);
    expect(problems.join('\n')).toMatch(/does not follow the entry before it/);
    await restore(removed);
    expect(await check()).toEqual([]);

    // Removed at the end, where no later entry could notice: the chain head does.
    const last = await someEntry(chain, 0);
    await asSuperuser('DELETE FROM audit_entries WHERE id = $1', [last.id]);
    expect(await check()).toEqual([`chain ${chain}'s head is at entry ${chain}/${last.seq} but the chain ends at entry ${chain}/${BigInt(last.seq as string) - 1n}: entries were removed`]);
    await restore(last);
    expect(await checkCommand()).toMatchObject({ code: 0 });
  });

  it('records sign-in, sign-out, a refused second factor and an export', async () => {
    const password = 'a long enough password';
    const user = await h.deps.users.create({ email: `audited-${randomUUID().slice(0, 6)}@centre.test`, displayName: 'Audited', role: 'finance', password });
    const session = await signIn(h, user.email, password);
    const csv = await fetch(`${h.baseUrl}/v1/backoffice/transactions.csv`, { headers: { cookie: session.cookie! } });
    expect(csv.status).toBe(200);
    await csv.text();
    expect((await trpc(h, 'mutation', 'auth.signOut', {}, session)).status).toBe(200);

    // Finance needs a second factor: the first sign-in enrolled and used it (the helper does).
    // The next code is a new time step (codes are single-use), so this may wait up to 30 s.
    const pending = await signIn(h, user.email, password, { secondFactor: false });
    expect((await trpc(h, 'mutation', 'auth.verifyTotp', { code: '000000' }, pending)).code).toBe('invalid_credentials');
    expect((await trpc(h, 'mutation', 'auth.verifyTotp', { code: await h.deps.users.currentTotpCode(user.userId) }, pending)).status).toBe(200);

    const { rows } = await h.deps.db.pool.query('SELECT action, request_id FROM audit_entries WHERE actor = $1 ORDER BY id', [user.email]);
    expect(rows.map((r) => r.action)).toEqual([
      'sign_in', 'totp_enrolled', 'second_factor_verified', 'sign_out',
      'sign_in', 'second_factor_refused:invalid_credentials', 'second_factor_verified',
    ]);
    expect(rows.every((r) => /^req_/.test(r.request_id))).toBe(true);
    const { rows: exports } = await h.deps.db.pool.query(`SELECT actor, details FROM audit_entries WHERE action = 'transactions_exported' ORDER BY id DESC LIMIT 1`);
    expect(exports[0]).toMatchObject({ actor: 'Audited', details: { rows: expect.any(Number) } });
  }, 90_000);
});
