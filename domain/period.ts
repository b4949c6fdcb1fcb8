// Clearing periods are calendar months, written YYYY-MM. Their exact bounds (midnight in the
// centre's time zone) are computed by the database, which owns the time zone rules.

import { dateTimeFormat } from './intl-formats.ts';

/**
 * From 2000 on: the scheme has no earlier history, and PostgreSQL has no year 0. The database's
 * CHECK on clearing_periods and clearing_open_period() test the same pattern
 * (test/integration/period-format.test.ts), and the OpenAPI document publishes it.
 */
export const PERIOD_PATTERN = '^2[0-9]{3}-(0[1-9]|1[0-2])$';
const PERIOD = new RegExp(PERIOD_PATTERN);

export function isPeriod(value: string): boolean {
  return PERIOD.test(value);
}

/** The month before the one containing `date`, by UTC calendar. */
export function previousPeriod(date: Date): string {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth(); // 0-based: this is already "previous" in 1-based terms
  return month === 0 ? `${year - 1}-12` : `${year}-${String(month).padStart(2, '0')}`;
}

/** The month `date` falls in, in `timeZone` (the centre's): the open period at that moment. */
export function periodIn(date: Date, timeZone: string): string {
  const parts = dateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).formatToParts(date);
  return `${parts.find((p) => p.type === 'year')!.value}-${parts.find((p) => p.type === 'month')!.value}`;
}

/**
 * The month before the one `date` falls in, in `timeZone` (the centre's): what the monthly
 * schedule clears. Pure and deterministic, so workflow code may call it.
 */
export function previousPeriodIn(date: Date, timeZone: string): string {
  const parts = dateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).formatToParts(date);
  const year = Number(parts.find((p) => p.type === 'year')!.value);
  const month = Number(parts.find((p) => p.type === 'month')!.value);
  return month === 1 ? `${year - 1}-12` : `${year}-${String(month - 1).padStart(2, '0')}`;
}

export function clearingWorkflowId(period: string): string {
  return `clearing-${period}`;
}

export function statementWorkflowId(period: string, billingPartyId: string): string {
  return `clearing-${period}-${billingPartyId}`;
}
