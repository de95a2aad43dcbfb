/**
 * Workers as real processes (`orgadmin worker`) over the pg-boss run queue, against auth0-local and a test database:
 * the queue keeps one open job per run, gives a job whose taker went silent to another once its lease runs out
 * (a live taker keeps it by heartbeat), and keeps a run to one executor; `org apply` reports runs whichever process
 * executes them; three workers share 30 runs on one shared client without losing a callback URL; and a worker
 * killed with SIGKILL at any failpoint of any kind of step leaves a run that the next worker brings to `succeeded`
 * with no duplicate and nothing untagged in Auth0.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { ManagementClient } from 'auth0';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import PgBoss from 'pg-boss';

import { createJobQueue, JOB_QUEUE_SCHEMA, RUN_QUEUE_NAME } from '../../src/adapters/postgres/job-queue.js';
import { createPostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { loadSecretBox } from '../../src/adapters/postgres/secret-box.js';
import type { OrgSpecInput } from '../../src/domain/org-spec.js';
import { validateSpecs } from '../../src/domain/spec-document.js';
import type { Failpoint } from '../../src/engine/run-executor.js';
import type { RunJob, RunQueue } from '../../src/engine/worker.js';
import type { RunRecord, Store } from '../../src/ports/store.js';
import {
  managementClient,
  orgadminHomeFor,
  startTestAuth0Local,
  type TestAuth0Local,
} from '../helpers/auth0-local.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { untilRunsFinished, workerProcesses, type WorkerProcess } from '../helpers/worker-process.js';

const SECRET_KEY = 'test-secret-key';
/**
 * Jobs the test enqueues: a 2 s lease, retried at once when it runs out; workers poll every 0.5 s and look for
 * expired leases every second. So a crashed worker's job comes back within about 3 s.
 */
const FAST = {
  expireInSeconds: 2,
  retryDelaySeconds: 0,
  retryBackoff: false,
  pollIntervalMs: 500,
  maintenanceIntervalSeconds: 1,
};
const FAST_WORKER_ARGS = ['--poll', '0.5', '--maintenance', '1', '--lease', '2', '--retry-delay', '1'];

let local: TestAuth0Local;
let database: TestDatabase;
let home: string;
let store: Store;
let queue: RunQueue;
let api: ManagementClient;

beforeAll(async () => {
  local = await startTestAuth0Local();
  database = await createTestDatabase();
  home = orgadminHomeFor(local, 'orgadmin-worker-');
  store = createPostgresStore(database.pool, { secrets: loadSecretBox({ home, key: SECRET_KEY }) });
  // The test's own handle on the queue: it enqueues (jobs carry this short lease) and takes no part in maintenance.
  queue = await createJobQueue({ connectionString: database.url, ...FAST, supervise: false });
  api = managementClient(local);
  await api.clients.create({
    name: 'Portal',
    app_type: 'regular_web',
    initiate_login_uri: 'https://portal.example.com/login',
    callbacks: ['https://portal.example.com/callback'],
  });
});
const processes = workerProcesses(() => ({
  ORGADMIN_HOME: home,
  DATABASE_URL: database.url,
  ORGADMIN_SECRET_KEY: SECRET_KEY,
}));
const startWorkerProcess = (args: string[], env?: Record<string, string>) => processes.start(args, env);
const stopWorker = (worker: WorkerProcess) => processes.stop(worker);
const killWorkers = () => processes.killAll();
afterEach(killWorkers);
afterAll(async () => {
  await killWorkers();
  await queue?.close({ timeoutMs: 1000 });
  await local?.close();
  await database?.drop();
});

const spec = (input: OrgSpecInput) => validateSpecs([input])[0]!;

async function createRun(input: OrgSpecInput): Promise<RunRecord> {
  return store.createRun({
    orgName: input.name,
    tenant: local.domain,
    kind: 'apply',
    desired: spec(input),
    requestedBy: 'test',
  });
}

const untilFinished = (runIds: string[], deadlineMs: number): Promise<RunRecord[]> =>
  untilRunsFinished(store, runIds, deadlineMs);

const portalCallbacks = async (): Promise<string[]> => {
  const portal = (await api.clients.list({ per_page: 100 })).data.find((client) => client.name === 'Portal');
  return portal?.callbacks ?? [];
};

