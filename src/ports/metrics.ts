/**
 * What the engine and the Auth0 adapter report for monitoring (issue 6). Counters are per process (Prometheus adds
 * them up across instances); what is the same for every process (unfinished runs, queue depth, budget) is read
 * from the database at scrape time by the metrics adapter.
 */
export interface Metrics {
  /** A step finished (done or failed for good), with the time its successful or last attempt took. */
  stepFinished(kind: string, outcome: 'done' | 'failed', seconds: number): void;
  runFinished(kind: 'apply' | 'remove', state: 'succeeded' | 'failed'): void;
  /** One Management API call, by the rate-limit bucket it counts against; status undefined = no answer. */
  auth0Call(bucket: string, status: number | undefined): void;
}

/** What every process would report alike, read from the database at scrape time. */
export interface Gauges {
  unfinishedRuns: { pending: number; running: number; compensating: number };
  /** Run jobs waiting for a worker (created or waiting to be retried). */
  queuedJobs: number;
  pendingDeliveries: number;
  disabledHooks: number;
  /** Tokens per bucket, as last written (refill since then not added). */
  budget: { tenant: string; bucket: string; tokens: number }[];
}
