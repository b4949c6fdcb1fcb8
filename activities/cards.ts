// Card lifecycle activities: expiry.

import { DomainError } from '../domain/errors.ts';
import type pg from 'pg';
import type { Ledger } from '../services/ledger.ts';
import { cardsDueForExpiry } from '../stores/cards.ts';

export interface CardActivities {
  /** Expires up to `batchSize` cards past their date; returns how many and the breakage booked. */
  expireDueCards(batchSize: number): Promise<{ expired: number; breakage: number; waiting: number }>;
}

export function createCardActivities(deps: { pool: pg.Pool; ledger: Ledger }): CardActivities {
  return {
    async expireDueCards(batchSize) {
      const due = await cardsDueForExpiry(deps.pool, batchSize);
      let expired = 0;
      let breakage = 0;
      let waiting = 0;
      for (const id of due) {
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
