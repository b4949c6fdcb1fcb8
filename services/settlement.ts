// Settling a closed clearing period: one payment per party and currency from its net position
// (a credit transfer to a party the centre owes, a direct debit from a party that owes it and has
// signed a mandate, an invoice for one that has not; other currencies than the euro are settled
// by hand), the SEPA files they go out in, and reconciliation with the bank's statements.
//
// A payment's key is (period, party, currency), so a rerun finds it instead of making another;
// a payment goes into a file once (file_id is set once), so no party is ever in two files for one
// period. A file is stored only after it has passed its official ISO 20022 schema.

import { createHash } from 'node:crypto';
import type pg from 'pg';
import { DomainError } from '../domain/errors.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import { businessDaysAfter, dayIn, endToEndId } from '../domain/sepa.ts';
import type { SettlementConfig } from '../infra/config.ts';
import { inTransaction } from '../infra/db.ts';
import { audit } from './audit.ts';
import { BankDetailsStore } from './bank-details.ts';
import type { BankStatement } from './iso20022/camt.ts';
import { creditTransferFile, directDebitFile, PAIN_SCHEMAS } from './iso20022/pain.ts';
import { validateAgainstSchema } from './iso20022/schemas.ts';

export type PaymentMethod = 'credit_transfer' | 'direct_debit' | 'invoice' | 'manual';
export type PaymentStatus = 'awaiting_bank_details' | 'to_invoice' | 'manual' | 'in_file' | 'paid' | 'returned' | 'missing' | 'wrong_amount';
export type FileKind = 'credit_transfers' | 'direct_debits';

export interface SettlementPayment {
  id: string;
  period: string;
  billingPartyId: string;
  partyName: string;
  currency: string;
  direction: 'payout' | 'collection';
  amount: bigint;
  method: PaymentMethod;
  endToEndId: string;
  fileId: string | null;
  status: PaymentStatus;
  reason: string | null;
  returnReason: string | null;
  reconciledAt: Date | null;
}

export interface SettlementFile {
  id: string;
  period: string;
  kind: FileKind;
  msgId: string;
  schema: string;
  sha256: string;
  payments: number;
  controlSum: bigint;
  createdAt: Date;
}

export interface SettlementDifference {
  kind: 'wrong_amount' | 'unknown_payment' | 'returned' | 'missing';
  endToEndId: string | null;
  billingPartyId: string | null;
  expectedAmount: bigint | null;
  actualAmount: bigint | null;
  currency: string | null;
  reasonCode: string | null;
  detail: string;
}

export interface SettleResult {
  period: string;
  runs: number;
  newFiles: SettlementFile[];
  payments: number;
}

interface PaymentRow {
  id: string; period: string; billing_party_id: string; party_name: string; currency: string; direction: 'payout' | 'collection';
  amount: string; method: PaymentMethod; end_to_end_id: string; file_id: string | null; status: PaymentStatus;
  reason: string | null; return_reason: string | null; reconciled_at: Date | null;
}

function paymentOf(r: PaymentRow): SettlementPayment {
  return {
    id: r.id, period: r.period, billingPartyId: r.billing_party_id, partyName: r.party_name, currency: r.currency, direction: r.direction,
    amount: BigInt(r.amount), method: r.method, endToEndId: r.end_to_end_id, fileId: r.file_id, status: r.status, reason: r.reason,
    returnReason: r.return_reason, reconciledAt: r.reconciled_at,
  };
}

interface FileRow {
  id: string; period: string; kind: FileKind; msg_id: string; schema: string; sha256: string; payments: number; control_sum: string; created_at: Date;
}

function fileOf(r: FileRow): SettlementFile {
  return {
    id: r.id, period: r.period, kind: r.kind, msgId: r.msg_id, schema: r.schema, sha256: r.sha256, payments: r.payments,
    controlSum: BigInt(r.control_sum), createdAt: r.created_at,
  };
}

const PAYMENT_COLUMNS = `p.id, p.period, p.billing_party_id, bp.name AS party_name, p.currency, p.direction, p.amount, p.method,
  p.end_to_end_id, p.file_id, p.status, p.reason, p.return_reason, p.reconciled_at`;
const FILE_COLUMNS = 'id, period, kind, msg_id, schema, sha256, payments, control_sum, created_at';

type Db = Pick<pg.PoolClient, 'query'>;

