// Legacy import end to end on the real stack: the `import-<id>` workflow on Temporal stages the
// files into PostgreSQL, checks them, publishes into the ledger and reconciles. Hand-made file sets
// (test/fixtures/legacy-import/): one with every kind of bad row and its exact report, a clean one
// reconciled to the cent, a Latin-1 one and a truncated one; a generated one for the worker that is
// stopped mid-import. Imported codes are redeemed at a till over REST, and imported history stays
// out of clearing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { hashCardCode } from '../../domain/card-code.ts';
import { isSealed } from '../../domain/pii-crypto.ts';
import { eraseShopper } from '../../services/orders.ts';
import type { LegacyCodeFormat } from '../../domain/legacy-code.ts';
import { createApiClient, createBillingParty, createStore } from '../../services/directory.ts';
import { createImport, getImport, reportLines, type ImportRecord } from '../../services/legacy-import/store.ts';
import { importProgress, startImportWorkflow, waitForImport } from '../../services/legacy-import/temporal.ts';
import { findCard } from '../../services/transactions.ts';
import { call, startHarness, startWorker, waitFor, type Harness } from '../helpers/harness.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/legacy-import/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'legacy-import-'));

let h: Harness;
let legacyParty: string;
let north: string;
let south: string;

beforeAll(async () => {
  h = await startHarness({ config: { legacyImport: { dir: work, chunkRows: 100 } } });
  legacyParty = (await createBillingParty(h.deps.db.prisma, h.deps.pii, { name: 'Legacy Party', contactEmail: 'legacy@example.test' })).id;
  north = (await createStore(h.deps.db.prisma, { billingPartyId: legacyParty, name: 'Import Store North' })).id;
  south = (await createStore(h.deps.db.prisma, { billingPartyId: legacyParty, name: 'Import Store South' })).id;
  await createStore(h.deps.db.prisma, { billingPartyId: legacyParty, name: 'Import Store Café Süd' });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

interface Options { encoding?: 'utf8' | 'latin1'; codeFormat?: LegacyCodeFormat; dryRun?: boolean; accepted?: string | null }

function filesOf(set: string, dir = FIXTURES) {
  return { vouchersPath: path.join(dir, set, 'vouchers.csv'), historyPath: path.join(dir, set, 'history.csv'), storesPath: path.join(dir, set, 'stores.csv') };
}

async function runImport(files: ReturnType<typeof filesOf>, o: Options = {}): Promise<{ imp: ImportRecord; existing: boolean }> {
  const { record, existing } = await createImport(h.deps.db.pool, {
    ...files, encoding: o.encoding ?? 'utf8', codeFormat: o.codeFormat ?? 'plain', dryRun: o.dryRun ?? false,
    acceptedPath: o.accepted ?? null, waitForAcceptance: false, requestedBy: 'test',
  });
  if (!existing) {
    await startImportWorkflow(h.client, h.config, record);
    await waitForImport(h.client, record.id);
  }
  return { imp: (await getImport(h.deps.db.pool, record.id))!, existing };
}

async function report(id: string): Promise<string> {
  let text = '';
  for await (const line of reportLines(h.deps.db.pool, id)) text += line;
  return text;
}

async function ledgerCounts() {
  const { rows: [r] } = await h.deps.db.pool.query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM cards) AS cards, (SELECT count(*) FROM journal_entries) AS entries,
            (SELECT count(*) FROM postings) AS postings,
            (SELECT count(*) FROM import_staged_vouchers) + (SELECT count(*) FROM import_staged_history) AS staged`);
  return r!;
}

const codeHash = (code: string) => hashCardCode(code, h.deps.secrets.hashKey);

describe('validation', () => {
  it('reports every bad row with its line and reason, and writes nothing', async () => {
    const before = await ledgerCounts();
    const { imp } = await runImport(filesOf('bad'));
    expect(imp.status).toBe('rejected');
    expect(await ledgerCounts()).toEqual(before);
    expect(await report(imp.id)).toBe([
      'file,line,reason,detail',
      'stores,4,unknown_store,"""Nowhere Store"" is no store\'s id nor exactly one store\'s name"',
      'vouchers,4,malformed,"4 columns, 8 expected"',
      'vouchers,5,duplicate_code,"the same code is on lines 5, 6"',
      'vouchers,6,duplicate_code,"the same code is on lines 5, 6"',
      'vouchers,7,invalid_balance,balance -500 is negative',
      'vouchers,8,invalid_balance,"balance ""12.50"" is not a whole number of minor units"',
      'vouchers,9,unknown_currency,"currency ""XYZ"" is not one the scheme uses"',
      'vouchers,10,unknown_store,"legacy store ""Q7"" is not in the store mapping"',
      'vouchers,11,future_date,issued_at 2031-01-01T00:00:00.000Z lies in the future',
      'vouchers,12,history_mismatch,"its 1 history rows add up to 2500, the balance is 3000"',
      'vouchers,13,expired_with_balance,the voucher has expired and still holds 700; book its breakage in the old system first',
      'vouchers,14,malformed,the code is not a plain code',
      'vouchers,15,malformed,"issued_at ""2024-02-30"" is not a day or a time with its offset"',
      'history,4,voucher_rejected,its voucher is refused',
      'history,5,unknown_voucher,no voucher in the file has this code',
      'history,6,voucher_rejected,its voucher is refused',
      'history,7,invalid_amount,"amount ""abc"" is not a whole number of minor units"',
      'history,8,malformed,"type ""teleport"" is not one of issue, load, refund, adjust_credit, redeem, expire, adjust_debit"',
      'history,9,future_date,time 2030-01-01T10:00:00.000Z lies in the future',
      'history,10,unknown_store,"legacy store ""Q7"" is not in the store mapping"',
      'history,11,voucher_rejected,its voucher is refused',
      'history,12,invalid_amount,amount is zero',
      '',
    ].join('\n'));
    expect(imp.summary).toMatchObject({ vouchers: 2, history: 2, rejections: 22 });
  });

  it('imports what is left once an operator accepts exactly the listed rejections', async () => {
    const first = await runImport(filesOf('bad'));
    const acceptedPath = path.join(work, 'accepted-bad.csv');
    const reportText = await report(first.imp.id);
    // An acceptance list that misses one rejection accepts nothing.
    writeFileSync(acceptedPath, reportText.split('\n').filter((l) => !l.startsWith('history,12,')).join('\n'));
    expect((await runImport(filesOf('bad'), { accepted: acceptedPath })).imp.status).toBe('rejected');
    writeFileSync(acceptedPath, reportText);
    const { imp } = await runImport(filesOf('bad'), { accepted: acceptedPath });
    expect(imp.status).toBe('completed');
    expect(imp.reconciliation?.ok).toBe(true);
    const { rows } = await h.deps.db.pool.query('SELECT available, currency, issuing_store_id FROM cards WHERE code_hash = ANY($1) ORDER BY available',
      [[codeHash('GOOD0001'), codeHash('GOOD0002')]]);
    expect(rows).toEqual([
      { available: '1000', currency: 'EUR', issuing_store_id: north },
      { available: '2000', currency: 'EUR', issuing_store_id: south },
    ]);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });

  it('refuses a truncated file at the line where it breaks off', async () => {
    const before = await ledgerCounts();
    const { imp } = await runImport(filesOf('truncated'));
    expect(imp.status).toBe('rejected');
    const lines = (await report(imp.id)).trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 3).join(','));
    // The history cut off after two of LEG-0001's rows no longer adds up to its balance.
    expect(lines).toEqual(['vouchers,2,history_mismatch', 'vouchers,4,malformed', 'history,2,voucher_rejected',
      'history,3,voucher_rejected', 'history,4,malformed']);
    expect(await ledgerCounts()).toEqual(before);
  });
});

describe('a clean import', () => {
  let imp: ImportRecord;
  let movementsBefore: unknown[];
  const openMonth = async () => (await h.deps.db.pool.query(
    `SELECT * FROM ledger_movements(date_trunc('month', now()), date_trunc('month', now()) + interval '1 month') ORDER BY 1, 2, 3, 4`)).rows;

  beforeAll(async () => {
    movementsBefore = await openMonth();
  });

  it('a dry run validates and writes nothing', async () => {
    const before = await ledgerCounts();
    const { imp: dry } = await runImport(filesOf('clean'), { dryRun: true });
    expect(dry.status).toBe('dry_run_completed');
    expect(dry.summary).toMatchObject({ vouchers: 5, history: 10, rejections: 0 });
    expect(await ledgerCounts()).toEqual(before);
  });

  it('runs from the command line and reconciles to the cent', async () => {
    const files = filesOf('clean');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/import.ts',
      '--vouchers', files.vouchersPath, '--history', files.historyPath, '--stores', files.storesPath], {
      cwd: ROOT, timeout: 120_000,
      env: { ...process.env, DATABASE_URL: h.config.databaseUrl, TEMPORAL_ADDRESS: h.config.temporalAddress,
        TEMPORAL_NAMESPACE: h.config.temporalNamespace, TEMPORAL_TASK_QUEUE: h.config.taskQueue, IMPORT_DIR: work, APP_MODE: 'test' },
    });
    expect(stdout).toContain('finished: completed');
    const id = /import ([0-9a-f-]{36}): workflow/.exec(stdout)![1]!;
    imp = (await getImport(h.deps.db.pool, id))!;
    expect(imp.status).toBe('completed');
    const recon = JSON.parse(await readFile(path.join(work, `import-${id}-reconciliation.json`), 'utf8'));
    expect(recon.ok).toBe(true);
    expect(recon.byCurrency).toEqual([
      expect.objectContaining({ currency: 'EUR', fileVouchers: 4, fileBalance: '15000', ledgerVouchers: 4, ledgerBalance: '15000',
        fileHistory: 6, fileHistoryTotal: '7500', ledgerHistory: 6, ledgerHistoryTotal: '7500', ok: true }),
      expect.objectContaining({ currency: 'GBP', fileVouchers: 1, fileBalance: '12000', ledgerVouchers: 1, ledgerBalance: '12000',
        fileHistory: 4, fileHistoryTotal: '12000', ledgerHistory: 4, ledgerHistoryTotal: '12000', ok: true }),
    ]);
    const pairs = recon.byStore.map((s: { currency: string; storeId: string | null; ok: boolean }) => `${s.currency}:${s.storeId}:${s.ok}`);
    expect(pairs.sort()).toEqual([`EUR:${north}:true`, `EUR:${south}:true`, `GBP:${north}:true`, `GBP:${south}:true`].sort());
    expect(recon.migrationAccount).toEqual([{ currency: 'EUR', total: '-15000' }, { currency: 'GBP', total: '-12000' }]);
    expect(await h.deps.ledger.violations()).toEqual([]);

    const { rows: cards } = await h.deps.db.pool.query(
      `SELECT code_last4, available, currency, status, issuing_store_id FROM cards WHERE code_hash = ANY($1) ORDER BY code_last4`,
      [['LEG0001AAAA', 'LEG0002BBBB', 'LEG0003CCCC', 'LEG0004DDDD', 'LEG0005EEEE'].map(codeHash)]);
    expect(cards).toEqual([
      { code_last4: 'AAAA', available: '5000', currency: 'EUR', status: 'active', issuing_store_id: north },
      { code_last4: 'BBBB', available: '2500', currency: 'EUR', status: 'active', issuing_store_id: north },
      { code_last4: 'CCCC', available: '0', currency: 'EUR', status: 'active', issuing_store_id: south },
      { code_last4: 'DDDD', available: '12000', currency: 'GBP', status: 'blocked', issuing_store_id: south },
      { code_last4: 'EEEE', available: '7500', currency: 'EUR', status: 'active', issuing_store_id: south },
    ]);
  });

  it('keeps the buyer e-mail addresses sealed, and erases them with the shopper', async () => {
    const emails = async () => (await h.deps.db.pool.query<{ code_hash: string; email: string | null; email_hash: string | null; pii_erased_at: Date | null }>(
      `SELECT c.code_hash, b.email, b.email_hash, b.pii_erased_at FROM card_buyer_emails b JOIN cards c ON c.id = b.card_id
        WHERE b.import_id = $1 ORDER BY c.code_last4`, [imp.id])).rows;
    const stored = await emails();
    // Two of the five vouchers name their buyer; the quoted one keeps its comma.
    expect(stored.map((r) => [r.code_hash, r.email && h.deps.pii.open(r.email), r.email_hash])).toEqual([
      [codeHash('LEG0001AAAA'), 'anna@example.test', h.deps.pii.lookupHash('anna@example.test')],
      [codeHash('LEG0004DDDD'), 'Ben, Jr. <ben@example.test>', h.deps.pii.lookupHash('Ben, Jr. <ben@example.test>')],
    ]);
    for (const r of stored) {
      expect(isSealed(r.email!)).toBe(true);
      expect(r.email).not.toContain('example');
    }
    expect(await eraseShopper(h.deps.db.pool, h.deps.pii, ' Anna@Example.test', 'test')).toEqual([]);
    const after = await emails();
    expect(after[0]).toMatchObject({ email: null, email_hash: null, pii_erased_at: expect.any(Date) });
    expect(after[1]!.email).toBe(stored[1]!.email);
    const { rows: [log] } = await h.deps.db.pool.query(`SELECT details FROM audit_entries WHERE action = 'shopper_erased' ORDER BY id DESC LIMIT 1`);
    const { rows: [card] } = await h.deps.db.pool.query('SELECT id FROM cards WHERE code_hash = $1', [codeHash('LEG0001AAAA')]);
    expect(log.details).toEqual({ orders: [], importedCards: [card.id] });
  });

  it('the same files again change nothing', async () => {
    const before = await ledgerCounts();
    const again = await runImport(filesOf('clean'));
    expect(again.existing).toBe(true);
    expect(again.imp.id).toBe(imp.id);
    expect(await ledgerCounts()).toEqual(before);
  });

  it('keeps imported history, with its original times, on the card page and out of clearing', async () => {
    expect(await openMonth()).toEqual(movementsBefore);
    const { rows: [card] } = await h.deps.db.pool.query('SELECT id FROM cards WHERE code_hash = $1', [codeHash('LEG0001AAAA')]);
    const detail = (await findCard(h.deps.db.pool, card.id))!;
    expect(detail.history.map((t) => [t.type, Number(t.amount), t.bookedAt.toISOString(), t.storeId])).toEqual([
      ['legacy', 10000, '2024-03-01T09:00:00.000Z', north],
      ['legacy', 3000, '2024-04-02T13:12:00.000Z', south],
      ['legacy', 2000, '2026-11-02T11:00:00.000Z', south],
      ['opening_balance', 5000, detail.history[3]!.bookedAt.toISOString(), north],
    ]);
    // Over the portal's tRPC too, as the card page reads it.
    const { rows: [t] } = await h.deps.db.pool.query(
      `SELECT legacy_type, legacy_terminal FROM journal_entries WHERE card_id = $1 AND kind = 'legacy_history' ORDER BY booked_at DESC LIMIT 1`, [card.id]);
    expect(t).toEqual({ legacy_type: 'redeem', legacy_terminal: 'T-07, side till' });
  });

  it('a till looks up and redeems an imported voucher by its legacy code, partly and fully', async () => {
    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code: 'leg-0001-aaaa' }, key: h.terminalB.apiKey });
    expect(lookup.status).toBe(200);
    expect(lookup.body.card).toMatchObject({ available: 5000, currency: 'EUR', status: 'active' });
    const first = await call(h, 'POST', '/v1/redemptions', { key: h.terminalB.apiKey,
      body: { code: 'LEG 0001 AAAA', amount: 3000, currency: 'EUR', posReference: `imp-${randomUUID()}` } });
    expect(first.status).toBe(200);
    const captured = await call(h, 'POST', `/v1/redemptions/${first.body.id}/capture`, { key: h.terminalB.apiKey, body: { amount: 1000 } });
    expect(captured.body).toMatchObject({ status: 'captured', capturedAmount: 1000, card: { available: 4000, held: 0 } });
    const rest = await call(h, 'POST', '/v1/redemptions', { key: h.terminalB.apiKey,
      body: { code: 'LEG0001AAAA', amount: 10000, currency: 'EUR', posReference: `imp-${randomUUID()}`, allowPartial: true } });
    expect(rest.body).toMatchObject({ status: 'authorized', approvedAmount: 4000 });
    const all = await call(h, 'POST', `/v1/redemptions/${rest.body.id}/capture`, { key: h.terminalB.apiKey, body: {} });
    expect(all.body).toMatchObject({ status: 'captured', capturedAmount: 4000, card: { available: 0 } });
    // The voucher's issuer for clearing is its legacy store's party.
    const { rows } = await h.deps.db.pool.query(
      `SELECT e.issuer_store_id, s.billing_party_id FROM journal_entries e JOIN stores s ON s.id = e.issuer_store_id
        WHERE e.hold_id = ANY($1) AND e.kind = 'capture'`, [[first.body.id, rest.body.id]]);
    expect(rows).toEqual([{ issuer_store_id: north, billing_party_id: legacyParty }, { issuer_store_id: north, billing_party_id: legacyParty }]);
    const moves = (await openMonth()).filter((m) => m.issuer_key === legacyParty);
    expect(moves).toEqual([expect.objectContaining({ kind: 'capture', entries: '2', total: '5000', party_key: h.billingPartyId })]);
    // A mistyped legacy code is simply unknown (legacy codes have no check character).
    const typo = await call(h, 'POST', '/v1/cards/lookup', { body: { code: 'LEG-0001-AAAB' }, key: h.terminalB.apiKey });
    expect(typo.body.error.code).toBe('card_not_found');
    expect(await h.deps.ledger.violations()).toEqual([]);
  });
});

describe('encodings and formats', () => {
  it('reads a Latin-1 file set with digit codes', async () => {
    const { imp } = await runImport(filesOf('latin1'), { encoding: 'latin1', codeFormat: 'digits' });
    expect(imp.status).toBe('completed');
    const { rows } = await h.deps.db.pool.query(
      `SELECT c.available, e.legacy_terminal, s.name FROM cards c JOIN stores s ON s.id = c.issuing_store_id
         LEFT JOIN journal_entries e ON e.card_id = c.id AND e.kind = 'legacy_history' AND e.legacy_type = 'redeem'
        WHERE c.code_hash = $1`, [codeHash('00012345')]);
    expect(rows).toEqual([{ available: '4200', legacy_terminal: 'Kasse Müller', name: 'Import Store Café Süd' }]);
    // Bytes 0x80-0x9F are read as Windows-1252 (Windows exports declared Latin-1), not as control characters.
    const { rows: [issue] } = await h.deps.db.pool.query(
      `SELECT e.legacy_terminal FROM journal_entries e JOIN cards c ON c.id = e.card_id WHERE c.code_hash = $1 AND e.legacy_type = 'issue'`,
      [codeHash('00012345')]);
    expect(issue.legacy_terminal).toBe('Kasse Müller – Gutschein €');
    const { rows: [buyer] } = await h.deps.db.pool.query(
      `SELECT b.email FROM card_buyer_emails b JOIN cards c ON c.id = b.card_id WHERE c.code_hash = $1`, [codeHash('00012345')]);
    expect(h.deps.pii.open(buyer.email)).toBe('zoë@example.test');
    const lookup = await call(h, 'POST', '/v1/cards/lookup', { body: { code: '0009 8765' } });
    expect(lookup.body.card).toMatchObject({ available: 1000 });
  });
});

describe('resilience', () => {
  it('a worker stopped mid-import: an import worker resumes from the last chunk without duplicates, a tills\' worker leaves it', async () => {
    const dir = path.join(work, 'big');
    const n = 3000;
    const vouchers = ['code,balance,currency,issued_at,expires_at,store,status,email'];
    const history = ['code,type,amount,time,store,terminal'];
    for (let i = 0; i < n; i++) {
      const code = `BIG-${String(i).padStart(6, '0')}`;
      vouchers.push(`${code},${1000 + i},EUR,2025-01-01,2029-01-01,N1,active,`);
      history.push(`${code},issue,${2000 + i},2025-01-01T10:00:00Z,N1,T1`, `${code},redeem,1000,2025-02-01T10:00:00Z,S1,T2`);
    }
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.join(dir, 'big'), { recursive: true });
    writeFileSync(path.join(dir, 'big', 'vouchers.csv'), vouchers.join('\n') + '\n');
    writeFileSync(path.join(dir, 'big', 'history.csv'), history.join('\n') + '\n');
    writeFileSync(path.join(dir, 'big', 'stores.csv'), 'legacy_store,store\nN1,Import Store North\nS1,Import Store South\n');
    const { record } = await createImport(h.deps.db.pool, {
      ...filesOf('big', dir), encoding: 'utf8', codeFormat: 'plain', dryRun: false, acceptedPath: null, waitForAcceptance: false, requestedBy: 'test',
    });
    await startImportWorkflow(h.client, h.config, record);
    // The progress shown, read all along (across the worker's stop): it never goes back.
    const shown: number[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const p = await importProgress(h.client, record.id);
        if (p && p.percent !== shown[shown.length - 1]) shown.push(p.percent);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await waitFor(async () => {
      const { rows: [c] } = await h.deps.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM import_chunks WHERE import_id = $1', [record.id]);
      return Number(c!.n) >= 3;
    }, 60_000, 10);
    const running = await importProgress(h.client, record.id);
    expect(running).toMatchObject({ step: 'staging' });
    expect(running!.percent).toBeLessThan(80);
    await h.worker!.stop();
    const stoppedAt = Number((await h.deps.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM import_chunks WHERE import_id = $1', [record.id])).rows[0]!.n);
    expect(stoppedAt).toBeLessThan(90);
    // A worker serving the tills (WORKER_ROLE=engine) leaves imports alone; an import worker
    // (WORKER_ROLE=import) takes the import over.
    const tillsWorker = await startWorker({ ...h.deps, config: { ...h.config, workerRole: 'engine' } }, h.client);
    expect(tillsWorker.relay).not.toBeNull();
    await new Promise((r) => setTimeout(r, 3_000));
    const { rows: [idle] } = await h.deps.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM import_chunks WHERE import_id = $1', [record.id]);
    expect(Number(idle!.n)).toBe(stoppedAt);
    const importWorker = await startWorker({ ...h.deps, config: { ...h.config, workerRole: 'import' } }, h.client);
    expect(importWorker.relay).toBeNull();
    expect(importWorker.webhookRelay).toBeNull();
    const done = await waitForImport(h.client, record.id);
    expect(done.step).toBe('completed');
    await importWorker.stop();
    await tillsWorker.stop();
    h.worker = await startWorker(h.deps, h.client);
    watching = false;
    await watcher;
    shown.push((await importProgress(h.client, record.id))!.percent);
    expect(shown.length).toBeGreaterThanOrEqual(3);
    expect(shown).toEqual([...shown].sort((a, b) => a - b));
    expect(shown.at(-1)).toBe(100);
    const imp = (await getImport(h.deps.db.pool, record.id))!;
    expect(imp.summary).toMatchObject({ vouchers: n, history: 2 * n, rejections: 0 });
    expect(imp.reconciliation?.ok).toBe(true);
    const { rows: [chunks] } = await h.deps.db.pool.query(
      `SELECT count(*)::int AS chunks, sum(rows)::int AS rows FROM import_chunks WHERE import_id = $1`, [record.id]);
    expect(chunks).toEqual({ chunks: 90, rows: 3 * n });
    const { rows: [entries] } = await h.deps.db.pool.query(
      `SELECT count(*) FILTER (WHERE kind = 'import_opening')::int AS opening, count(*) FILTER (WHERE kind = 'legacy_history')::int AS history
         FROM journal_entries WHERE import_id = $1`, [record.id]);
    expect(entries).toEqual({ opening: n, history: 2 * n });
    expect(await h.deps.ledger.violations()).toEqual([]);
  });
});

describe('from the portal', () => {
  const trpc = async (key: string, proc: string, input: unknown, mutation = false) => {
    const res = mutation
      ? await fetch(`${h.baseUrl}/trpc/${proc}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(input) })
      : await fetch(`${h.baseUrl}/trpc/${proc}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: { authorization: `Bearer ${key}` } });
    const body = await res.json() as { result?: { data: any }; error?: { data: { appCode: string } } };
    return { status: res.status, data: body.result?.data, code: body.error?.data.appCode };
  };

  it('uploads the files, waits for a decision on the rejections, and imports once they are accepted', async () => {
    const finance = (await createApiClient(h.deps.db.prisma, { name: 'Import finance', role: 'finance' })).apiKey;
    const uploads: Record<string, string> = {};
    for (const f of ['vouchers', 'history', 'stores'] as const) {
      const res = await fetch(`${h.baseUrl}/v1/imports/uploads`, {
        method: 'POST', headers: { authorization: `Bearer ${finance}`, 'content-type': 'text/csv' },
        body: await readFile(path.join(FIXTURES, 'truncated', `${f}.csv`)),
      });
      expect(res.status).toBe(201);
      uploads[f] = ((await res.json()) as { upload: string }).upload;
    }
    // A till's key opens nothing here.
    const refused = await fetch(`${h.baseUrl}/v1/imports/uploads`, { method: 'POST', headers: { authorization: `Bearer ${h.terminalA.apiKey}`, 'content-type': 'text/csv' }, body: 'x' });
    expect(refused.status).toBe(401);
    const started = await trpc(finance, 'imports.start', { ...uploads }, true);
    expect(started.status).toBe(200);
    const id = started.data.importId as string;
    const waiting = await waitFor(async () => {
      const got = await trpc(finance, 'imports.get', { importId: id });
      return got.data?.status === 'awaiting_acceptance' && got.data;
    }, 60_000, 200);
    expect(waiting.progress).toMatchObject({ step: 'awaiting_acceptance' });
    expect(waiting.rejections.length).toBe(waiting.summary.rejections);
    // Accepting a report other than the one shown is refused.
    expect((await trpc(finance, 'imports.accept', { importId: id, reportSha256: '0'.repeat(64) }, true)).code).toBe('import_not_awaiting_acceptance');
    expect((await trpc(finance, 'imports.accept', { importId: id, reportSha256: waiting.summary.reportSha256 }, true)).status).toBe(200);
    const done = await waitFor(async () => {
      const got = await trpc(finance, 'imports.get', { importId: id });
      return got.data?.status === 'completed' && got.data;
    }, 60_000, 200);
    expect(done.reconciled).toBe(true);
    const report = await fetch(`${h.baseUrl}${done.reportUrl}`, { headers: { authorization: `Bearer ${finance}` } });
    expect(report.status).toBe(200);
    expect((await report.text()).startsWith('file,line,reason,detail\n')).toBe(true);
    const recon = await fetch(`${h.baseUrl}${done.reconciliationUrl}`, { headers: { authorization: `Bearer ${finance}` } });
    expect(((await recon.json()) as { ok: boolean }).ok).toBe(true);
    expect(await h.deps.ledger.violations()).toEqual([]);
  });
});
