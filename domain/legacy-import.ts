// The legacy import's file format and its row-by-row rules (README, "Importing existing vouchers").
// Pure: a row in, a staged row or a rejection out. Rules that need other rows (duplicates, history
// adding up to the balance) are checked in SQL over the staged rows.

import { isCurrency } from './money.ts';
import { normalizeLegacyCode, type LegacyCodeFormat } from './legacy-code.ts';

export const VOUCHER_COLUMNS = ['code', 'balance', 'currency', 'issued_at', 'expires_at', 'store', 'status', 'email'] as const;
export const HISTORY_COLUMNS = ['code', 'type', 'amount', 'time', 'store', 'terminal'] as const;
export const STORE_COLUMNS = ['legacy_store', 'store'] as const;

export type ImportFile = 'stores' | 'vouchers' | 'history';

/** Stable reasons a row is refused; the report and an operator's acceptance list use them. */
export const REJECTION_REASONS = [
  'malformed', 'duplicate_code', 'invalid_balance', 'invalid_amount', 'unknown_currency', 'unknown_store',
  'future_date', 'expired_with_balance', 'history_mismatch', 'unknown_voucher', 'voucher_rejected',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export interface Rejection {
  file: ImportFile;
  line: number;
  reason: RejectionReason;
  detail: string;
}

/**
 * Old-system transaction types and their effect on the balance. Amounts in the file are positive;
 * the type gives the sign.
 */
export const HISTORY_TYPES = {
  issue: 1, load: 1, refund: 1, adjust_credit: 1, redeem: -1, expire: -1, adjust_debit: -1,
} as const;
export type HistoryType = keyof typeof HISTORY_TYPES;

export interface RowContext {
  format: LegacyCodeFormat;
  /** Legacy store id -> our store id. */
  stores: ReadonlyMap<string, string>;
  now: Date;
  maxBalance: bigint;
}

export interface StagedVoucher {
  code: string;
  balance: bigint;
  currency: string;
  issuedAt: Date;
  expiresAt: Date;
  storeId: string;
  status: 'active' | 'blocked' | 'expired';
  /** The buyer's address as the file gives it (trimmed), when it gives one. */
  email: string | null;
}

export interface StagedHistory {
  code: string;
  type: HistoryType;
  delta: bigint;
  at: Date;
  storeId: string | null;
  terminal: string | null;
}

type Checked<T> = { ok: true; row: T } | { ok: false; reason: RejectionReason; detail: string; code: string | null };

/** Largest amount the file may state: 15 digits stay far inside bigint and a JavaScript number. */
const AMOUNT = /^\d{1,15}$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/;
const PLAIN = /^[^\p{Cc}\p{Cs}]*$/u;

/** A day (midnight UTC) or a time with its offset; null for anything else or a day that does not exist. */
export function parseInstant(text: string): Date | null {
  const t = text.trim();
  if (DATE_ONLY.test(t)) {
    const d = new Date(`${t}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === t ? d : null;
  }
  if (!DATE_TIME.test(t)) return null;
  const d = new Date(t.replace(' ', 'T'));
  if (Number.isNaN(d.getTime())) return null;
  // Date rolls 2026-02-31 over into March: the day as written must exist.
  const [y, m, day] = t.slice(0, 10).split('-').map(Number) as [number, number, number];
  const probe = new Date(Date.UTC(y, m - 1, day));
  if (probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== day) return null;
  const year = d.getUTCFullYear();
  return year >= 1900 && year <= 9999 ? d : null;
}

function reject<T>(reason: RejectionReason, detail: string, code: string | null = null): Checked<T> {
  return { ok: false, reason, detail, code };
}

/** The header must name the columns, in this order (case and surrounding spaces aside). */
export function headerProblem(record: string[], expected: readonly string[]): string | null {
  const got = record.map((c) => c.trim().toLowerCase());
  if (got.length === expected.length && got.every((c, i) => c === expected[i])) return null;
  return `the header must be ${expected.join(',')}; it is ${record.join(',').slice(0, 200)}`;
}

function amountProblem(text: string, what: string, allowZero: boolean): string | null {
  const t = text.trim();
  if (t.startsWith('-')) return `${what} ${t} is negative`;
  if (!AMOUNT.test(t)) return `${what} "${t.slice(0, 40)}" is not a whole number of minor units`;
  if (!allowZero && BigInt(t) === 0n) return `${what} is zero`;
  return null;
}

export function checkVoucher(record: string[], ctx: RowContext): Checked<StagedVoucher> {
  if (record.length !== VOUCHER_COLUMNS.length) {
    return reject('malformed', `${record.length} columns, ${VOUCHER_COLUMNS.length} expected`);
  }
  const [rawCode, balanceText, currencyText, issuedText, expiresText, store, statusText, email] = record as [string, ...string[]] & string[];
  const code = normalizeLegacyCode(rawCode, ctx.format);
  if (!code) return reject('malformed', `the code is not a ${ctx.format} code`);
  const balanceProblem = amountProblem(balanceText!, 'balance', true);
  if (balanceProblem) return reject('invalid_balance', balanceProblem, code);
  const balance = BigInt(balanceText!.trim());
  if (balance > ctx.maxBalance) return reject('invalid_balance', `balance ${balance} is above the most a card may hold (${ctx.maxBalance})`, code);
  const currency = currencyText!.trim().toUpperCase();
  if (!isCurrency(currency)) return reject('unknown_currency', `currency "${currencyText!.slice(0, 10)}" is not one the scheme uses`, code);
  const issuedAt = parseInstant(issuedText!);
  if (!issuedAt) return reject('malformed', `issued_at "${issuedText!.slice(0, 40)}" is not a day or a time with its offset`, code);
  const expiresAt = parseInstant(expiresText!);
  if (!expiresAt) return reject('malformed', `expires_at "${expiresText!.slice(0, 40)}" is not a day or a time with its offset`, code);
  if (issuedAt > ctx.now) return reject('future_date', `issued_at ${issuedAt.toISOString()} lies in the future`, code);
  if (expiresAt <= issuedAt) return reject('malformed', 'expires_at is not after issued_at', code);
  const storeId = ctx.stores.get(store!.trim());
  if (!storeId) return reject('unknown_store', `legacy store "${store!.slice(0, 40)}" is not in the store mapping`, code);
  const status = statusText!.trim().toLowerCase();
  if (status !== 'active' && status !== 'blocked' && status !== 'expired') {
    return reject('malformed', `status "${statusText!.slice(0, 20)}" is not active, blocked or expired`, code);
  }
  if ((status === 'expired' || expiresAt <= ctx.now) && balance > 0n) {
    return reject('expired_with_balance', `the voucher has expired and still holds ${balance}; book its breakage in the old system first`, code);
  }
  if (!PLAIN.test(email!) || email!.length > 320) return reject('malformed', 'email has control characters or is too long', code);
  return { ok: true, row: { code, balance, currency, issuedAt, expiresAt, storeId, status, email: email!.trim() || null } };
}

export function checkHistory(record: string[], ctx: RowContext): Checked<StagedHistory> {
  if (record.length !== HISTORY_COLUMNS.length) {
    return reject('malformed', `${record.length} columns, ${HISTORY_COLUMNS.length} expected`);
  }
  const [rawCode, typeText, amountText, timeText, store, terminal] = record as [string, ...string[]] & string[];
  const code = normalizeLegacyCode(rawCode, ctx.format);
  if (!code) return reject('malformed', `the code is not a ${ctx.format} code`);
  const type = typeText!.trim().toLowerCase();
  if (!(type in HISTORY_TYPES)) return reject('malformed', `type "${typeText!.slice(0, 20)}" is not one of ${Object.keys(HISTORY_TYPES).join(', ')}`, code);
  const problem = amountProblem(amountText!, 'amount', false);
  if (problem) return reject('invalid_amount', problem, code);
  const at = parseInstant(timeText!);
  if (!at) return reject('malformed', `time "${timeText!.slice(0, 40)}" is not a day or a time with its offset`, code);
  if (at > ctx.now) return reject('future_date', `time ${at.toISOString()} lies in the future`, code);
  let storeId: string | null = null;
  if (store!.trim() !== '') {
    storeId = ctx.stores.get(store!.trim()) ?? null;
    if (!storeId) return reject('unknown_store', `legacy store "${store!.slice(0, 40)}" is not in the store mapping`, code);
  }
  const term = terminal!.trim();
  if (!PLAIN.test(term) || term.length > 64) return reject('malformed', 'terminal has control characters or is longer than 64 characters', code);
  const t = type as HistoryType;
  return { ok: true, row: { code, type: t, delta: BigInt(HISTORY_TYPES[t]) * BigInt(amountText!.trim()), at, storeId, terminal: term || null } };
}

/**
 * Staging's share of an import's progress (0-80): bytes staged of both files' bytes. Never less
 * than what was shown before, so a bar does not go back when a retried attempt reports again.
 */
export function stagingPercent(shown: number, bytesDone: number, bytesTotal: number): number {
  const now = Math.min(80, Math.floor((80 * bytesDone) / Math.max(bytesTotal, 1)));
  return Math.max(shown, now);
}
