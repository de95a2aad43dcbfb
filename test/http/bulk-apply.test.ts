/**
 * Bulk apply through the HTTP API: an operator checks a CSV (a bad one is refused with every row's problem, and
 * nothing is recorded), starts it, follows the batch until its summary — succeeded, failed with the reason and a
 * link to the run, duration, work done — and finds it in the list. A batch whose portal process stopped halfway is
 * continued by the next portal process that starts, before anyone looks at it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listenForRunChanges } from '../../src/adapters/postgres/run-changes.js';
import { validateSpecs } from '../../src/domain/spec-document.js';
import type { RunChanges } from '../../src/ports/run-changes.js';
import { managementClient, useAuth0Local } from '../helpers/auth0-local.js';
import { untilRunChange } from '../helpers/run-changes.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { sessionFor, startTestPortal, type TestPortal, type TestSession } from '../helpers/portal.js';

const local = useAuth0Local();
let database: TestDatabase;
let portal: TestPortal;
let operator: TestSession;
let changes: RunChanges;

beforeAll(async () => {
  database = await createTestDatabase();
  const api = managementClient(local);
  await api.clients.create({
    name: 'SaaS App',
    app_type: 'regular_web',
    initiate_login_uri: 'https://saas.example/login',
  });
  // A shared connection that is not a database: a password ticket for an administrator in it fails for good.
  await api.connections.create({ name: 'Social-Google', strategy: 'google-oauth2' });
  portal = await startTestPortal(local, database);
  operator = await sessionFor(portal.orgadmin, ['operator'], { email: 'olivia@saas.example' });
  changes = await listenForRunChanges({ connectionString: database.url, log: () => undefined });
});
afterAll(async () => {
  await changes?.close();
  await portal?.close();
  await database?.drop();
});

async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${portal.url}/api/v1${path}`, {
    method,
    headers: {
      cookie: operator.cookie,
      ...(method === 'GET' ? {} : { 'x-csrf-token': operator.csrfToken, 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

interface Batch {
  id: string;
  state: string;
  total: number;
  succeeded: number;
  failed: number;
  notStarted: number;
  open: number;
  durationMs: number;
  finishedAt: string | null;
  work: { stepsDone: number; stepAttempts: number; auth0Calls: number };
  failures: {
    reason: string;
    stage: string;
    count: number;
    organizations: { name: string; runId: string | null }[];
  }[];
}

/** GETs the batch again at every run change until it has finished. */
const untilFinished = (id: string): Promise<Batch> =>
  untilRunChange(
    changes,
    async () => {
      const batch = (await api<Batch>('GET', `/batches/${id}`)).body;
      return batch.state === 'finished' ? batch : undefined;
    },
    { timeoutMs: 60_000, waitingFor: `batch ${id} finished` },
  );

const CSV = [
  'name,displayName,sharedConnections,application,callbackUrls,adminEmail,adminVia',
  'h-one,One,Username-Password-Authentication,SaaS App,https://h-one.example/callback,,',
  'h-two,Two,Username-Password-Authentication,SaaS App,https://h-two.example/callback,,',
  'h-fail,Fails,Social-Google,,,it@h-fail.example,password-ticket',
].join('\n');

describe('bulk apply over HTTP', () => {
  it('refuses a bad file with every problem and records nothing', async () => {
    const bad = await api<{ code: string; details: { issues: { path: string; message: string }[] } }>(
      'POST',
      '/batches',
      {
        fileName: 'bad.csv',
        content: CSV.replace('h-two,', 'H Two,').replace('SaaS App,https://h-one', 'SaaS App,http://h-one'),
      },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('spec.invalid');
    expect(bad.body.details.issues.map((issue) => issue.path)).toEqual([
      'row 2 callbackUrls "http://h-one.example/callback"',
      'row 3 name "H Two"',
    ]);
    expect((await api<{ items: unknown[] }>('GET', '/batches')).body.items).toEqual([]);
    const tooBig = await api<{ code: string }>('POST', '/batches/validate', {
      fileName: 'big.csv',
      content: 'x'.repeat(10 * 1024 * 1024 + 1),
    });
    expect(tooBig).toMatchObject({ status: 400, body: { code: 'request.invalid' } });
  });

  it('checks, starts and follows a batch to its summary', { timeout: 90_000 }, async () => {
    const checked = await api('POST', '/batches/validate', { fileName: 'onboarding.csv', content: CSV });
    expect(checked).toEqual({
      status: 200,
      body: { format: 'csv', total: 3, creates: 3, updates: 0, busy: [], busyCount: 0 },
    });
    const started = await api<Batch>('POST', '/batches', { fileName: 'onboarding.csv', content: CSV });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      total: 3,
      sourceName: 'onboarding.csv',
      requestedBy: 'olivia@saas.example',
    });

    const batch = await untilFinished(started.body.id);
    expect(batch).toMatchObject({ state: 'finished', succeeded: 2, failed: 1, notStarted: 0, open: 0 });
    expect(batch.finishedAt).not.toBeNull();
    expect(batch.durationMs).toBeGreaterThan(0);
    expect(batch.work.stepsDone).toBeGreaterThan(0);
    expect(batch.work.auth0Calls).toBeGreaterThanOrEqual(batch.work.stepsDone);
    expect(batch.failures).toHaveLength(1);
    const [failure] = batch.failures;
    expect(failure).toMatchObject({ stage: 'run', count: 1, organizations: [{ name: 'h-fail' }] });
    const run = await api<{ orgName: string; state: string; error: string }>(
      'GET',
      `/runs/${failure!.organizations[0]!.runId}`,
    );
    expect(run.body).toMatchObject({ orgName: 'h-fail', state: 'failed' });
    expect(failure!.reason).toBe(run.body.error.replaceAll('h-fail', '{org}'));

    const list = await api<{ items: Batch[] }>('GET', '/batches');
    expect(list.body.items.map((item) => [item.id, item.state, item.succeeded])).toEqual([
      [started.body.id, 'finished', 2],
    ]);
  });
});

describe('a portal process starting', () => {
  /** Resolves at the run change after which every one of these organizations has a finished run. */
  const untilRunsFinished = (names: string[], timeoutMs = 60_000): Promise<true> =>
    untilRunChange(
      changes,
      async () => {
        for (const name of names) {
          const runs = await portal.orgadmin.store.listRuns({ orgName: name });
          if (runs.length === 0 || runs.some((run) => run.state !== 'succeeded' && run.state !== 'failed'))
            return undefined;
        }
        return true;
      },
      { timeoutMs, waitingFor: `a finished run of every one of ${names.join(', ')}` },
    );

  it(
    'continues a batch its previous process left halfway, before anyone reads it',
    { timeout: 120_000 },
    async () => {
      const { store } = portal.orgadmin;
      // A portal process recorded the batch, claimed its first item and died; that claim's lease has run out.
      const batch = await store.createBatch({
        requestedBy: 'olivia@saas.example',
        sourceName: 'restart.csv',
        format: 'csv',
        specs: validateSpecs(['s-one', 's-two', 's-three'].map((name) => ({ name }))),
      });
      await store.claimBatchItems(batch.id, 1, 0);

      const restarted = await startTestPortal(local, database);
      try {
        await untilRunsFinished(['s-one', 's-two', 's-three']);
      } finally {
        await restarted.close();
      }
      const read = await api<Batch>('GET', `/batches/${batch.id}`);
      expect(read.body).toMatchObject({ state: 'finished', succeeded: 3, notStarted: 0 });
      for (const name of ['s-one', 's-two', 's-three'])
        expect(await store.listRuns({ orgName: name }), name).toHaveLength(1);
    },
  );
});
