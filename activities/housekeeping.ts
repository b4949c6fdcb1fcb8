import type pg from 'pg';

export interface HousekeepingActivities {
  purgeIdempotencyRecords(retentionHours: number, batchSize: number): Promise<number>;
}

export function createHousekeepingActivities(deps: { pool: pg.Pool }): HousekeepingActivities {
  return {
    async purgeIdempotencyRecords(retentionHours, batchSize) {
      const result = await deps.pool.query(
        `DELETE FROM idempotency_records WHERE ctid IN (
           SELECT ctid FROM idempotency_records WHERE created_at < now() - make_interval(hours => $1) LIMIT $2)`,
        [retentionHours, batchSize]);
      return result.rowCount ?? 0;
    },
  };
}
