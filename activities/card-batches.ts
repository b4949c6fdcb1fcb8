// Scratch-card batch activities: generating the cards chunk by chunk (heartbeating progress, so a
// retried attempt resumes where the last one stopped), and closing a batch nobody approved.

import { heartbeat } from '@temporalio/activity';
import type pg from 'pg';
import { CardBatches, type BatchStatus } from '../services/card-batches.ts';

export interface CardBatchActivities {
  generateBatchCards(batchId: string): Promise<{ generated: number }>;
  expireBatch(batchId: string): Promise<BatchStatus>;
  batchStatus(batchId: string): Promise<BatchStatus>;
}

export function createCardBatchActivities(deps: { pool: pg.Pool; secrets: { hashKey: Buffer; deriveKey: Buffer }; activationCodeDigits: number }): CardBatchActivities {
  const batches = new CardBatches(deps.pool, deps.secrets);
  return {
    async generateBatchCards(batchId) {
      for (;;) {
        const { generated, count } = await batches.generateNextChunk(batchId, deps.activationCodeDigits);
        heartbeat({ generated });
        if (generated >= count) {
          await batches.markGenerated(batchId);
          return { generated };
        }
      }
    },
    expireBatch: (batchId) => batches.expire(batchId),
    async batchStatus(batchId) {
      const batch = await batches.get(batchId);
      return batch?.status ?? 'cancelled';
    },
  };
}
