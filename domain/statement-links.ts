// Where a billing party's statement is downloaded and how its signed link is scoped: the e-mail
// (activities/clearing.ts), the portal and the download route (api/) build the same links.

/** How long the CSV link in a statement e-mail works. */
export const STATEMENT_LINK_TTL_SECONDS = 90 * 24 * 3600;
export const STATEMENT_DOWNLOAD = 'statement-download';

export function statementPath(period: string, billingPartyId: string, format: 'pdf' | 'csv'): string {
  return `/v1/clearing/periods/${period}/statements/${billingPartyId}.${format}`;
}

export function statementLinkSubject(period: string, billingPartyId: string, format: 'pdf' | 'csv'): string {
  return `${period}/${billingPartyId}.${format}`;
}