describe('the run queue (pg-boss)', () => {
  it(
    'keeps one open job per run, and gives a job whose taker went silent to another',
    { timeout: 30_000 },
    async () => {
      const run = await createRun({ name: 'q-lease' });
      expect(await queue.enqueue(run.id)).toBe(true);
      expect(await queue.enqueue(run.id)).toBe(false);
      expect(await queue.jobState(run.id)).toMatchObject({ state: 'created', retryCount: 0 });

      // A taker that goes silent right after taking the job (no heartbeat: a killed or hung worker).
      const silent = new PgBoss({
        connectionString: database.url,
        schema: JOB_QUEUE_SCHEMA,
        supervise: false,
        schedule: false,
      });
      silent.on('error', () => undefined);
      await silent.start();
      const [job] = await silent.fetch<{ runId: string }>(RUN_QUEUE_NAME);
      const takenAt = Date.now();
      expect(job?.data).toEqual({ runId: run.id });
      expect(await queue.enqueue(run.id)).toBe(false); // active counts as open
      const rescuer = await createJobQueue({ connectionString: database.url, ...FAST });
      const retaken = new Promise<RunJob & { at: number }>((resolve) =>
        rescuer.work({ concurrency: 1 }, (taken) => {
          resolve({ ...taken, at: Date.now() });
          return Promise.resolve();
        }),
      );
      const again = await retaken;
      expect(again).toMatchObject({ id: job!.id, runId: run.id });
      // Lease 2 s, then the next maintenance (every 1 s) and the next poll (every 0.5 s).
      expect(again.at - takenAt).toBeGreaterThanOrEqual(2000);
      expect(again.at - takenAt).toBeLessThan(8000);
      await expect.poll(async () => (await queue.jobState(run.id))?.state).toBe('completed');
      expect(await queue.enqueue(run.id)).toBe(true); // a finished job no longer counts
      await rescuer.close({ timeoutMs: 1000 });
      await silent.stop({ graceful: false });
    },
  );

  it('keeps a job with a live taker past its lease (heartbeat)', { timeout: 30_000 }, async () => {
    const run = await createRun({ name: 'q-beat' });
    const first = await createJobQueue({ connectionString: database.url, ...FAST });
    const second = await createJobQueue({ connectionString: database.url, ...FAST });
    try {
      const takers: string[] = [];
      let finish!: () => void;
      const taken = new Promise<void>((resolve) =>
        first.work({ concurrency: 1 }, (job) => {
          if (job.runId !== run.id) return Promise.resolve(); // another test's job
          takers.push('first');
          resolve();
          return new Promise<void>((done) => (finish = done));
        }),
      );
      await queue.enqueue(run.id);
      await taken;
      // Another taker, supervising maintenance every second, for more than twice the lease.
      second.work({ concurrency: 1 }, (job) => {
        if (job.runId === run.id) takers.push('second');
        return Promise.resolve();
      });
      await new Promise((resolve) => setTimeout(resolve, 4500));
      expect((await queue.jobState(run.id))?.state).toBe('active');
      finish();
      await expect.poll(async () => (await queue.jobState(run.id))?.state).toBe('completed');
      expect(takers).toEqual(['first']);
    } finally {
      await Promise.all([first.close({ timeoutMs: 100 }), second.close({ timeoutMs: 100 })]);
    }
  });

  it('lets one executor hold a run at a time', async () => {
    const other = await createJobQueue({ connectionString: database.url, ...FAST, supervise: false });
    let release: (() => void) | undefined;
    const holding = queue.withRunLock('run-x', () => new Promise<void>((resolve) => (release = resolve)));
    // Only once the holder's function runs does it hold the lock; probing earlier would race it for the lock.
    await expect.poll(() => release).toBeDefined();
    expect((await other.withRunLock('run-x', () => Promise.resolve())).locked).toBe(false);
    expect((await queue.withRunLock('run-x', () => Promise.resolve())).locked).toBe(false); // not re-entrant
    release?.();
    expect(await holding).toEqual({ locked: true, value: undefined });
    expect(await other.withRunLock('run-x', () => Promise.resolve(1))).toEqual({ locked: true, value: 1 });
    await other.close();
  });
});

