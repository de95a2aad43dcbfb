/**
 * Batched URL writes on a shared application: a run whose URL change can wait for other runs' changes to the same
 * application suspends (its worker slot is freed) and the run that writes last applies them all and wakes the
 * others — so many organizations cost about one write. A run alone never waits; a run that never comes holds the
 * others up at most the batching wait; a run cancelled while waiting takes its change back (no later write applies
 * it); and a URL step repeated after its write landed keeps what it added, so its compensation takes it off.
 *
 * In-process workers on the pg-boss queue, against auth0-local over HTTPS with the official SDK and a real PostgreSQL.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ManagementClient } from 'auth0';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { createSdkTenant } from '../../src/adapters/auth0/sdk-tenant.js';
import { createJobQueue } from '../../src/adapters/postgres/job-queue.js';
import { createPostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { loadSecretBox } from '../../src/adapters/postgres/secret-box.js';
import type { OrgSpecInput } from '../../src/domain/org-spec.js';
import type { Step } from '../../src/domain/plan.js';
import { validateSpecs } from '../../src/domain/spec-document.js';
import {
  executeRun,
  RunSuspendedError,
  type EngineDeps,
  type Failpoint,
} from '../../src/engine/run-executor.js';
import { startWorker, type RunJob, type RunQueue, type Worker } from '../../src/engine/worker.js';
import type { RunRecord, Store } from '../../src/ports/store.js';
import {
  managementClient,
  requestLogLength,
  startTestAuth0Local,
  type TestAuth0Local,
} from '../helpers/auth0-local.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { untilRunsFinished } from '../helpers/worker-process.js';

let local: TestAuth0Local;
let database: TestDatabase;
let store: Store;
let queue: RunQueue;
let api: ManagementClient;
let engine: EngineDeps;
const workers: Worker[] = [];

beforeAll(async () => {
  local = await startTestAuth0Local();
  database = await createTestDatabase();
  const secrets = loadSecretBox({ home: mkdtempSync(join(tmpdir(), 'orgadmin-secrets-')) });
  store = createPostgresStore(database.pool, { secrets });
  const tenant = createSdkTenant({
    domain: local.domain,
    clientId: local.clientId,
    clientSecret: local.clientSecret,
  });
  engine = { store, tenantFor: () => tenant, retry: { maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 50 } };
  queue = await createJobQueue({
    connectionString: database.url,
    pollIntervalMs: 500,
    retryDelaySeconds: 1,
    retryBackoff: false,
  });
  api = managementClient(local);
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop({ timeoutMs: 5000 })));
});
afterAll(async () => {
  await queue?.close({ timeoutMs: 1000 });
  await local?.close();
  await database?.drop();
});

const spec = (input: OrgSpecInput) => validateSpecs([input])[0]!;

function createRun(input: OrgSpecInput): Promise<RunRecord> {
  return store.createRun({
    orgName: input.name,
    tenant: local.domain,
    kind: 'apply',
    desired: spec(input),
    requestedBy: 'test',
  });
}

const withUrl = (name: string, client: string): OrgSpecInput => ({
  name,
  applications: [{ client, callbacks: [`https://${name}.example.com/callback`] }],
});

/**
 * An in-process worker whose URL changes may wait `maxWaitMs`: `suspended` lists the runs that waited, and
 * `suspension(runId)` resolves when that run has.
 */
async function worker(options: { concurrency: number; maxWaitMs: number }) {
  const suspended: string[] = [];
  const waiters = new Map<string, () => void>();
  const started = await startWorker({
    queue,
    engine,
    concurrency: options.concurrency,
    urlBatchMaxWaitMs: options.maxWaitMs,
    resumeUnfinished: false,
    onAttempt: (job: RunJob, outcome) => {
      if (!('error' in outcome) || !(outcome.error instanceof RunSuspendedError)) return;
      suspended.push(job.runId);
      waiters.get(job.runId)?.();
    },
  });
  workers.push(started);
  const suspension = (runId: string): Promise<void> =>
    suspended.includes(runId) ? Promise.resolve() : new Promise((resolve) => waiters.set(runId, resolve));
  return { suspended, suspension };
}

async function newApplication(name: string): Promise<string> {
  const created = await api.clients.create({ name, app_type: 'regular_web', callbacks: [] });
  return created.client_id!;
}

const callbacksOf = async (clientId: string): Promise<string[]> =>
  (await api.clients.get(clientId)).callbacks ?? [];

/** PATCHes of one application in the request log since `from`. */
const patchesOf = (clientId: string, from: number): number =>
  local.requestLog
    .list({ tenant: local.name })
    .slice(from)
    .filter((entry) => entry.method === 'PATCH' && entry.path === `/api/v2/clients/${clientId}`).length;

