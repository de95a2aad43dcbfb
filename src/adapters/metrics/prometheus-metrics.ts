/**
 * The `Metrics` port on prom-client, with the database gauges collected at scrape time, in a registry of its own
 * (never the global one, so several instances in one process stay apart). Served as `/metrics` by the portal and by
 * `orgadmin worker --metrics-port`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { Gauges, Metrics } from '../../ports/metrics.js';

export interface PrometheusMetrics extends Metrics {
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

export function createPrometheusMetrics(options: { gauges: () => Promise<Gauges> }): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'orgadmin_' });
  const steps = new Counter({
    name: 'orgadmin_steps_total',
    help: 'Run steps finished, by kind and outcome (failed = for good; transient failures are retried).',
    labelNames: ['kind', 'outcome'],
    registers: [registry],
  });
  const stepSeconds = new Histogram({
    name: 'orgadmin_step_duration_seconds',
    help: 'Time a finished step took, retries included, by kind.',
    labelNames: ['kind'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const runs = new Counter({
    name: 'orgadmin_runs_finished_total',
    help: 'Runs finished by this process, by kind and state.',
    labelNames: ['kind', 'state'],
    registers: [registry],
  });
  const calls = new Counter({
    name: 'orgadmin_auth0_calls_total',
    help: 'Management API calls by rate-limit bucket and HTTP status ("none": no answer).',
    labelNames: ['bucket', 'status'],
    registers: [registry],
  });
  // Read from the database once per scrape, for all the gauges below.
  let reading: Promise<Gauges> | undefined;
  const read = (): Promise<Gauges> => (reading ??= options.gauges().finally(() => (reading = undefined)));
  new Gauge({
    name: 'orgadmin_runs_unfinished',
    help: 'Runs not finished, by state (every process).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const { unfinishedRuns } = await read();
      for (const [state, count] of Object.entries(unfinishedRuns)) this.set({ state }, count);
    },
  });
  new Gauge({
    name: 'orgadmin_run_queue_jobs',
    help: 'Run jobs waiting for a worker.',
    registers: [registry],
    async collect() {
      this.set((await read()).queuedJobs);
    },
  });
  new Gauge({
    name: 'orgadmin_event_deliveries_pending',
    help: 'Lifecycle-event deliveries not yet accepted by their hook.',
    registers: [registry],
    async collect() {
      this.set((await read()).pendingDeliveries);
    },
  });
  new Gauge({
    name: 'orgadmin_hooks_disabled',
    help: 'Hooks disabled after failed event deliveries.',
    registers: [registry],
    async collect() {
      this.set((await read()).disabledHooks);
    },
  });
  new Gauge({
    name: 'orgadmin_rate_budget_tokens',
    help: 'Tokens in the shared rate budget per tenant and bucket, as last written.',
    labelNames: ['tenant', 'bucket'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { tenant, bucket, tokens } of (await read()).budget) this.set({ tenant, bucket }, tokens);
    },
  });

  return {
    stepFinished(kind, outcome, seconds) {
      steps.inc({ kind, outcome });
      stepSeconds.observe({ kind }, seconds);
    },
    runFinished(kind, state) {
      runs.inc({ kind, state });
    },
    auth0Call(bucket, status) {
      calls.inc({ bucket, status: status === undefined ? 'none' : String(status) });
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
