/**
 * Prometheus metrics (issue 6): `/metrics` on the portal and on `orgadmin worker --metrics-port`, served only with
 * METRICS_TOKEN and only to a scraper sending it; counters of runs, steps and Auth0 calls by bucket and status from
 * the process that executed them, gauges of unfinished runs, queue, deliveries and the shared rate budget from the
 * database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useAuth0Local } from '../helpers/auth0-local.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestPortal, type TestPortal } from '../helpers/portal.js';
import { untilRunsFinished, workerProcesses } from '../helpers/worker-process.js';

const TOKEN = 'metrics-token-0123456789';
const local = useAuth0Local();
let database: TestDatabase;
let portal: TestPortal;
const processes = workerProcesses(() => ({
  ORGADMIN_HOME: portal.home,
  DATABASE_URL: database.url,
  ORGADMIN_SECRET_KEY: 'test-secret-key',
  METRICS_TOKEN: TOKEN,
}));

beforeAll(async () => {
  database = await createTestDatabase();
  portal = await startTestPortal(local, database, { env: { METRICS_TOKEN: TOKEN } });
});
afterAll(async () => {
  await processes.killAll();
  await portal?.close();
  await database?.drop();
});

const scrape = (url: string, token?: string) =>
  fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  it('are refused without the token and count what the portal process executed', async () => {
    expect((await scrape(`${portal.url}/metrics`)).status).toBe(401);
    expect((await scrape(`${portal.url}/metrics`, 'wrong-token-0123456789')).status).toBe(401);

    const { run } = await portal.portal.service.create({ name: 'metered' }, 'test');
    const [finished] = await untilRunsFinished(portal.orgadmin.store, [run.id], 30_000);
    expect(finished!.state).toBe('succeeded');

    const response = await scrape(`${portal.url}/metrics`, TOKEN);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const body = await response.text();
    expect(sample(body, 'orgadmin_runs_finished_total{kind="apply",state="succeeded"}')).toBe(1);
    expect(sample(body, 'orgadmin_steps_total{kind="create-organization",outcome="done"}')).toBe(1);
    expect(sample(body, 'orgadmin_step_duration_seconds_count{kind="create-organization"}')).toBe(1);
    expect(sample(body, 'orgadmin_auth0_calls_total{bucket="organizations:write",status="201"}')).toBe(1);
    expect(sample(body, 'orgadmin_runs_unfinished{state="running"}')).toBe(0);
    expect(sample(body, 'orgadmin_run_queue_jobs')).toBe(0);
    expect(sample(body, 'orgadmin_event_deliveries_pending')).toBe(0);
    // The shared budget's buckets this tenant used (enterprise profile: organization writes have a bucket).
    expect(body).toMatch(/orgadmin_rate_budget_tokens\{tenant="[^"]+",bucket="organizations:write"\} \d/);
    expect(body).toContain('orgadmin_process_resident_memory_bytes');
  });

  it('are served by a worker on its own port with the same token', { timeout: 60_000 }, async () => {
    const worker = processes.start(['--metrics-port', '0']);
    await worker.waitFor('ready');
    const url = /metrics at (http:\/\/\S+\/metrics)/.exec(worker.stderr())?.[1];
    expect(url, worker.stderr()).toBeDefined();
    expect((await scrape(url!)).status).toBe(401);
    const body = await (await scrape(url!, TOKEN)).text();
    expect(sample(body, 'orgadmin_runs_unfinished{state="pending"}')).toBe(0);
    expect((await processes.stop(worker)).code).toBe(0);
  });

  it('refuse a worker metrics port without a token', async () => {
    const worker = processes.start(['--metrics-port', '0'], { METRICS_TOKEN: '' });
    const exited = await worker.exited;
    expect(exited.code).toBe(1);
    expect(worker.stderr()).toContain('--metrics-port needs METRICS_TOKEN');
  });
});
