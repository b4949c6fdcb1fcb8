// A party's clearing statement as a DATEV booking batch ("Buchungsstapel", EXTF format version
// 700, category 21): the import German accountants' software takes. One header line (format,
// consultant and client, fiscal year, period, description), the column names, then one booking
// per statement line: amount without sign, Soll/Haben flag, account, contra account, document
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

export function datevBookingBatch(b: DatevBatchInput): Buffer {
  const year = Number(b.period.slice(0, 4));
  const month = Number(b.period.slice(5, 7));
  const fiscalYear = month >= b.accounts.fiscalYearStartMonth ? year : year - 1;
  const fiscalStart = `${fiscalYear}${String(b.accounts.fiscalYearStartMonth).padStart(2, '0')}01`;
  const stamp = b.createdAt.toISOString().replace(/[-:TZ.]/g, '').slice(0, 17);
  const header = [
    quoted('EXTF'), '700', '21', quoted('Buchungsstapel'), '13', stamp, '', quoted('VE'), quoted(''), quoted(''),
    b.accounts.consultant, b.accounts.client, fiscalStart, String(b.accounts.voucherClearing.length),
    compactDay(b.firstDay), compactDay(b.lastDay), quoted(`Gutscheine ${b.period} ${b.party.name}`.slice(0, 30)), quoted(''),
    '1', '0', '0', quoted('EUR'), '', quoted(''), '', '', '', quoted(''), '', quoted(''), quoted(''),
  ];
  const partyAccount = b.accounts.parties[b.party.id] ?? b.accounts.partyDefault;
  const documentDate = `${b.lastDay.slice(8, 10)}${b.lastDay.slice(5, 7)}`;
  const documentNo = `VE${b.period.replace('-', '')}`;
  const lines: string[] = [header.join(';'), DATEV_COLUMNS.map(quoted).join(';')];
  const booking = (value: bigint, side: 'S' | 'H', currency: string, text: string) => {
    if (value === 0n) return;
    lines.push([amount(value), quoted(side), quoted(currency), '', '', '', partyAccount, b.accounts.voucherClearing, '',
      documentDate, quoted(documentNo), quoted(''), '', quoted(`${text} ${b.period}`.slice(0, 60))].join(';'));
  };
  // From the centre's books, on the party's personal account: what its tills sold it holds for
  // the scheme (debit), what it accepted the centre owes it (credit), refunds reduce that (debit).
  for (const p of b.positions) {
    booking(p.salesAmount, 'S', p.currency, 'Gutscheinverkäufe');
    booking(p.redemptionsAmount, 'H', p.currency, 'Gutscheineinlösungen');
    booking(p.refundsAmount, 'S', p.currency, 'Erstattungen');
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1');
}
