/**
 * Bulk apply against auth0-local and a test database, with an in-process worker: a file with any bad row or document
 * is refused whole — every problem named by row (or document), column and rule — and nothing is recorded or sent to
 * Auth0; a CSV of 30 organizations becomes one batch that reaches its summary (organizations already busy are
 * reported as not started, grouped by reason); a start whose process stopped halfway is taken over without
 * starting any organization twice — by a service starting up or listing batches, without anyone reading the batch;
 * and a process that stalled past its lease and lost its claim starts nothing more of it and records nothing on it.
 */
import type { ManagementClient } from 'auth0';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listenForRunChanges } from '../../src/adapters/postgres/run-changes.js';
import { openOrgadmin, openRunQueue, type Orgadmin } from '../../src/composition-root.js';
import { loadConfig } from '../../src/config/config.js';
import { OrgadminError } from '../../src/domain/errors.js';
import { validateSpecs } from '../../src/domain/spec-document.js';
import { startWorker, type RunQueue, type Worker } from '../../src/engine/worker.js';
import type { RunChanges } from '../../src/ports/run-changes.js';
import type { BatchProgress, ClaimedBatchItem, RunRecord, Store } from '../../src/ports/store.js';
import {
  BATCH_LEASE_MS,
  createBulkApplyService,
  MAX_REPORTED_ISSUES,
  parseCsv,
  type BulkApplyService,
} from '../../src/services/bulk-apply.js';
import { createOrganizationService, type OrganizationService } from '../../src/services/organizations.js';
import {
  managementClient,
  orgadminHomeFor,
  requestLogLength,
  useAuth0Local,
} from '../helpers/auth0-local.js';
import { untilRunChange } from '../helpers/run-changes.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const local = useAuth0Local();
let database: TestDatabase;
let orgadmin: Orgadmin;
let queue: RunQueue;
let worker: Worker;
let changes: RunChanges;
let organizations: OrganizationService;
let bulk: BulkApplyService;
let api: ManagementClient;

beforeAll(async () => {
  database = await createTestDatabase();
  api = managementClient(local);
  await api.clients.create({
    name: 'SaaS App',
    app_type: 'regular_web',
    initiate_login_uri: 'https://saas.example/login',
  });
  orgadmin = await openOrgadmin(
    loadConfig(
      {
        ORGADMIN_HOME: orgadminHomeFor(local, 'orgadmin-bulk-'),
        DATABASE_URL: database.url,
        ORGADMIN_SECRET_KEY: 'test-secret-key',
        // auth0-local here has no rate limits; the client's budget need not pace the runs either.
        AUTH0_RATE_LIMITS: 'unlimited',
      },
      process.cwd(),
    ),
  );
  queue = await openRunQueue(orgadmin);
  worker = await startWorker({ queue, concurrency: 4, engine: orgadmin.engine });
  changes = await listenForRunChanges({ connectionString: database.url, log: () => undefined });
  organizations = createOrganizationService(orgadmin, {
    enqueue: async (runId) => {
      await queue.enqueue(runId);
      worker.notify();
    },
  });
  bulk = createBulkApplyService({ store: orgadmin.store, organizations });
});
afterAll(async () => {
  await bulk?.close();
  await changes?.close();
  await worker?.stop();
  await queue?.close();
  await orgadmin?.close();
  await database?.drop();
});

const writes = (): number =>
  local.requestLog.list().filter((entry) => entry.path.startsWith('/api/v2/') && entry.method !== 'GET')
    .length;

async function runCount(): Promise<number> {
  const { rows } = await database.pool.query<{ count: number }>('SELECT count(*)::int AS count FROM runs');
  return rows[0]!.count;
}

async function refusal(promise: Promise<unknown>): Promise<OrgadminError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OrgadminError) return error;
    throw error;
  }
  throw new Error('expected the file to be refused');
}

const finished = (batch: BatchProgress): boolean =>
  batch.waiting === 0 && batch.runs.pending + batch.runs.running + batch.runs.compensating === 0;