describe('three worker processes', () => {
  it(
    'execute 30 runs on one shared client with no lost callback URL, in far fewer than 30 writes',
    { timeout: 90_000 },
    async () => {
      // Without the client-side rate budget (AUTH0_RATE_LIMITS=unlimited): on the enterprise plan it lets each process
      // create 2.5 organizations a second after a burst of 5, which spreads the runs out in time; this test is about
      // runs of several processes meeting on one shared client.
      const three = [0, 1, 2].map(() =>
        startWorkerProcess(['--concurrency', '10', ...FAST_WORKER_ARGS], {
          AUTH0_RATE_LIMITS: 'unlimited',
        }),
      );
      await Promise.all(three.map((worker) => worker.waitFor('ready')));
      // Some latency on the client endpoints, as a real tenant has (Auth0 answers in tens of milliseconds).
      const fault = local.faults.add({ path: '^/api/v2/clients', latencyMs: 30 });
      const from = local.requestLog.list().length;
      const inputs = Array.from({ length: 30 }, (_, i) => ({
        name: `lu-${i}`,
        applications: [{ client: 'Portal', callbacks: [`https://lu-${i}.example.com/callback`] }],
      }));
      const runs: RunRecord[] = [];
      for (const input of inputs) runs.push(await createRun(input));
      const started = Date.now();
      await Promise.all(runs.map((run) => queue.enqueue(run.id)));
      const finished = await untilFinished(
        runs.map((run) => run.id),
        60_000,
      );
      const elapsed = Date.now() - started;
      local.faults.remove(fault.id);
      expect(finished.map((run) => run.state)).toEqual(runs.map(() => 'succeeded'));
      const callbacks = await portalCallbacks();
      for (const input of inputs) expect(callbacks).toContain(input.applications[0]!.callbacks[0]);
      const patches = local.requestLog
        .list({ tenant: local.name })
        .slice(from)
        .filter((entry) => entry.method === 'PATCH' && /^\/api\/v2\/clients\/\w+$/.test(entry.path)).length;
      // Every run finished in exactly one worker, and the work was spread over more than one process (a run that
      // waited for a batched URL write may finish in another process than the one that began it).
      const finishedBy = three.map(
        (worker) =>
          runs.filter((run) => worker.stderr().includes(`run ${run.id} (${run.orgName}, apply): succeeded`))
            .length,
      );
      const workedOnBy = three.map(
        (worker) => runs.filter((run) => worker.stderr().includes(`run ${run.id}`)).length,
      );
      process.stderr.write(
        `[worker.test] 30 runs by 3 workers in ${elapsed} ms; PATCH /clients/{id}: ${patches}; finished per worker: ${finishedBy.join('/')}; worked on per worker: ${workedOnBy.join('/')}\n`,
      );
      expect(patches).toBeLessThanOrEqual(10); // 2–4 when measured
      expect(finishedBy.reduce((sum, count) => sum + count, 0)).toBe(30);
      expect(workedOnBy.filter((count) => count > 0).length).toBeGreaterThan(1);
      // Graceful stop on SIGTERM.
      const exits = await Promise.all(three.map(stopWorker));
      expect(exits).toEqual(three.map(() => ({ code: 0, signal: null })));
      for (const worker of three) expect(worker.stderr()).toContain('stopped');
    },
  );
});

describe('a worker starting after a bulk apply’s process stopped', () => {
  it('continues starting the batch’s runs and executes them', { timeout: 60_000 }, async () => {
    // Recorded, nothing started: the process that took the upload stopped right after.
    const names = ['bulk-left-1', 'bulk-left-2', 'bulk-left-3'];
    const batch = await store.createBatch({
      requestedBy: 'cli:ops',
      sourceName: 'left.yaml',
      format: 'yaml',
      specs: names.map((name) => spec({ name })),
    });
    const worker = startWorkerProcess(FAST_WORKER_ARGS);
    await worker.waitFor('continuing the start of 1 bulk apply batch(es)');
    const progress = async () => (await store.getBatch(batch.id, 60_000))!;
    const deadline = Date.now() + 40_000;
    while ((await progress()).runs.succeeded < names.length && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await progress()).toMatchObject({ waiting: 0, refused: 0, runs: { succeeded: 3, failed: 0 } });
    for (const name of names) expect(await store.listRuns({ orgName: name })).toHaveLength(1);
  });
});

