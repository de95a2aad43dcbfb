/**
 * `SharedBuckets` on PostgreSQL (schema: `migrations/0007_shared_rate_budget.sql`): each token taken is one function
 * call that refills, checks and takes under the bucket row's lock, on the database clock, so every process of an
 * installation draws from the same buckets.
 */
import type pg from 'pg';

import type { SharedBuckets } from '../../ports/rate-buckets.js';

export function createSharedRateBuckets(pool: pg.Pool): SharedBuckets {
  return {
    async take(key, bucket) {
      const { rows } = await pool.query<{ taken: boolean; wait_ms: number }>(
        'SELECT taken, wait_ms FROM orgadmin_take_token($1, $2, $3)',
        [key, bucket.burst, bucket.perMs],
      );
      const row = rows[0]!;
      return row.taken ? 0 : Math.max(1, Math.ceil(row.wait_ms));
    },
    async lower(key, bucket, atMost, closeMs) {
      await pool.query('SELECT orgadmin_lower_bucket($1, $2, $3, $4, $5)', [
        key,
        bucket.burst,
        bucket.perMs,
        atMost,
        closeMs,
      ]);
    },
  };
}