/** Re-reads the batch at every run change until it has finished (a run change is all that can finish it). */
const untilFinished = (batchId: string, timeoutMs = 90_000): Promise<BatchProgress> =>
  untilRunChange(
    changes,
    async () => {
      const batch = await bulk.get(batchId);
      return finished(batch) ? batch : undefined;
    },
    { timeoutMs, waitingFor: `batch ${batchId} finished` },
  );

const HEADER =
  'name,displayName,isolation,sharedConnections,application,callbackUrls,adminEmail,metadata.plan';

const FINAL = new Set(['succeeded', 'failed']);

/**
 * Waits, at every run change, until each of these organizations has a finished run — reading runs only, never the
 * batch (reading a batch through the service would itself take over a stalled start).
 */
const untilRunsFinished = (names: string[], timeoutMs = 60_000): Promise<Map<string, RunRecord[]>> =>
  untilRunChange(
    changes,
    async () => {
      const runs = new Map<string, RunRecord[]>();
      for (const name of names) runs.set(name, await orgadmin.store.listRuns({ orgName: name }));
      return [...runs.values()].every((list) => list.length > 0 && list.every((run) => FINAL.has(run.state)))
        ? runs
        : undefined;
    },
    { timeoutMs, waitingFor: `a finished run of every one of ${names.join(', ')}` },
  );

/** A promise and the function that resolves it. */
function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => (resolve = done));
  return { promise, resolve };
}

/** The claims on the batch's items run out now, as if their process had stalled for longer than the lease. */
async function expireClaims(batchId: string): Promise<void> {
  await database.pool.query(
    `UPDATE bulk_batch_items SET lease_until = now() - interval '1 second'
     WHERE batch_id = $1 AND state = 'starting'`,
    [batchId],
  );
}

const specsNamed = (...names: string[]) => validateSpecs(names.map((name) => ({ name })));

describe('reading a bulk file', () => {
  it('parses quoted CSV cells with commas, quotes and line breaks', () => {
    expect(parseCsv('a,b\r\n"x, ""y""","two\nlines"\n')).toEqual([
      { cells: ['a', 'b'], line: 1 },
      { cells: ['x, "y"', 'two\nlines'], line: 2 },
    ]);
    expect(() => parseCsv('a\n"open')).toThrow('the quoted cell starting on line 2 is not closed');
  });
});

