// Activities of the monthly clearing. Each is idempotent for its period: freezing twice is one
// freeze, computing rewrites the same rows, a statement renders to the same bytes and is e-mailed
// once. Temporal may run any of them again after a timeout or a worker crash.

import type pg from 'pg';
import { refusalsFinal } from './failures.ts';
import type { Config } from '../infra/config.ts';
import { ClearingStore, SCHEME_PARTY } from '../services/clearing.ts';
import type { Mailer } from '../services/mailer.ts';
import type { PiiCipher } from '../domain/pii-crypto.ts';
import { deliverStatement, emailStatement, renderStatement } from './clearing-statements.ts';

export interface ClearingActivityDeps {
  config: Config;
  pool: pg.Pool;
  mailer: Mailer;
  secrets: { downloadKey: Buffer };
  pii: PiiCipher;
}

export interface StatementTarget {
  billingPartyId: string;
  /** The party's net in its first currency (minor units), for the Temporal UI. */
  net: number;
  currency: string;
}

export interface ComputedPeriod {
  computeCount: number;
  parties: StatementTarget[];
}

export interface ClearingActivities {
  freezePeriod(period: string): Promise<{ startsAt: string; endsAt: string }>;
  computePositions(period: string): Promise<ComputedPeriod>;
  renderStatement(period: string, billingPartyId: string): Promise<{ pdfSha256: string }>;
  emailStatement(period: string, billingPartyId: string): Promise<{ sent: boolean; error?: string }>;
  /** renderStatement then emailStatement in one activity: a retry renders the same bytes again, and mails once. */
  deliverStatement(period: string, billingPartyId: string): Promise<{ pdfSha256: string; sent: boolean; error?: string }>;
  awaitApproval(period: string): Promise<void>;
  reopenForRerun(period: string): Promise<void>;
  closePeriod(period: string, approvedBy: string): Promise<{ closedAt: string }>;
}

export { STATEMENT_DOWNLOAD, STATEMENT_LINK_TTL_SECONDS, statementLinkSubject, statementPath } from '../domain/statement-links.ts';

export function createClearingActivities(deps: ClearingActivityDeps): ClearingActivities {
  const store = new ClearingStore(deps.pool, deps.config.clearingTimeZone);

  return {
    freezePeriod: (period) => refusalsFinal(async () => {
      await store.open(period);
      const frozen = await store.freeze(period);
      return { startsAt: frozen.startsAt.toISOString(), endsAt: frozen.endsAt.toISOString() };
    }),

    computePositions: (period) => refusalsFinal(async () => {
      const computed = await store.compute(period);
      const positions = await store.positions(period);
      const parties = new Map<string, StatementTarget>();
      for (const p of positions) {
        if (p.partyKey === SCHEME_PARTY || parties.has(p.partyKey)) continue;
        parties.set(p.partyKey, { billingPartyId: p.partyKey, net: Number(p.net), currency: p.currency });
      }
      return {
        computeCount: computed.computeCount,
        parties: [...parties.values()].sort((a, b) => (a.billingPartyId < b.billingPartyId ? -1 : 1)),
      };
    }),

    renderStatement: (period, billingPartyId) => refusalsFinal(() => renderStatement(deps, store, period, billingPartyId)),

    emailStatement: (period, billingPartyId) => refusalsFinal(() => emailStatement(deps, store, period, billingPartyId)),

    deliverStatement: (period, billingPartyId) => refusalsFinal(() => deliverStatement(deps, store, period, billingPartyId)),

    awaitApproval: (period) => refusalsFinal(async () => {
      await store.setStatus(period, 'running', 'awaiting_approval');
    }),

    reopenForRerun: (period) => refusalsFinal(async () => {
      await store.setStatus(period, 'awaiting_approval', 'running');
    }),

    closePeriod: (period, approvedBy) => refusalsFinal(async () => {
      const closed = await store.setStatus(period, 'awaiting_approval', 'closed', approvedBy);
      return { closedAt: closed.closedAt!.toISOString() };
    }),
  };
}
