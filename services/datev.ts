// A party's clearing statement, and the centre's own journal of a period, as DATEV booking batches
// ("Buchungsstapel", EXTF format version 700, category 21): the import German accountants'
// software takes. One header line (format, consultant and client, fiscal year, period,
// description), the column names, then one booking per statement line or journal sum: amount without sign, Soll/Haben flag, account, contra account, document
// date (DDMM) and number, text. The accounts come from DATEV_ACCOUNTS (chart-of-accounts mapping).
// Written in Windows-1252/Latin-1 with CRLF, as DATEV expects.

import type { DatevAccounts } from '../infra/config.ts';
import type { Position } from './clearing.ts';

/** The first columns of the Buchungsstapel layout, in the specification's order and spelling. */
export const DATEV_COLUMNS = [
  'Umsatz (ohne Soll/Haben-Kz)', 'Soll/Haben-Kennzeichen', 'WKZ Umsatz', 'Kurs', 'Basis-Umsatz', 'WKZ Basis-Umsatz',
  'Konto', 'Gegenkonto (ohne BU-Schlüssel)', 'BU-Schlüssel', 'Belegdatum', 'Belegfeld 1', 'Belegfeld 2', 'Skonto', 'Buchungstext',
] as const;

function quoted(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

/** 3000n → "30,00": German decimal comma, no thousands separator. */
function amount(minor: bigint): string {
  return `${minor / 100n},${String(minor % 100n).padStart(2, '0')}`;
}

function compactDay(day: string): string {
  return day.replace(/-/g, '');
}

export interface DatevBatchInput {
  period: string;
  /** First and last day of the period, YYYY-MM-DD. */
  firstDay: string;
  lastDay: string;
  party: { id: string; name: string };
  positions: Position[];
  accounts: DatevAccounts;
  createdAt: Date;
}

interface BatchHeader {
  period: string;
  firstDay: string;
  lastDay: string;
  description: string;
  accounts: DatevAccounts;
  createdAt: Date;
}

/** The EXTF header line: format, consultant and client, fiscal year start, account length, dates covered, description. */
function headerLine(h: BatchHeader): string {
  const year = Number(h.period.slice(0, 4));
  const month = Number(h.period.slice(5, 7));
  const fiscalYear = month >= h.accounts.fiscalYearStartMonth ? year : year - 1;
  const fiscalStart = `${fiscalYear}${String(h.accounts.fiscalYearStartMonth).padStart(2, '0')}01`;
  const stamp = h.createdAt.toISOString().replace(/[-:TZ.]/g, '').slice(0, 17);
  return [
    quoted('EXTF'), '700', '21', quoted('Buchungsstapel'), '13', stamp, '', quoted('VE'), quoted(''), quoted(''),
    h.accounts.consultant, h.accounts.client, fiscalStart, String(h.accounts.voucherClearing.length),
    compactDay(h.firstDay), compactDay(h.lastDay), quoted(h.description.slice(0, 30)), quoted(''),
    '1', '0', '0', quoted('EUR'), '', quoted(''), '', '', '', quoted(''), '', quoted(''), quoted(''),
  ].join(';');
}

interface Booking {
  amount: bigint;
  side: 'S' | 'H';
  currency: string;
  account: string;
  contraAccount: string;
  /** YYYY-MM-DD */
  day: string;
  documentNo: string;
  text: string;
}

function bookingLine(b: Booking): string {
  return [amount(b.amount), quoted(b.side), quoted(b.currency), '', '', '', b.account, b.contraAccount, '',
    `${b.day.slice(8, 10)}${b.day.slice(5, 7)}`, quoted(b.documentNo), quoted(''), '', quoted(b.text.slice(0, 60))].join(';');
}

function batch(header: BatchHeader, bookings: Booking[]): Buffer {
  const lines = [headerLine(header), DATEV_COLUMNS.map(quoted).join(';'), ...bookings.filter((b) => b.amount !== 0n).map(bookingLine)];
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1');
}

function documentNumber(period: string): string {
  return `VE${period.replace('-', '')}`;
}

export function datevBookingBatch(b: DatevBatchInput): Buffer {
  const partyAccount = b.accounts.parties[b.party.id] ?? b.accounts.partyDefault;
  const booking = (value: bigint, side: 'S' | 'H', currency: string, text: string): Booking => ({
    amount: value, side, currency, account: partyAccount, contraAccount: b.accounts.voucherClearing, day: b.lastDay,
    documentNo: documentNumber(b.period), text: `${text} ${b.period}`,
  });
  // From the centre's books, on the party's personal account: what its tills sold it holds for
  // the scheme (debit), what it accepted the centre owes it (credit), refunds reduce that (debit).
  const bookings = b.positions.flatMap((p) => [
    booking(p.salesAmount, 'S', p.currency, 'Gutscheinverkäufe'),
    booking(p.redemptionsAmount, 'H', p.currency, 'Gutscheineinlösungen'),
    booking(p.refundsAmount, 'S', p.currency, 'Erstattungen'),
  ]);
  return batch({ period: b.period, firstDay: b.firstDay, lastDay: b.lastDay, description: `Gutscheine ${b.period} ${b.party.name}`,
    accounts: b.accounts, createdAt: b.createdAt }, bookings);
}

/** The ledger's accounts as the centre's bookkeeping knows them. */
export type JournalAccount =
  | { kind: 'voucherClearing' | 'providerClearing' | 'breakage' | 'migration' }
  | { kind: 'party'; billingPartyId: string };

/** One day's sum of one kind of entry on one ledger account, from the centre's journal. */
export interface JournalMovement {
  /** YYYY-MM-DD in the centre's time zone. */
  day: string;
  entryKind: string;
  currency: string;
  /** The billing party whose store booked the entries; null for the centre's own (online sales, expiry). */
  billingPartyId: string | null;
  partyName: string | null;
  account: JournalAccount;
  /** Sum of the postings: negative is a debit in the centre's books (value leaves the ledger account), positive a credit. */
  amount: bigint;
}

const ENTRY_TEXT: Record<string, string> = {
  issue: 'Gutscheinverkauf', load: 'Gutscheinaufladung', capture: 'Gutscheineinlösung', refund: 'Erstattung',
  expire_card: 'Verfall', cancel_sale: 'Storno Verkauf', import_opening: 'Altbestand',
};

function datevAccount(a: JournalAccount, accounts: DatevAccounts): string {
  return a.kind === 'party' ? accounts.parties[a.billingPartyId] ?? accounts.partyDefault : accounts[a.kind];
}

/**
 * The centre's journal of a period as one booking batch: per day, entry kind and party, each
 * debit paired with the credits it balances against (every entry balances per currency, so each
 * group's debits equal its credits). Moves within the voucher liability (holds) map to one
 * account on both sides and drop out.
 */
export function datevJournalBatch(j: { period: string; firstDay: string; lastDay: string; movements: JournalMovement[]; accounts: DatevAccounts; createdAt: Date }): Buffer {
  const groups = new Map<string, JournalMovement[]>();
  for (const m of j.movements) {
    const key = [m.day, m.entryKind, m.currency, m.billingPartyId ?? ''].join('|');
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const bookings: Booking[] = [];
  for (const group of groups.values()) {
    const first = group[0]!;
    const byAccount = new Map<string, bigint>();
    for (const m of group) {
      const account = datevAccount(m.account, j.accounts);
      byAccount.set(account, (byAccount.get(account) ?? 0n) + m.amount);
    }
    const debits = [...byAccount].filter(([, v]) => v < 0n).map(([account, v]) => ({ account, left: -v }));
    const credits = [...byAccount].filter(([, v]) => v > 0n).map(([account, v]) => ({ account, left: v }));
    const text = `${ENTRY_TEXT[first.entryKind] ?? first.entryKind}${first.partyName ? ` ${first.partyName}` : ''}`;
    for (const debit of debits) {
      for (const credit of credits) {
        const value = debit.left < credit.left ? debit.left : credit.left;
        if (value === 0n) continue;
        bookings.push({ amount: value, side: 'S', currency: first.currency, account: debit.account, contraAccount: credit.account,
          day: first.day, documentNo: documentNumber(j.period), text });
        debit.left -= value;
        credit.left -= value;
      }
    }
    if (debits.some((d) => d.left !== 0n) || credits.some((c) => c.left !== 0n)) {
      throw new Error(`the journal of ${j.period} does not balance on ${first.day} for ${first.entryKind} ${first.currency}`);
    }
  }
  return batch({ period: j.period, firstDay: j.firstDay, lastDay: j.lastDay, description: `Gutscheine Journal ${j.period}`,
    accounts: j.accounts, createdAt: j.createdAt }, bookings);
}