describe('validation before anything starts', () => {
  it('refuses a CSV with bad rows whole, naming row, column and rule, and starts nothing', async () => {
    const [runsBefore, writesBefore] = [await runCount(), writes()];
    const csv = [
      HEADER,
      'good-one,Good One,shared,Username-Password-Authentication,SaaS App,https://good.example/cb,,gold',
      'Bad Name,Bad,shared,,,,,',
      'iso-one,Iso,isolated-database,,SaaS App,http://iso.example/cb,not-an-email,',
      'good-one,Again,shared,,,,,',
      'short,row',
    ].join('\n');
    const error = await refusal(bulk.start({ fileName: 'orgs.csv', content: csv }, 'olivia@saas.example'));
    expect(error.code).toBe('spec.invalid');
    expect(error.details.issues).toEqual([
      { path: 'row 3 name "Bad Name"', message: expect.stringContaining('lowercase') as unknown },
      {
        path: 'row 4 callbackUrls "http://iso.example/cb"',
        message: expect.stringContaining('must be an https:// URL') as unknown,
      },
      { path: 'row 4 adminEmail "not-an-email"', message: 'must be an email address' },
      { path: 'row 5 name', message: 'organization "good-one" appears in more than one row (also row 2)' },
      { path: 'row 6', message: expect.stringContaining('has 2 cell(s) but the header has 8') as unknown },
    ]);
    expect(await bulk.list({})).toEqual([]);
    expect(await runCount()).toBe(runsBefore);
    expect(await orgadmin.store.getOrg('good-one')).toBeUndefined();
    expect(writes()).toBe(writesBefore);
  });

  it('refuses unknown columns, and names what the tenant lacks', async () => {
    const unknown = await refusal(
      bulk.validate({ fileName: 'orgs.csv', content: 'name,colour\nacme,red\n' }),
    );
    expect(unknown.details.issues).toEqual([
      { path: 'row 1 column "colour"', message: expect.stringContaining('is not a known column') as unknown },
    ]);
    const missing = await refusal(
      bulk.validate({
        fileName: 'orgs.csv',
        content: 'name;sharedConnections;application\nacme;No-Such-Connection;No Such App\n',
      }),
    );
    expect(missing.details.issues).toEqual([
      { path: 'row 2 sharedConnections', message: 'no shared connection "No-Such-Connection" in the tenant' },
      { path: 'row 2 application', message: 'no application "No Such App" in the tenant' },
    ]);
  });

  it('refuses an application name two applications share, which no run could resolve', async () => {
    await api.clients.create({ name: 'Twin App', app_type: 'spa' });
    await api.clients.create({ name: 'Twin App', app_type: 'spa' });
    const twin = await refusal(
      bulk.validate({ fileName: 'orgs.csv', content: 'name,application\nacme,Twin App\n' }),
    );
    expect(twin.details.issues).toEqual([
      { path: 'row 2 application', message: 'several applications are named "Twin App"; rename all but one' },
    ]);
  });

  it('refuses a YAML file by document, and caps the list of problems', async () => {
    const yaml = `name: y-one\n---\nname: y-two\nisolation: isolated-database\n---\nname: y-three\nadmin: { email: nope }\n`;
    const error = await refusal(bulk.validate({ fileName: 'orgs.yaml', content: yaml }));
    expect(error.details.issues).toEqual([
      { path: '#2 connections', message: expect.stringContaining('needs exactly one') as unknown },
      { path: '#3 admin.email', message: 'must be an email address' },
      { path: '#3 admin.via', message: expect.stringContaining('an invitation is sent') as unknown },
    ]);
    const many = [HEADER, ...Array.from({ length: 150 }, (_, i) => `Bad${i},,,,,,,`)].join('\n');
    const capped = await refusal(bulk.validate({ fileName: 'many.csv', content: many }));
    expect(capped.details.issues).toHaveLength(MAX_REPORTED_ISSUES + 1);
    expect(capped.details.issues!.at(-1)).toEqual({
      path: 'file',
      message: 'and 50 more problem(s) not listed',
    });
  });

  it('says what a valid file would do', async () => {
    const yaml = `name: v-one\n---\nname: v-two\ndisplayName: Two\n`;
    expect(await bulk.validate({ fileName: 'orgs.yml', content: yaml })).toEqual({
      format: 'yaml',
      total: 2,
      creates: 2,
      updates: 0,
      busy: [],
      busyCount: 0,
    });
    const unnamed = await refusal(bulk.validate({ fileName: 'orgs.txt', content: yaml }));
    expect(unnamed.code).toBe('request.invalid');
  });
});