/** Which way a party's net goes and how, given its bank details. */
function planPayment(net: bigint, currency: string, details: { mandateReference: string | null } | undefined):
  { direction: 'payout' | 'collection'; method: PaymentMethod; status: PaymentStatus; reason: string | null } {
  const direction = net > 0n ? 'payout' : 'collection';
  if (currency !== 'EUR') return { direction, method: 'manual', status: 'manual', reason: `${currency} is settled by hand: SEPA files carry euros only` };
  if (!details) return { direction, method: direction === 'payout' ? 'credit_transfer' : 'invoice', status: direction === 'payout' ? 'awaiting_bank_details' : 'to_invoice', reason: 'no approved bank details' };
  if (direction === 'payout') return { direction, method: 'credit_transfer', status: 'in_file', reason: null };
  if (!details.mandateReference) return { direction, method: 'invoice', status: 'to_invoice', reason: 'no direct-debit mandate: invoice the party' };
  return { direction, method: 'direct_debit', status: 'in_file', reason: null };
}

export class SettlementStore {
  constructor(private readonly pool: pg.Pool, private readonly pii: PiiCipher, private readonly config: SettlementConfig,
    private readonly timeZone: string) {}

  /** Refuses a period that has not been cleared and closed. */
  private async requireClosed(db: Db, period: string): Promise<void> {
    const { rows: [p] } = await db.query<{ status: string }>('SELECT status FROM clearing_periods WHERE period = $1', [period]);
    if (!p) throw new DomainError('period_not_found', `${period} has not been cleared; start its clearing first`);
    if (p.status !== 'closed') throw new DomainError('period_not_closed', `${period} is not closed yet: finance approves its clearing first`);
  }

  /** Checked before a run is started, so the API can refuse at once. */
  async assertSettleable(period: string): Promise<void> {
    if (!this.config.centre) throw new DomainError('settlement_not_configured', 'set SEPA_CENTRE_NAME, SEPA_CENTRE_IBAN, SEPA_CENTRE_BIC and SEPA_CREDITOR_ID first');
    await this.requireClosed(this.pool, period);
  }

  /**
   * Plans the period's payments and writes a file for each kind that has payments not yet in one.
   * One transaction under the run's row lock: concurrent runs queue, and a rerun finds everything
   * the first made. `now` is the files' creation time.
   */
  async settle(period: string, now: Date): Promise<SettleResult> {
    const centre = this.config.centre;
    if (!centre) throw new DomainError('settlement_not_configured', 'set SEPA_CENTRE_IBAN, SEPA_CENTRE_BIC and SEPA_CREDITOR_ID first');
    return inTransaction(this.pool, async (db) => {
      await this.requireClosed(db, period);
      const { rows: [run] } = await db.query<{ runs: number }>(
        `INSERT INTO settlement_runs (period, runs) VALUES ($1, 1)
         ON CONFLICT (period) DO UPDATE SET runs = settlement_runs.runs + 1 RETURNING runs`, [period]);
      const { rows: positions } = await db.query<{ billing_party_id: string; currency: string; net: string }>(
        `SELECT billing_party_id, currency, net FROM clearing_positions
          WHERE period = $1 AND billing_party_id IS NOT NULL AND net <> 0 ORDER BY billing_party_id, currency`, [period]);
      const details = await BankDetailsStore.activeOpened(db, this.pii, positions.map((p) => p.billing_party_id));

      for (const p of positions) {
        const net = BigInt(p.net);
        const plan = planPayment(net, p.currency, details.get(p.billing_party_id));
        const e2e = p.currency === 'EUR' ? endToEndId(period, p.billing_party_id) : `${endToEndId(period, p.billing_party_id).slice(0, 31)}-${p.currency}`;
        // Placed once; a payment still waiting for bank details or a mandate is planned again.
        await db.query(
          `INSERT INTO settlement_payments (period, billing_party_id, currency, direction, amount, method, end_to_end_id, bank_details_id, status, reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (period, billing_party_id, currency) DO UPDATE
             SET method = EXCLUDED.method, bank_details_id = EXCLUDED.bank_details_id, status = EXCLUDED.status, reason = EXCLUDED.reason
           WHERE settlement_payments.file_id IS NULL AND settlement_payments.status IN ('awaiting_bank_details', 'to_invoice')`,
          [period, p.billing_party_id, p.currency, plan.direction, (net < 0n ? -net : net).toString(), plan.method, e2e,
            details.get(p.billing_party_id)?.id ?? null, plan.status, plan.reason]);
      }

      const newFiles: SettlementFile[] = [];
      for (const kind of ['credit_transfers', 'direct_debits'] as const) {
        const file = await this.writeFile(db, period, kind, now, centre);
        if (file) newFiles.push(file);
      }
      const count = await db.query('SELECT 1 FROM settlement_payments WHERE period = $1', [period]);
      await db.query('UPDATE settlement_runs SET planned_at = $2 WHERE period = $1', [period, now]);
      await audit(db, { actor: 'settlement-workflow', action: 'settlement_run', subject: `settlement:${period}`,
        details: { run: run!.runs, newFiles: newFiles.map((f) => ({ id: f.id, kind: f.kind, payments: f.payments, controlSum: f.controlSum.toString() })) } });
      return { period, runs: run!.runs, newFiles, payments: count.rowCount ?? 0 };
    });
  }