describe('org apply with a worker running', () => {
  function orgadmin(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['bin/orgadmin.js', ...args], {
        env: {
          ...process.env,
          ORGADMIN_HOME: home,
          DATABASE_URL: database.url,
          ORGADMIN_SECRET_KEY: SECRET_KEY,
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('reports every run and its steps whichever process executes it', { timeout: 60_000 }, async () => {
    const worker = startWorkerProcess(['--concurrency', '8', ...FAST_WORKER_ARGS]);
    await worker.waitFor('ready');
    const names = Array.from({ length: 12 }, (_, i) => `ap-${i}`);
    const file = join(home, 'apply.yaml');
    writeFileSync(
      file,
      names
        .map(
          (name) =>
            `name: ${name}\napplications:\n  - client: Portal\n    callbacks: [https://${name}.example.com/cb]\n`,
        )
        .join('---\n'),
    );
    const applied = await orgadmin('org', 'apply', '-f', file);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout.trim().split('\n')).toEqual(names.map((name) => `${name}: succeeded`));
    for (const name of names) {
      expect(applied.stderr).toContain(`✓ ${name}: create organization ${name}`);
      expect(applied.stderr.split(`✓ ${name}: create organization ${name}\n`)).toHaveLength(2); // once
    }
    const byWorker = names.filter((name) =>
      new RegExp(`\\(${name}, apply\\): succeeded`).test(worker.stderr()),
    );
    process.stderr.write(
      `[worker.test] org apply of 12: ${byWorker.length} executed by the running worker\n`,
    );
    expect((await stopWorker(worker)).code).toBe(0);
  });
});

describe('a worker killed with SIGKILL', () => {
  // Every kind of step this plan has after the first organization (the tenant role exists by then); the in-process
  // crash test in provisioning.test.ts covers the rest of the kinds at the same failpoints.
  const kinds = [
    'create-organization',
    'create-connection',
    'enable-connection-for-clients',
    'enable-org-connection',
    'add-client-urls',
    'create-admin-user',
    'add-admin-member',
    'assign-admin-role',
    'send-password-ticket',
  ];
  const points: Failpoint[] = ['before-call', 'after-call', 'after-record'];
  const full = (name: string): OrgSpecInput => ({
    name,
    isolation: 'isolated-database',
    connections: [{ database: {}, assignMembershipOnLogin: true }],
    applications: [{ client: 'Portal', callbacks: [`https://${name}.example.com/callback`] }],
    admin: { email: `admin@${name}.example.com`, via: 'password-ticket' },
  });

  it(
    'leaves a run the next worker brings to succeeded, at every failpoint of every kind of step',
    { timeout: 420_000 },
    async () => {
      const recoveries: number[] = [];
      let case_ = 0;
      for (const kind of kinds) {
        for (const point of points) {
          const name = `kill-${case_++}`;
          const label = `${kind}@${point} (${name})`;
          const run = await createRun(full(name));
          await queue.enqueue(run.id);
          const crashing = startWorkerProcess(FAST_WORKER_ARGS, { ORGADMIN_TEST_CRASH: `${kind}@${point}` });
          const died = await Promise.race([
            crashing.exited,
            new Promise<never>((_, reject) =>
              setTimeout(
                () => reject(new Error(`${label}: no crash in 20 s:\n${crashing.stderr()}`)),
                20_000,
              ),
            ),
          ]);
          expect(died.signal, `${label}:\n${crashing.stderr()}`).toBe('SIGKILL');
          expect(crashing.stderr()).toContain(`SIGKILL at ${kind}@${point}`);
          const diedAt = Date.now();
          expect((await store.getRun(run.id))?.state, label).toBe('running');

          const recovering = startWorkerProcess(FAST_WORKER_ARGS);
          const [finished] = await untilFinished([run.id], 30_000);
          recoveries.push(Date.now() - diedAt);
          expect(finished!.state, `${label}:\n${recovering.stderr()}`).toBe('succeeded');
          expect((await stopWorker(recovering)).code).toBe(0);

          const orgs = (await api.organizations.list({ take: 100 })).data.filter((org) => org.name === name);
          expect(orgs, label).toHaveLength(1);
          expect(orgs[0]!.metadata).toMatchObject({ orgadmin_org: name });
          const connections = (await api.connections.list({ name: `${name}-db`, take: 10 })).data;
          expect(connections, label).toHaveLength(1);
          expect(connections[0]!.metadata).toMatchObject({ orgadmin_org: name });
          const users = await api.users.listUsersByEmail({ email: `admin@${name}.example.com` });
          expect(users, label).toHaveLength(1);
          expect(users[0]!.app_metadata).toMatchObject({ orgadmin_org: name });
          expect(await portalCallbacks()).toContain(`https://${name}.example.com/callback`);
          expect((await store.getOrg(name))?.status, label).toBe('active');
        }
      }
      const sorted = [...recoveries].sort((a, b) => a - b);
      process.stderr.write(
        `[worker.test] SIGKILL → run succeeded (starting the next worker included), ms: median ${sorted[Math.floor(sorted.length / 2)]}, max ${sorted.at(-1)}, all ${recoveries.join(' ')}\n`,
      );
    },
  );
});