describe('a batch', () => {
  it(
    'provisions 30 organizations from a CSV and ends with its summary; busy ones are not started',
    { timeout: 120_000 },
    async () => {
      // Two organizations with a run that never started (no worker was told): applying them again is refused.
      for (const name of ['busy-1', 'busy-2'])
        await orgadmin.store.createRun({
          orgName: name,
          tenant: local.domain,
          kind: 'apply',
          desired: validateSpecs([{ name }])[0]!,
          requestedBy: 'someone-else',
        });
      const rows = Array.from({ length: 30 }, (_, i) => {
        const name = `bulk-${String(i + 1).padStart(2, '0')}`;
        return i % 3 === 0
          ? `${name},Bulk ${i + 1},isolated-database,,SaaS App,https://${name}.saas.example/callback,admin@${name}.example,gold`
          : `${name},Bulk ${i + 1},shared,Username-Password-Authentication,SaaS App,https://${name}.saas.example/callback,,`;
      });
      const csv = [HEADER, 'busy-1,,,,,,,', 'busy-2,,,,,,,', ...rows].join('\n');
      expect(await bulk.validate({ fileName: 'onboarding.csv', content: csv })).toMatchObject({
        total: 32,
        creates: 30,
        updates: 2,
        busy: ['busy-1', 'busy-2'],
      });

      const started = await bulk.start({ fileName: 'onboarding.csv', content: csv }, 'olivia@saas.example');
      expect(started).toMatchObject({ sourceName: 'onboarding.csv', format: 'csv', total: 32 });
      const from = requestLogLength(local);
      await bulk.drain(started.id);
      const summary = await untilFinished(started.id);
      // Calls used: every Management API request from here on was made by one of the batch's runs.
      const apiCalls = local.requestLog
        .list({ tenant: local.name })
        .slice(from)
        .filter((entry) => entry.path.startsWith('/api/v2/')).length;
      expect(summary.auth0Calls).toBeGreaterThan(30 * 4);
      expect(summary.auth0Calls).toBe(apiCalls);

      expect(summary.runs).toEqual({ pending: 0, running: 0, compensating: 0, succeeded: 30, failed: 0 });
      expect(summary.refused).toBe(2);
      expect(summary.failures).toEqual([
        {
          reason: 'Another run of organization {org} is not finished (run {id}).',
          stage: 'start',
          count: 2,
          examples: [
            { orgName: 'busy-1', runId: undefined },
            { orgName: 'busy-2', runId: undefined },
          ],
        },
      ]);
      expect(summary.finishedAt).toBeInstanceOf(Date);
      expect(summary.durationMs).toBe(summary.finishedAt!.getTime() - summary.createdAt.getTime());
      expect(summary.stepsDone).toBeGreaterThanOrEqual(30 * 4);
      expect(summary.stepAttempts).toBeGreaterThanOrEqual(summary.stepsDone);

      const org = await orgadmin.store.getOrg('bulk-01');
      expect(org).toMatchObject({ status: 'active', appliedSpec: { isolation: 'isolated-database' } });
      expect(org?.appliedSpec?.metadata).toEqual({ plan: 'gold' });
      const run = await orgadmin.store.getRun(org!.lastRunId!);
      expect(run?.requestedBy).toBe('olivia@saas.example');
      const app = (await api.clients.list({ per_page: 100 })).data.find(
        (client) => client.name === 'SaaS App',
      );
      expect(app?.callbacks).toHaveLength(30);

      const [listed] = await bulk.list({});
      expect(listed).toMatchObject({ id: started.id, total: 32, refused: 2, waiting: 0 });
      const audit = await orgadmin.store.audit({ actor: 'olivia@saas.example' });
      expect(audit.find((event) => event.action === 'batch.requested')?.after).toMatchObject({
        batchId: started.id,
        total: 32,
      });
    },
  );

  it(
    'is taken over when the process starting it stopped, without starting an organization twice',
    { timeout: 60_000 },
    async () => {
      const specs = validateSpecs(['t-one', 't-two', 't-three'].map((name) => ({ name })));
      const batch = await bulk.record(specs, { name: 'takeover.yaml', format: 'yaml' }, 'cli:ops');
      // A process claims every item (its lease runs out at once) and creates the first run, then stops.
      const claimed = await orgadmin.store.claimBatchItems(batch.id, 10, 0);
      expect(claimed.map((item) => item.orgName)).toEqual(['t-one', 't-two', 't-three']);
      const first = await organizations.create(claimed[0]!.spec, 'cli:ops');

      const seen = await bulk.get(batch.id);
      expect(seen).toMatchObject({ stalled: true, waiting: 3 });
      await bulk.drain(batch.id);
      const summary = await untilFinished(batch.id);
      expect(summary).toMatchObject({ refused: 0, failures: [] });
      expect(summary.runs.succeeded).toBe(3);
      for (const name of ['t-one', 't-two', 't-three'])
        expect(await orgadmin.store.listRuns({ orgName: name }), name).toHaveLength(1);
      expect((await orgadmin.store.getOrg('t-one'))?.lastRunId).toBe(first.run.id);
    },
  );
});