  /** The file of one kind for the payments not yet in a file, validated; null when there are none. */
  private async writeFile(db: Db, period: string, kind: FileKind, now: Date, centre: NonNullable<SettlementConfig['centre']>): Promise<SettlementFile | null> {
    const method = kind === 'credit_transfers' ? 'credit_transfer' : 'direct_debit';
    const { rows } = await db.query<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS} FROM settlement_payments p JOIN billing_parties bp ON bp.id = p.billing_party_id
        WHERE p.period = $1 AND p.method = $2 AND p.status = 'in_file' AND p.file_id IS NULL
        ORDER BY bp.name, p.billing_party_id FOR UPDATE OF p`, [period, method]);
    if (rows.length === 0) return null;
    const payments = rows.map(paymentOf);
    const details = await BankDetailsStore.activeOpened(db, this.pii, payments.map((p) => p.billingPartyId));
    const { rows: [next] } = await db.query<{ seq: number }>(
      'SELECT count(*)::int + 1 AS seq FROM settlement_files WHERE period = $1 AND kind = $2', [period, kind]);
    const seq = next!.seq;
    const msgId = `VE-${period}-${kind === 'credit_transfers' ? 'SCT' : 'SDD'}-${seq}`;
    const date = businessDaysAfter(dayIn(now, this.timeZone), this.config.leadDays);
    const version = this.config.painVersion;
    const header = { msgId, createdAt: now, date, centre: { name: centre.name, iban: centre.iban, bic: centre.bic }, version };
    const remittance = (p: SettlementPayment) => `Voucher clearing ${period} ${p.partyName}`;
    const xml = kind === 'credit_transfers'
      ? creditTransferFile(header, payments.map((p) => {
        const d = details.get(p.billingPartyId)!;
        return { endToEndId: p.endToEndId, amount: p.amount, creditor: { name: d.accountHolder, iban: d.iban, bic: d.bic }, remittance: remittance(p) };
      }))
      : directDebitFile({ ...header, creditorId: centre.creditorId, scheme: this.config.directDebitScheme }, payments.map((p) => {
        const d = details.get(p.billingPartyId)!;
        return { endToEndId: p.endToEndId, amount: p.amount, debtor: { name: d.accountHolder, iban: d.iban, bic: d.bic },
          mandateId: d.mandateReference!, mandateSignedOn: d.mandateSignedOn!, remittance: remittance(p) };
      }));
    const schema = PAIN_SCHEMAS[version][kind === 'credit_transfers' ? 'creditTransfers' : 'directDebits'];
    const check = await validateAgainstSchema(this.config.iso20022SchemaDir, schema, xml);
    // Never offered unless valid: a file the bank refuses is worse than none.
    if (!check.valid) throw new Error(`the ${schema} file for ${period} does not pass its schema: ${check.errors.slice(0, 3).join('; ')}`);
    const controlSum = payments.reduce((a, p) => a + p.amount, 0n);
    const { rows: [file] } = await db.query<FileRow>(
      `INSERT INTO settlement_files (period, kind, seq, msg_id, schema, xml, sha256, payments, control_sum, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${FILE_COLUMNS}`,
      [period, kind, seq, msgId, schema, xml, createHash('sha256').update(xml).digest('hex'), payments.length, controlSum.toString(), now]);
    await db.query('UPDATE settlement_payments SET file_id = $1 WHERE id = ANY($2::uuid[])', [file!.id, payments.map((p) => p.id)]);
    return fileOf(file!);
  }

  async run(period: string): Promise<{ runs: number; plannedAt: Date | null } | null> {
    const { rows: [r] } = await this.pool.query<{ runs: number; planned_at: Date | null }>('SELECT runs, planned_at FROM settlement_runs WHERE period = $1', [period]);
    return r ? { runs: r.runs, plannedAt: r.planned_at } : null;
  }

  async payments(period: string, billingPartyId?: string): Promise<SettlementPayment[]> {
    const { rows } = await this.pool.query<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS} FROM settlement_payments p JOIN billing_parties bp ON bp.id = p.billing_party_id
        WHERE p.period = $1 AND ($2::uuid IS NULL OR p.billing_party_id = $2) ORDER BY bp.name, p.currency`, [period, billingPartyId ?? null]);
    return rows.map(paymentOf);
  }

  async files(period: string): Promise<SettlementFile[]> {
    const { rows } = await this.pool.query<FileRow>(`SELECT ${FILE_COLUMNS} FROM settlement_files WHERE period = $1 ORDER BY kind, seq`, [period]);
    return rows.map(fileOf);
  }

  async fileXml(period: string, fileId: string): Promise<{ file: SettlementFile; xml: string } | null> {
    const { rows: [r] } = await this.pool.query<FileRow & { xml: string }>(
      `SELECT ${FILE_COLUMNS}, xml FROM settlement_files WHERE period = $1 AND id = $2`, [period, fileId]);
    return r ? { file: fileOf(r), xml: r.xml } : null;
  }

  async differences(period: string): Promise<SettlementDifference[]> {
    const { rows } = await this.pool.query<{
      kind: SettlementDifference['kind']; end_to_end_id: string | null; billing_party_id: string | null; expected_amount: string | null;
      actual_amount: string | null; currency: string | null; reason_code: string | null; detail: string;
    }>(
      `SELECT d.kind, d.end_to_end_id, p.billing_party_id, d.expected_amount, d.actual_amount, d.currency, d.reason_code, d.detail
         FROM settlement_differences d LEFT JOIN settlement_payments p ON p.id = d.payment_id
        WHERE d.period = $1 AND d.superseded_at IS NULL ORDER BY d.id`, [period]);
    return rows.map((r) => ({
      kind: r.kind, endToEndId: r.end_to_end_id, billingPartyId: r.billing_party_id,
      expectedAmount: r.expected_amount === null ? null : BigInt(r.expected_amount),
      actualAmount: r.actual_amount === null ? null : BigInt(r.actual_amount), currency: r.currency, reasonCode: r.reason_code, detail: r.detail,
    }));
  }

  /**
   * Reconciles the period's payments in files with a bank statement of the centre's account: each
   * is paid (its end-to-end id booked for its amount, the right way), returned (with the bank's
   * reason code), booked for another amount, or missing. Entries that are no settlement payment
   * are listed as unknown. The same file uploaded again changes nothing.
   */
  async reconcile(period: string, statement: BankStatement, sha256: string, by: string): Promise<{ importId: string; replayed: boolean }> {
    const centre = this.config.centre;
    if (!centre) throw new DomainError('settlement_not_configured', 'set SEPA_CENTRE_IBAN first');
    if (statement.iban !== centre.iban) {
      throw new DomainError('bank_statement_wrong_account', `the statement is for account …${statement.iban.slice(-4)}, not the centre's settlement account …${centre.iban.slice(-4)}`);
    }
    return inTransaction(this.pool, async (db) => {
      const { rows: [run] } = await db.query('SELECT period FROM settlement_runs WHERE period = $1 FOR UPDATE', [period]);
      if (!run) throw new DomainError('period_not_found', `${period} has not been settled; nothing to reconcile`);
      const { rows: [seen] } = await db.query<{ id: string }>('SELECT id FROM bank_statement_imports WHERE period = $1 AND sha256 = $2', [period, sha256]);
      if (seen) return { importId: seen.id, replayed: true };

      const { rows: [imported] } = await db.query<{ id: string }>(
        `INSERT INTO bank_statement_imports (period, sha256, schema, statement_id, entries, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [period, sha256, statement.schema, statement.statementId.slice(0, 35), statement.entries.length, by]);
      const importId = imported!.id;
      await db.query('UPDATE settlement_differences SET superseded_at = now() WHERE period = $1 AND superseded_at IS NULL', [period]);

      const { rows } = await db.query<PaymentRow>(
        `SELECT ${PAYMENT_COLUMNS} FROM settlement_payments p JOIN billing_parties bp ON bp.id = p.billing_party_id
          WHERE p.period = $1 AND p.file_id IS NOT NULL FOR UPDATE OF p`, [period]);
      const ours = new Map(rows.map((r) => [r.end_to_end_id, paymentOf(r)]));
      const { rows: known } = await db.query<{ end_to_end_id: string }>('SELECT end_to_end_id FROM settlement_payments');
      const anyPeriod = new Set(known.map((k) => k.end_to_end_id));
      const { found, unknown } = matchBookings(statement, ours, anyPeriod);

      const difference = (d: { kind: SettlementDifference['kind']; e2e: string | null; paymentId: string | null; expected: bigint | null; actual: bigint | null; currency: string | null; reason: string | null; detail: string }) =>
        db.query(
          `INSERT INTO settlement_differences (import_id, period, kind, end_to_end_id, payment_id, expected_amount, actual_amount, currency, reason_code, detail)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [importId, period, d.kind, d.e2e, d.paymentId, d.expected?.toString() ?? null, d.actual?.toString() ?? null, d.currency, d.reason, d.detail]);
      const setStatus = (p: SettlementPayment, status: PaymentStatus, returnReason: string | null = null) =>
        db.query('UPDATE settlement_payments SET status = $2, return_reason = $3, reconciled_at = now() WHERE id = $1', [p.id, status, returnReason]);

      for (const p of ours.values()) {
        const bookings = found.get(p.endToEndId) ?? [];
        const back = bookings.find((b) => b.returnReason);
        // A payout leaves the centre's account (debit); a collection arrives (credit).
        const paid = bookings.find((b) => !b.returnReason && b.credit === (p.direction === 'collection'));
        if (back) {
          await setStatus(p, 'returned', back.returnReason);
          await difference({ kind: 'returned', e2e: p.endToEndId, paymentId: p.id, expected: p.amount, actual: back.amount, currency: p.currency,
            reason: back.returnReason, detail: `${p.partyName}: the ${p.direction} was returned (${back.returnReason})` });
        } else if (paid && paid.amount === p.amount && paid.currency === p.currency) {
          await setStatus(p, 'paid');
        } else if (paid) {
          await setStatus(p, 'wrong_amount');
          await difference({ kind: 'wrong_amount', e2e: p.endToEndId, paymentId: p.id, expected: p.amount, actual: paid.amount, currency: paid.currency,
            reason: null, detail: `${p.partyName}: booked ${paid.amount} ${paid.currency}, expected ${p.amount} ${p.currency}` });
        } else if (p.status === 'paid' || p.status === 'returned') {
          // Booked on an earlier statement: this one covers other days.
        } else {
          await setStatus(p, 'missing');
          await difference({ kind: 'missing', e2e: p.endToEndId, paymentId: p.id, expected: p.amount, actual: null, currency: p.currency,
            reason: null, detail: `${p.partyName}: the ${p.direction} is not on the statement` });
        }
      }
      for (const u of unknown) {
        await difference({ kind: 'unknown_payment', e2e: u.e2e, paymentId: null, expected: null, actual: u.amount, currency: u.currency, reason: null,
          detail: u.e2e ? `a booking with end-to-end id ${u.e2e} that no settlement made` : 'a booking without end-to-end id' });
      }
      await audit(db, { actor: by, action: 'bank_statement_imported', subject: `settlement:${period}`,
        details: { importId, sha256, statementId: statement.statementId, entries: statement.entries.length, unknown: unknown.length } });
      return { importId, replayed: false };
    });
  }
}

type Booking = { amount: bigint; currency: string; credit: boolean; returnReason: string | null };

/** The statement's booked transactions: ours by end-to-end id, and those no settlement made. */
function matchBookings(statement: BankStatement, ours: Map<string, unknown>, anyPeriod: Set<string>) {
  const found = new Map<string, Booking[]>();
  const unknown: { e2e: string | null; amount: bigint; currency: string }[] = [];
  for (const entry of statement.entries.filter((e) => e.booked)) {
    for (const tx of entry.transactions.length ? entry.transactions : [{ endToEndId: null, amount: entry.amount, currency: entry.currency, returnReason: null }]) {
      const returned = tx.returnReason ?? (entry.reversal ? 'reversal' : null);
      if (tx.endToEndId && ours.has(tx.endToEndId)) {
        found.set(tx.endToEndId, [...(found.get(tx.endToEndId) ?? []), { amount: tx.amount, currency: tx.currency, credit: entry.credit, returnReason: returned }]);
      } else if (!tx.endToEndId || !anyPeriod.has(tx.endToEndId)) {
        unknown.push({ e2e: tx.endToEndId, amount: tx.amount, currency: tx.currency });
      }
    }
  }
  return { found, unknown };
}
