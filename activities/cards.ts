// Card lifecycle activities: expiry.

import { DomainError } from '../domain/errors.ts';
import type pg from 'pg';
import type { Ledger } from '../services/ledger.ts';

export interface CardActivities {
  /** Expires up to `batchSize` cards past their date; returns how many and the breakage booked. */
  expireDueCards(batchSize: number): Promise<{ expired: number; breakage: number; waiting: number }>;
}

export function createCardActivities(deps: { pool: pg.Pool; ledger: Ledger }): CardActivities {
  return {
    async expireDueCards(batchSize) {
      const { rows } = await deps.pool.query<{ id: string }>(
        // Blocked cards expire too, and an expired card that has value on it again gives it up:
        // any other value past expiry would stay on the card, neither spendable nor breakage.
        // A deactivated card is closed already and holds nothing.
        `SELECT id FROM cards
          WHERE held = 0 AND ((status NOT IN ('expired', 'deactivated') AND expires_at <= now()) OR (status = 'expired' AND available > 0))
          ORDER BY expires_at LIMIT $1`, [batchSize]);
      let expired = 0;
      let breakage = 0;
      let waiting = 0;
      for (const { id } of rows) {
        try {
          const card = await deps.ledger.expireCard(id);
          if (card.changed) {
            expired++;
            breakage += Number(card.breakage);
          }
        } catch (err) {
          // A hold placed since the query: the card's turn comes on a later run.
          if (err instanceof DomainError && err.code === 'card_has_open_holds') waiting++;
          else throw err;
        }
      }
      return { expired, breakage, waiting };
    },
  };
}