describe('a start that a process left unfinished', () => {
  it(
    'is resumed when a service starts (a process start), without anyone reading the batch',
    { timeout: 90_000 },
    async () => {
      const batch = await bulk.record(
        specsNamed('r-one', 'r-two', 'r-three', 'r-four'),
        { name: 'restart.yaml', format: 'yaml' },
        'cli:ops',
      );
      // The process starting it claimed two items, created the first one's run and died; its lease has run out.
      // The other two were never claimed.
      const claimed = await orgadmin.store.claimBatchItems(batch.id, 2, 0);
      const first = await organizations.create(claimed[0]!.spec, 'cli:ops');

      const restarted = createBulkApplyService({ store: orgadmin.store, organizations });
      try {
        expect(await restarted.resume()).toEqual([batch.id]);
        const runs = await untilRunsFinished(['r-one', 'r-two', 'r-three', 'r-four']);
        for (const [name, list] of runs) expect(list, name).toHaveLength(1);
        expect(runs.get('r-one')![0]!.id).toBe(first.run.id);
        expect(runs.get('r-four')![0]!.requestedBy).toBe('cli:ops');
        expect(await orgadmin.store.getBatch(batch.id, BATCH_LEASE_MS)).toMatchObject({
          waiting: 0,
          refused: 0,
          runs: { succeeded: 4 },
        });
        // Nothing is left to resume.
        expect(await restarted.resume()).toEqual([]);
      } finally {
        await restarted.close();
      }
    },
  );

  it('is resumed at start once the lease of the stopped process runs out', { timeout: 90_000 }, async () => {
    const batch = await bulk.record(
      specsNamed('h-one', 'h-two'),
      { name: 'held.yaml', format: 'yaml' },
      'cli:ops',
    );
    // Claimed by a process that died a moment ago: its lease still runs for 3 s.
    await orgadmin.store.claimBatchItems(batch.id, 10, 3_000);
    const restarted = createBulkApplyService({ store: orgadmin.store, organizations });
    try {
      expect(await restarted.resume()).toEqual([batch.id]);
      expect(await orgadmin.store.listRuns({ orgName: 'h-one' })).toEqual([]);
      const runs = await untilRunsFinished(['h-one', 'h-two']);
      for (const [name, list] of runs) expect(list, name).toHaveLength(1);
    } finally {
      await restarted.close();
    }
  });

  it('is taken over when batches are listed', { timeout: 90_000 }, async () => {
    const batch = await bulk.record(
      specsNamed('l-one', 'l-two'),
      { name: 'listed.yaml', format: 'yaml' },
      'cli:ops',
    );
    await orgadmin.store.claimBatchItems(batch.id, 10, 0);
    const listed = await bulk.list({});
    expect(listed.find((item) => item.id === batch.id)).toMatchObject({ waiting: 2, stalled: true });
    const runs = await untilRunsFinished(['l-one', 'l-two']);
    for (const [name, list] of runs) expect(list, name).toHaveLength(1);
  });
});

