/**
 * Bulk apply against auth0-local and a test database, with an in-process worker: a file with any bad row or document
 * is refused whole — every problem named by row (or document), column and rule — and nothing is recorded or sent to
 * Auth0; a CSV of 30 organizations becomes one batch that reaches its summary (organizations already busy are
 * reported as not started, grouped by reason); and a start whose process stopped halfway is taken over without
 * starting any organization twice.
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
import type { BatchProgress } from '../../src/ports/store.js';
import {
  createBulkApplyService,
  MAX_REPORTED_ISSUES,
  parseCsv,
  type BulkApplyService,
} from '../../src/services/bulk-apply.js';
import { createOrganizationService, type OrganizationService } from '../../src/services/organizations.js';
import { managementClient, orgadminHomeFor, useAuth0Local } from '../helpers/auth0-local.js';
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
function untilFinished(batchId: string, timeoutMs = 90_000): Promise<BatchProgress> {
  return new Promise((resolve, reject) => {
    let reading = false;
    let again = false;
    const read = async (): Promise<void> => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          const batch = await bulk.get(batchId);
          if (finished(batch)) {
            stop();
            resolve(batch);
            return;
          }
        } while (again);
      } finally {
        reading = false;
      }
    };
    const fail = (error: unknown): void => {
      stop();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const unsubscribe = changes.subscribe(() => void read().catch(fail));
    const timer = setTimeout(
      () => fail(new Error(`batch ${batchId} did not finish in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const stop = (): void => {
      clearTimeout(timer);
      unsubscribe();
    };
    void read().catch(fail);
  });
}

const HEADER =
  'name,displayName,isolation,sharedConnections,application,callbackUrls,adminEmail,metadata.plan';

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
      await bulk.drain(started.id);
      const summary = await untilFinished(started.id);

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