describe('URL changes batched across runs', () => {
  it(
    'writes 20 organizations’ URLs in one or two writes, with 4 worker slots and none lost',
    { timeout: 45_000 },
    async () => {
      const clientId = await newApplication('Batched');
      const from = requestLogLength(local);
      const runs = [];
      for (let i = 0; i < 20; i++) runs.push(await createRun(withUrl(`batch-${i}`, 'Batched')));
      // A long wait: every run must finish well before it, so the write came from the last run, not a timer —
      // and with 4 slots for 20 runs, waiting runs must free theirs.
      const { suspended } = await worker({ concurrency: 4, maxWaitMs: 120_000 });
      for (const run of runs) await queue.enqueue(run.id);
      const finished = await untilRunsFinished(
        store,
        runs.map((run) => run.id),
        40_000,
      );
      expect(finished.map((run) => run.state)).toEqual(runs.map(() => 'succeeded'));
      expect(new Set(suspended).size).toBeGreaterThanOrEqual(15);
      const callbacks = await callbacksOf(clientId);
      for (let i = 0; i < 20; i++) expect(callbacks).toContain(`https://batch-${i}.example.com/callback`);
      expect(patchesOf(clientId, from)).toBeLessThanOrEqual(2);
      // Each run's journal still says what it added (its compensation would take off exactly that).
      for (const run of runs) {
        const step = (await store.steps(run.id)).find((record) => record.step.kind === 'add-client-urls');
        expect(step?.result?.addedUrls?.callbacks).toEqual([`https://${run.orgName}.example.com/callback`]);
      }
    },
  );

  it('does not make an organization alone wait', { timeout: 20_000 }, async () => {
    const clientId = await newApplication('Alone');
    const { suspended } = await worker({ concurrency: 2, maxWaitMs: 120_000 });
    const run = await createRun(withUrl('alone', 'Alone'));
    await queue.enqueue(run.id);
    const [finished] = await untilRunsFinished(store, [run.id], 15_000);
    expect(finished?.state).toBe('succeeded');
    expect(suspended).toEqual([]);
    expect(await callbacksOf(clientId)).toEqual(['https://alone.example.com/callback']);
  });

  it('waits at most the batching wait for a run that does not come', { timeout: 30_000 }, async () => {
    const clientId = await newApplication('Stalled');
    // A run that will change the application but is never executed (its job is lost, say).
    await createRun(withUrl('stalled-never', 'Stalled'));
    const { suspended } = await worker({ concurrency: 2, maxWaitMs: 2000 });
    const run = await createRun(withUrl('stalled-waiter', 'Stalled'));
    const started = Date.now();
    await queue.enqueue(run.id);
    const [finished] = await untilRunsFinished(store, [run.id], 25_000);
    expect(finished?.state).toBe('succeeded');
    expect(suspended).toContain(run.id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(await callbacksOf(clientId)).toEqual(['https://stalled-waiter.example.com/callback']);
  });

  it(
    'takes back the change of a run cancelled while it waits: no later write applies it',
    { timeout: 30_000 },
    async () => {
      const clientId = await newApplication('Cancelled');
      const coming = await createRun(withUrl('cancel-later', 'Cancelled'));
      const { suspension } = await worker({ concurrency: 2, maxWaitMs: 120_000 });
      const waiter = await createRun(withUrl('cancel-waiter', 'Cancelled'));
      await queue.enqueue(waiter.id);
      await suspension(waiter.id);
      expect(await store.clientUrlIntentState(local.domain, 'Cancelled', 'cancel-waiter', waiter.id)).toEqual(
        {
          state: 'pending',
        },
      );

      // As the organization service cancels: the request, then the run taken up at once.
      await store.requestCancel(waiter.id, 'operator@example.com');
      await queue.enqueue(waiter.id);
      const [cancelled] = await untilRunsFinished(store, [waiter.id], 10_000);
      expect(cancelled?.state).toBe('failed');
      expect(cancelled?.error).toContain('cancelled by operator@example.com');
      expect(await store.clientUrlIntentState(local.domain, 'Cancelled', 'cancel-waiter', waiter.id)).toEqual(
        {
          state: 'none',
        },
      );

      // The next write to the application carries only what is still wanted.
      await queue.enqueue(coming.id);
      const [later] = await untilRunsFinished(store, [coming.id], 15_000);
      expect(later?.state).toBe('succeeded');
      expect(await callbacksOf(clientId)).toEqual(['https://cancel-later.example.com/callback']);
    },
  );
});

describe('a URL step repeated after its write landed', () => {
  it('keeps what the step added, so the compensation takes it off', { timeout: 20_000 }, async () => {
    const clientId = await newApplication('Repeated');
    const before = 'https://repeat.example.com/already-there';
    await api.clients.update(clientId, { callbacks: [before] });
    const run = await createRun({
      name: 'repeat',
      connections: [{ shared: 'Username-Password-Authentication' }],
      applications: [{ client: 'Repeated', callbacks: [before, 'https://repeat.example.com/callback'] }],
      admin: { email: 'admin@repeat.example.com', via: 'password-ticket' },
    });
    // A crash right after the write, before the step's result was recorded.
    const crash = (at: Failpoint, step: Step): void => {
      if (at === 'after-call' && step.kind === 'add-client-urls') throw new Error('crash');
    };
    await expect(executeRun({ ...engine, __test__failpoint: crash }, run.id)).rejects.toThrow('crash');
    expect(await callbacksOf(clientId)).toContain('https://repeat.example.com/callback');

    // Resumed: the step is in doubt and is done again; then Auth0 refuses the administrator and the run compensates.
    const refusal = local.faults.add({ method: 'POST', path: '^/api/v2/users$', status: 400 });
    const finished = await executeRun(engine, run.id).finally(() => local.faults.remove(refusal.id));
    expect(finished.state).toBe('failed');
    const step = (await store.steps(run.id)).find((record) => record.step.kind === 'add-client-urls');
    expect(step?.result?.addedUrls?.callbacks).toEqual(['https://repeat.example.com/callback']);
    expect(await callbacksOf(clientId)).toEqual([before]);
  });
});