describe('a process that stalled past its lease', () => {
  /** The organization service as one process sees it, with `start` in front of every run it starts. */
  type Started = Awaited<ReturnType<OrganizationService['create']>>;
  const startingThrough = (
    start: (name: string, next: () => Promise<Started>) => Promise<Started>,
  ): OrganizationService => ({
    ...organizations,
    create: (spec, actor) => start((spec as { name: string }).name, () => organizations.create(spec, actor)),
    update: (name, spec, actor) => start(name, () => organizations.update(name, spec, actor)),
  });

  it(
    'starts nothing of a claim another process took over, and that process starts every item once',
    { timeout: 90_000 },
    async () => {
      const batch = await bulk.record(
        specsNamed('o-one', 'o-two', 'o-three'),
        { name: 'owner.yaml', format: 'yaml' },
        'cli:ops',
      );
      // Process A claims the items, then stalls before starting any of them.
      const claimedByA = signal<ClaimedBatchItem[]>();
      const stall = signal();
      let stalls = 1;
      const storeOfA: Store = {
        ...orgadmin.store,
        claimBatchItems: async (...args) => {
          const items = await orgadmin.store.claimBatchItems(...args);
          if (stalls-- > 0) {
            claimedByA.resolve(items);
            await stall.promise;
          }
          return items;
        },
      };
      const startedByA: string[] = [];
      const a = createBulkApplyService({
        store: storeOfA,
        organizations: startingThrough((name, next) => {
          startedByA.push(name);
          return next();
        }),
      });
      try {
        const aDrained = a.drain(batch.id);
        expect((await claimedByA.promise).map((item) => item.orgName)).toEqual(['o-one', 'o-two', 'o-three']);

        // A's lease runs out; process B (this file's service) takes the items over and starts all of them.
        await expireClaims(batch.id);
        await bulk.drain(batch.id);
        const summary = await untilFinished(batch.id);
        expect(summary).toMatchObject({ refused: 0, failures: [], runs: { succeeded: 3 } });

        // A wakes up: its claim is gone, so it starts nothing (the organizations exist now: starting would be
        // an update, a second run each).
        stall.resolve();
        await aDrained;
        expect(startedByA).toEqual([]);
        for (const name of ['o-one', 'o-two', 'o-three'])
          expect(await orgadmin.store.listRuns({ orgName: name }), name).toHaveLength(1);
        expect(await orgadmin.store.getBatch(batch.id, BATCH_LEASE_MS)).toMatchObject({
          refused: 0,
          failures: [],
          runs: { succeeded: 3 },
        });
      } finally {
        stall.resolve();
        await a.close();
      }
    },
  );

  it(
    'records nothing on an item it was starting when it lost the claim, so the new owner’s start counts',
    { timeout: 90_000 },
    async () => {
      const batch = await bulk.record(specsNamed('p-one'), { name: 'loser.yaml', format: 'yaml' }, 'cli:ops');
      // Process A begins p-one and stalls inside the start; when it wakes, its start fails (its connection is gone).
      const aStarting = signal();
      const aWakes = signal();
      const a = createBulkApplyService({
        store: orgadmin.store,
        organizations: startingThrough(async () => {
          aStarting.resolve();
          await aWakes.promise;
          throw new Error('Connection terminated unexpectedly');
        }),
      });
      // Process B takes the item over once A's lease ran out, and is in the middle of starting it.
      const bStarting = signal();
      const bGoesOn = signal();
      const b = createBulkApplyService({
        store: orgadmin.store,
        organizations: startingThrough(async (_name, next) => {
          bStarting.resolve();
          await bGoesOn.promise;
          return next();
        }),
      });
      try {
        const aDrained = a.drain(batch.id);
        await aStarting.promise;
        await expireClaims(batch.id);
        const bDrained = b.drain(batch.id);
        await bStarting.promise;

        aWakes.resolve();
        await aDrained;
        // A's failure is not the item's: it is still B's to settle.
        expect(await orgadmin.store.getBatch(batch.id, BATCH_LEASE_MS)).toMatchObject({
          waiting: 1,
          refused: 0,
          failures: [],
        });

        bGoesOn.resolve();
        await bDrained;
        const summary = await untilFinished(batch.id);
        expect(summary).toMatchObject({ refused: 0, failures: [], runs: { succeeded: 1 } });
        expect(await orgadmin.store.listRuns({ orgName: 'p-one' })).toHaveLength(1);
      } finally {
        aWakes.resolve();
        bGoesOn.resolve();
        await a.close();
        await b.close();
      }
    },
  );

  it(
    'has the run it started after losing its claim counted for the item, and the new owner starts no second one',
    { timeout: 90_000 },
    async () => {
      const batch = await bulk.record(specsNamed('k-one'), { name: 'late.yaml', format: 'yaml' }, 'cli:ops');
      // A begins k-one and stalls just before creating the run.
      const aStarting = signal();
      const aWakes = signal();
      const a = createBulkApplyService({
        store: orgadmin.store,
        organizations: startingThrough(async (_name, next) => {
          aStarting.resolve();
          await aWakes.promise;
          return next();
        }),
      });
      // B takes the item over once A's lease ran out, and pauses right after claiming it.
      const bClaimed = signal();
      const bGoesOn = signal();
      const storeOfB: Store = {
        ...orgadmin.store,
        claimBatchItems: async (...args) => {
          const items = await orgadmin.store.claimBatchItems(...args);
          if (items.length > 0) {
            bClaimed.resolve();
            await bGoesOn.promise;
          }
          return items;
        },
      };
      const b = createBulkApplyService({ store: storeOfB, organizations });
      try {
        const aDrained = a.drain(batch.id);
        await aStarting.promise;
        await expireClaims(batch.id);
        const bDrained = b.drain(batch.id);
        await bClaimed.promise;

        // A wakes and creates the run (nothing stops it: it is past its check); the item is no longer A's to settle.
        aWakes.resolve();
        await aDrained;
        const [aRun] = (await untilRunsFinished(['k-one'])).get('k-one')!;
        expect(aRun).toMatchObject({ state: 'succeeded', requestedBy: 'cli:ops' });

        // B goes on: the run A made since the item was first claimed is the item's; B starts none.
        bGoesOn.resolve();
        await bDrained;
        expect(await orgadmin.store.listRuns({ orgName: 'k-one' })).toHaveLength(1);
        const summary = await untilFinished(batch.id);
        expect(summary).toMatchObject({ refused: 0, failures: [], runs: { succeeded: 1 } });
        const item = await database.pool.query<{ run_id: string }>(
          'SELECT run_id FROM bulk_batch_items WHERE batch_id = $1',
          [batch.id],
        );
        expect(item.rows).toEqual([{ run_id: aRun!.id }]);
      } finally {
        aWakes.resolve();
        bGoesOn.resolve();
        await a.close();
        await b.close();
      }
    },
  );

  it(
    'is refused by the run conflict if it starts the item after the new owner did, and records nothing',
    { timeout: 90_000 },
    async () => {
      const batch = await bulk.record(
        specsNamed('q-one'),
        { name: 'conflict.yaml', format: 'yaml' },
        'cli:ops',
      );
      // A begins q-one and stalls just before creating the run; B's runs wait to be executed until told.
      const aStarting = signal();
      const aWakes = signal();
      const aOutcome: unknown[] = [];
      const a = createBulkApplyService({
        store: orgadmin.store,
        organizations: startingThrough(async (_name, next) => {
          aStarting.resolve();
          await aWakes.promise;
          try {
            return await next();
          } catch (error) {
            aOutcome.push(error);
            throw error;
          }
        }),
      });
      const heldRuns: string[] = [];
      const b = createBulkApplyService({
        store: orgadmin.store,
        organizations: createOrganizationService(orgadmin, {
          enqueue: (runId) => {
            heldRuns.push(runId);
            return Promise.resolve();
          },
        }),
      });
      try {
        const aDrained = a.drain(batch.id);
        await aStarting.promise;
        await expireClaims(batch.id);
        await b.drain(batch.id);
        expect(heldRuns).toHaveLength(1);

        // A wakes and creates the run: refused, since B's run of q-one is unfinished. A records nothing.
        aWakes.resolve();
        await aDrained;
        // (Its creation finds the organization B created and is retried as an update, which meets B's run.)
        expect(aOutcome.at(-1)).toMatchObject({ code: 'run.conflict' });
        const item = (
          await database.pool.query<{ state: string; run_id: string; error: string | null }>(
            `SELECT state, run_id, error FROM bulk_batch_items WHERE batch_id = $1`,
            [batch.id],
          )
        ).rows;
        expect(item).toEqual([{ state: 'started', run_id: heldRuns[0], error: null }]);

        await queue.enqueue(heldRuns[0]!);
        worker.notify();
        const summary = await untilFinished(batch.id);
        expect(summary).toMatchObject({ refused: 0, failures: [], runs: { succeeded: 1 } });
      } finally {
        aWakes.resolve();
        await a.close();
        await b.close();
      }
    },
  );
});
