// Clearing periods are calendar months, written YYYY-MM. Their exact bounds (midnight in the
// centre's time zone) are computed by the database, which owns the time zone rules.

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isPeriod(value: string): boolean {
  return PERIOD.test(value);
}

/** The month before the one containing `date`, by UTC calendar. */
export function previousPeriod(date: Date): string {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth(); // 0-based: this is already "previous" in 1-based terms
  return month === 0 ? `${year - 1}-12` : `${year}-${String(month).padStart(2, '0')}`;
}

export function clearingWorkflowId(period: string): string {
  return `clearing-${period}`;
}

export function statementWorkflowId(period: string, billingPartyId: string): string {
  return `clearing-${period}-${billingPartyId}`;
}
