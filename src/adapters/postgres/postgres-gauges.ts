/**
 * What every orgadmin process would report the same way, read from the database when metrics are scraped: unfinished
 * runs (through the partial index on unfinished runs), queued run jobs, pending event deliveries, disabled hooks, and
 * the shared rate budget's buckets.
 */
import type pg from 'pg';

import type { Gauges } from '../../ports/metrics.js';
import { JOB_QUEUE_SCHEMA, RUN_QUEUE_NAME } from './job-queue.js';

export async function readGauges(pool: pg.Pool): Promise<Gauges> {
  const [runs, jobs, deliveries, hooks, buckets] = await Promise.all([
    pool.query<{ state: keyof Gauges['unfinishedRuns']; count: number }>(
      `SELECT state, count(*)::int AS count FROM runs WHERE state IN ('pending', 'running', 'compensating')
       GROUP BY state`,
    ),
    pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM ${JOB_QUEUE_SCHEMA}.job WHERE name = $1 AND state IN ('created', 'retry')`,
      [RUN_QUEUE_NAME],
    ),
    pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM event_deliveries WHERE state = 'pending'`,
    ),
    pool.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM app_hooks WHERE disabled_at IS NOT NULL`,
    ),
    pool.query<{ key: string; tokens: number }>('SELECT key, tokens FROM rate_buckets ORDER BY key'),
  ]);
  const unfinishedRuns = { pending: 0, running: 0, compensating: 0 };
  for (const row of runs.rows) unfinishedRuns[row.state] = row.count;
  return {
    unfinishedRuns,
    queuedJobs: jobs.rows[0]?.count ?? 0,
    pendingDeliveries: deliveries.rows[0]?.count ?? 0,
    disabledHooks: hooks.rows[0]?.count ?? 0,
    // Keys are `<tenant>|<profile>|<bucket>` (rate-budget.ts).
    budget: buckets.rows.map((row) => {
      const [tenant = '', , bucket = ''] = row.key.split('|');
      return { tenant, bucket, tokens: Math.max(0, row.tokens) };
    }),
  };
}
