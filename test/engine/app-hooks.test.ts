/**
 * The application's own steps in the run and its lifecycle events (issue 7), end to end against auth0-local and the
 * example application of `examples/saas-app` (a real web app with its own schema that verifies every message with
 * the `standardwebhooks` package):
 * - an apply creates the app's row before the run succeeds; a hook answering 500 three times (after doing its work)
 *   then 200 leaves exactly one row; a 422 fails the run, removes every Auth0 object it created, and the app's
 *   `on-compensate` removes its row;
 * - a worker killed with SIGKILL right after the hook answered, before the step was recorded: the next worker calls
 *   the hook again with the same `webhook-id`, and the app still has one row;
 * - 50 organizations created and 10 removed while the app is down: once it is back, every event arrives, in order
 *   per organization — also with two dispatchers on their own connections; a hook that keeps failing is disabled
 *   and, once enabled, gets what waited; a replay resends with the same `webhook-id`.
 */
import type { ManagementClient } from 'auth0';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startSaasApp, type SaasApp } from '../../examples/saas-app/src/saas-app.js';
import { createSdkTenant } from '../../src/adapters/auth0/sdk-tenant.js';
import { createJobQueue } from '../../src/adapters/postgres/job-queue.js';
import { createPostgresAppHooks } from '../../src/adapters/postgres/postgres-app-hooks.js';
import { createPostgresEvents } from '../../src/adapters/postgres/postgres-events.js';
import { createPostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { loadSecretBox } from '../../src/adapters/postgres/secret-box.js';
import { sendWebhook } from '../../src/adapters/webhooks/webhook-sender.js';
import type { HookPhase } from '../../src/domain/app-hooks.js';
import type { EventSubscription } from '../../src/domain/lifecycle-events.js';
import type { OrgSpecInput } from '../../src/domain/org-spec.js';
import { validateSpecs } from '../../src/domain/spec-document.js';
import { startEventDispatcher, type EventDispatcher } from '../../src/engine/event-dispatcher.js';
import { executeRun, hookMessageId, type EngineDeps } from '../../src/engine/run-executor.js';
import type { RunQueue } from '../../src/engine/worker.js';
import type { AppHookStore } from '../../src/ports/app-hooks.js';
import type { EventOutbox } from '../../src/ports/events.js';
import type { RunRecord, Store } from '../../src/ports/store.js';
import { runHooks } from '../../src/services/app-hooks.js';
import {
  managementClient,
  orgadminHomeFor,
  startTestAuth0Local,
  type TestAuth0Local,
} from '../helpers/auth0-local.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { untilRunsFinished, workerProcesses } from '../helpers/worker-process.js';

const SECRET_KEY = 'test-secret-key';
const HOOK_SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const ALL_PHASES = ['before-auth0', 'after-auth0', 'on-remove', 'on-compensate'] as const;

let local: TestAuth0Local;
let database: TestDatabase;
let home: string;
let store: Store;
let hooks: AppHookStore;
let outbox: EventOutbox;
let api: ManagementClient;
let app: SaasApp;
let deps: EngineDeps;
const processes = workerProcesses(() => ({
  ORGADMIN_HOME: home,
  DATABASE_URL: database.url,
  ORGADMIN_SECRET_KEY: SECRET_KEY,
}));

beforeAll(async () => {
  local = await startTestAuth0Local();
  database = await createTestDatabase();
  home = orgadminHomeFor(local, 'orgadmin-app-hooks-');
  const secrets = loadSecretBox({ home, key: SECRET_KEY });
  store = createPostgresStore(database.pool, { secrets });
  hooks = createPostgresAppHooks(database.pool, { secrets });
  outbox = createPostgresEvents(database.pool, { secrets });
  const tenant = createSdkTenant({
    domain: local.domain,
    clientId: local.clientId,
    clientSecret: local.clientSecret,
  });
  deps = {
    store,
    tenantFor: () => tenant,
    hooks: runHooks(hooks, sendWebhook),
    retry: { maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 50 },
  };
  api = managementClient(local);
  await api.clients.create({
    name: 'Portal',
    app_type: 'regular_web',
    callbacks: ['https://portal.example.com/callback'],
  });
  app = await startSaasApp({ databaseUrl: database.url, hookSecret: HOOK_SECRET, faults: true });
});
afterEach(() => processes.killAll());
afterAll(async () => {
  await processes.killAll();
  await app?.close();
  await local?.close();
  await database?.drop();
});

const spec = (input: OrgSpecInput) => validateSpecs([input])[0]!;

const full = (name: string): OrgSpecInput => ({
  name,
  displayName: `${name} Inc.`,
  isolation: 'isolated-database',
  connections: [{ database: {} }],
  applications: [{ client: 'Portal', callbacks: [`https://${name}.example.com/callback`] }],
});

async function createRun(input: OrgSpecInput | string): Promise<RunRecord> {
  const removal = typeof input === 'string';
  return store.createRun({
    orgName: removal ? input : input.name,
    tenant: local.domain,
    kind: removal ? 'remove' : 'apply',
    desired: removal ? undefined : spec(input),
    requestedBy: 'test',
  });
}

async function withHook<T>(
  name: string,
  config: { phases?: readonly HookPhase[]; events?: EventSubscription[] },
  fn: () => Promise<T>,
): Promise<T> {
  await hooks.addHook(
    {
      name,
      url: app.hookUrl,
      secret: HOOK_SECRET,
      phases: [...(config.phases ?? [])],
      events: config.events ?? [],
      allowPrivateNetwork: true,
    },
    'test',
  );
  try {
    return await fn();
  } finally {
    await hooks.removeHook(name, 'test');
  }
}

const rowsOf = async (orgName: string) =>
  (await app.organizations()).filter((row) => row.orgName === orgName);
const callsOf = async (webhookId: string) =>
  (await app.hookCalls()).filter((call) => call.webhookId === webhookId);

/** Index of the journal step with this key. */
async function stepIndex(runId: string, key: string): Promise<number> {
  const record = (await store.steps(runId)).find((step) => step.step.key === key);
  if (!record) throw new Error(`run ${runId} has no step ${key}`);
  return record.index;
}

describe('hooks as steps of the run', () => {
  it('creates the app row before the run succeeds and keeps what the app returned on the organization', async () => {
    await withHook('saas-app', { phases: ALL_PHASES }, async () => {
      const run = await executeRun(deps, (await createRun(full('h-acme'))).id);
      expect(run.state, run.error).toBe('succeeded');

      const [row] = await rowsOf('h-acme');
      const org = (await store.getOrg('h-acme'))!;
      expect(row).toMatchObject({ state: 'ready', auth0OrgId: org.auth0Ids['organization'] });
      expect(row!.createdAt.getTime()).toBeLessThanOrEqual(run.finishedAt!.getTime());
      expect(org.appData['saas-app']).toEqual({
        appOrgId: row!.appOrgId,
        signInUrl: `${app.url}/login?organization=h-acme`,
      });
      const keys = (await store.steps(run.id)).map((step) => `${step.step.key}:${step.status}`);
      expect(keys[0]).toBe('hook:saas-app:before-auth0:done');
      expect(keys).toContain('hook:saas-app:after-auth0:done');
      // The before-auth0 call saw no Auth0 id yet; after-auth0 saw the organization's.
      const calls = (await app.hookCalls()).filter((call) => call.orgName === 'h-acme');
      expect(calls.map((call) => [call.type, call.status])).toEqual([
        ['hook.before-auth0', 200],
        ['hook.after-auth0', 200],
      ]);
      expect(calls[0]!.webhookId).toBe(hookMessageId(run.id, 0));
    });
  });

  it('retries a hook that answers 500 three times, with the same webhook-id, leaving exactly one row', async () => {
    await withHook('saas-app', { phases: ALL_PHASES }, async () => {
      app.injectFault({ status: 500, times: 3, match: 'hook.before-auth0', afterProcessing: true });
      const run = await executeRun(deps, (await createRun(full('h-retry'))).id);
      expect(run.state, run.error).toBe('succeeded');
      const calls = await callsOf(
        hookMessageId(run.id, await stepIndex(run.id, 'hook:saas-app:before-auth0')),
      );
      expect(calls.map((call) => call.status)).toEqual([500, 500, 500, 200]);
      expect(await rowsOf('h-retry')).toHaveLength(1);
    });
  });

  it('fails the run on a 422, removes every Auth0 object it created, and has the app undo its row', async () => {
    await withHook('saas-app', { phases: ALL_PHASES }, async () => {
      app.injectFault({ status: 422, times: 1, match: 'hook.after-auth0' });
      const run = await executeRun(deps, (await createRun(full('h-refused'))).id);
      expect(run.state).toBe('failed');
      expect(run.error).toMatch(/application hook saas-app refused with 422/);

      const orgs = (await api.organizations.list({ take: 100 })).data.filter((o) => o.name === 'h-refused');
      expect(orgs).toEqual([]);
      expect((await api.connections.list({ name: 'h-refused-db', take: 10 })).data).toEqual([]);
      const portal = (await api.clients.list({ per_page: 100 })).data.find((c) => c.name === 'Portal');
      expect(portal?.callbacks).not.toContain('https://h-refused.example.com/callback');
      // The app accepted before-auth0 (its row existed), so its on-compensate ran and removed the row.
      const calls = (await app.hookCalls()).filter((call) => call.orgName === 'h-refused');
      expect(calls.map((call) => [call.type, call.status])).toEqual([
        ['hook.before-auth0', 200],
        ['hook.after-auth0', 422],
        ['hook.on-compensate', 200],
      ]);
      expect(await rowsOf('h-refused')).toEqual([]);
      // What the app returned for the undone call is not kept.
      expect(await store.getOrg('h-refused')).toMatchObject({ status: 'failed', appData: {} });
    });
  });

  it('calls on-remove before anything is deleted in Auth0, and the app removes its row', async () => {
    await withHook('saas-app', { phases: ALL_PHASES }, async () => {
      expect((await executeRun(deps, (await createRun(full('h-gone'))).id)).state).toBe('succeeded');
      expect(await rowsOf('h-gone')).toHaveLength(1);
      const removal = await executeRun(deps, (await createRun('h-gone')).id);
      expect(removal.state, removal.error).toBe('succeeded');
      expect((await store.steps(removal.id))[0]!.step.key).toBe('hook:saas-app:on-remove');
      expect(await rowsOf('h-gone')).toEqual([]);
    });
  });
});

describe('a worker killed between the hook answer and the journal', () => {
  let queue: RunQueue;
  beforeAll(async () => {
    queue = await createJobQueue({
      connectionString: database.url,
      expireInSeconds: 2,
      retryDelaySeconds: 0,
      retryBackoff: false,
      pollIntervalMs: 500,
      maintenanceIntervalSeconds: 1,
      supervise: false,
    });
  });
  afterAll(() => queue?.close({ timeoutMs: 1000 }));

  it(
    'calls the hook again with the same webhook-id, and the app still has one row',
    { timeout: 90_000 },
    async () => {
      await withHook('saas-app', { phases: ALL_PHASES }, async () => {
        const args = ['--poll', '0.5', '--maintenance', '1', '--lease', '2', '--retry-delay', '1'];
        const run = await createRun(full('h-crash'));
        await queue.enqueue(run.id);
        const crashing = processes.start(args, {
          ORGADMIN_TEST_CRASH: 'hook:saas-app:after-auth0@after-call',
        });
        const died = await crashing.exited;
        expect(died.signal, crashing.stderr()).toBe('SIGKILL');
        const index = await stepIndex(run.id, 'hook:saas-app:after-auth0');
        const afterCall = (await store.steps(run.id)).find((step) => step.index === index)!;
        expect(afterCall.status).toBe('started'); // answered by the app, not recorded by orgadmin
        expect(await callsOf(hookMessageId(run.id, index))).toHaveLength(1);

        const recovering = processes.start(args);
        const [finished] = await untilRunsFinished(store, [run.id], 30_000);
        expect(finished!.state, recovering.stderr()).toBe('succeeded');
        expect((await processes.stop(recovering)).code).toBe(0);

        const calls = await callsOf(hookMessageId(run.id, index));
        expect(calls.map((call) => call.status)).toEqual([200, 200]);
        expect(await rowsOf('h-crash')).toHaveLength(1);
        expect((await rowsOf('h-crash'))[0]!.state).toBe('ready');
      });
    },
  );
});

describe('lifecycle events', () => {
  let dispatcher: EventDispatcher | undefined;
  afterEach(async () => {
    app.setDown(false);
    await dispatcher?.stop();
    dispatcher = undefined;
  });

  /** Waits until `check` holds, looking again whenever the dispatcher finished an attempt (or every 100 ms). */
  async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const pendingFor = async (prefix: string) =>
    (await outbox.listEvents({ limit: 500 }))
      .filter((event) => event.orgName.startsWith(prefix))
      .flatMap((event) => event.deliveries.filter((delivery) => delivery.state === 'pending'));

  it(
    'delivers every event of 50 creations and 10 removals after the endpoint comes back, in order per organization',
    { timeout: 180_000 },
    async () => {
      await withHook('events', { events: ['*'] }, async () => {
        app.setDown(true);
        let attempts = 0;
        dispatcher = startEventDispatcher({
          outbox,
          send: sendWebhook,
          concurrency: 16,
          pollMs: 100,
          retry: { baseDelayMs: 50, maxDelayMs: 500 },
          onAttempt: () => (attempts += 1),
        });
        const names = Array.from({ length: 50 }, (_, i) => `ev-${String(i).padStart(2, '0')}`);
        const execute = async (inputs: (OrgSpecInput | string)[]): Promise<void> => {
          const queueOf = [...inputs];
          await Promise.all(
            Array.from({ length: 5 }, async () => {
              for (let next = queueOf.shift(); next !== undefined; next = queueOf.shift()) {
                const run = await executeRun(deps, (await createRun(next)).id);
                expect(run.state, run.error).toBe('succeeded');
              }
            }),
          );
        };
        await execute(names.map((name) => ({ name })));
        await execute(names.slice(0, 10));
        // Down for a while: every organization's first event has failed at least twice.
        await until(
          async () => {
            const events = await outbox.listEvents({ limit: 500 });
            const firsts = new Map<string, number>();
            for (const event of events.filter((e) => e.orgName.startsWith('ev-')))
              firsts.set(event.orgName, event.deliveries[0]!.attempts);
            return firsts.size === 50 && [...firsts.values()].every((count) => count >= 2);
          },
          60_000,
          'failed attempts while the endpoint is down',
        );
        expect((await app.eventsReceived()).filter((e) => e.orgName.startsWith('ev-'))).toEqual([]);

        app.setDown(false);
        dispatcher.notify();
        await until(async () => (await pendingFor('ev-')).length === 0, 60_000, 'every delivery');

        const received = (await app.eventsReceived()).filter((event) => event.orgName.startsWith('ev-'));
        expect(received).toHaveLength(50 * 2 + 10 * 2);
        for (const name of names) {
          const ofOrg = received.filter((event) => event.orgName === name);
          const ids = ofOrg.map((event) => Number(event.eventId));
          expect(ids, name).toEqual([...ids].sort((a, b) => a - b));
          expect(
            ofOrg.map((event) => event.type),
            name,
          ).toEqual(
            names.indexOf(name) < 10
              ? ['organization.created', 'run.succeeded', 'organization.removed', 'run.succeeded']
              : ['organization.created', 'run.succeeded'],
          );
        }
        // The app records an event only after `standardwebhooks` verified it; a forged one is refused and not recorded.
        const forged = await sendWebhook(
          {
            url: app.hookUrl,
            secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
            allowPrivateNetwork: true,
          },
          { id: 'evt_999999', type: 'organization.created', data: received[0] },
        );
        expect(forged.status).toBe(401);
        expect((await app.eventsReceived()).filter((e) => e.orgName.startsWith('ev-'))).toHaveLength(120);
        process.stderr.write(
          `[app-hooks.test] 120 events to 60 organizations: ${attempts} delivery attempts while down and after\n`,
        );
      });
    },
  );

  it('disables a hook whose deliveries keep failing; enabled again, it gets what waited; a replay resends with the same id', async () => {
    await withHook('fragile', { events: ['organization.*'] }, async () => {
      app.setDown(true);
      dispatcher = startEventDispatcher({
        outbox,
        send: sendWebhook,
        pollMs: 50,
        retry: { baseDelayMs: 20, maxDelayMs: 50 },
        disable: { afterFailures: 3, afterMs: 0 },
      });
      expect((await executeRun(deps, (await createRun({ name: 'ev-fragile' })).id)).state).toBe('succeeded');
      await until(async () => (await hooks.getHook('fragile'))?.disabled !== undefined, 20_000, 'disabled');
      const disabled = (await hooks.getHook('fragile'))!.disabled!;
      expect(disabled.reason).toMatch(/3 event deliveries failed in a row.*answered 503/);
      const event = (await outbox.listEvents({ orgName: 'ev-fragile' })).find(
        (candidate) => candidate.type === 'organization.created',
      );
      expect(event!.deliveries).toMatchObject([{ hookName: 'fragile', state: 'pending', attempts: 3 }]);

      app.setDown(false);
      // Still disabled: nothing is sent, nothing is dropped.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await outbox.getEvent(event!.id))!.deliveries[0]!.state).toBe('pending');

      expect(await hooks.enableHook('fragile', 'test')).toBe(true);
      dispatcher.notify();
      await until(
        async () => (await pendingFor('ev-fragile')).length === 0,
        20_000,
        'delivery after enabling',
      );
      const log = (await outbox.getEvent(event!.id))!;
      expect(log.attempts.map((attempt) => attempt.status)).toEqual([503, 503, 503, 200]);

      const before = await callsOf(`evt_${event!.id}`);
      expect(await outbox.replay(event!.id, 'test')).toBe(1);
      dispatcher.notify();
      await until(async () => (await callsOf(`evt_${event!.id}`)).length > before.length, 20_000, 'replay');
      expect((await callsOf(`evt_${event!.id}`)).at(-1)!.status).toBe(200);
      // The app deduplicates by webhook-id: the replay did not make a second received event.
      expect((await app.eventsReceived()).filter((e) => e.webhookId === `evt_${event!.id}`)).toHaveLength(1);
    });
  });
  it(
    'keeps the per-organization order with two dispatchers on their own connections',
    { timeout: 120_000 },
    async () => {
      const otherPool = new pg.Pool({ connectionString: database.url });
      const otherOutbox = createPostgresEvents(otherPool, {
        secrets: loadSecretBox({ home, key: SECRET_KEY }),
      });
      let second: EventDispatcher | undefined;
      try {
        await withHook('pair', { events: ['*'] }, async () => {
          app.setDown(true);
          const names = Array.from({ length: 20 }, (_, i) => `two-${String(i).padStart(2, '0')}`);
          for (const name of names) {
            expect((await executeRun(deps, (await createRun({ name })).id)).state).toBe('succeeded');
            const renamed = { name, displayName: `${name} renamed` };
            expect((await executeRun(deps, (await createRun(renamed)).id)).state).toBe('succeeded');
          }
          const attempts = [0, 0];
          const options = (which: number) => ({
            send: sendWebhook,
            concurrency: 8,
            pollMs: 50,
            retry: { baseDelayMs: 20, maxDelayMs: 100 },
            onAttempt: () => (attempts[which]! += 1),
          });
          dispatcher = startEventDispatcher({ outbox, ...options(0) });
          second = startEventDispatcher({ outbox: otherOutbox, ...options(1) });
          await until(
            () => Promise.resolve(attempts[0]! + attempts[1]! >= 40),
            30_000,
            'failed attempts while down',
          );
          app.setDown(false);
          await until(async () => (await pendingFor('two-')).length === 0, 60_000, 'every delivery');
          // Both took part: the order below is the claim's doing, not one dispatcher's.
          expect(attempts[0]).toBeGreaterThan(0);
          expect(attempts[1]).toBeGreaterThan(0);
          const received = (await app.eventsReceived()).filter((event) => event.orgName.startsWith('two-'));
          expect(received).toHaveLength(20 * 4);
          for (const name of names) {
            expect(
              received.filter((event) => event.orgName === name).map((event) => event.type),
              name,
            ).toEqual(['organization.created', 'run.succeeded', 'organization.updated', 'run.succeeded']);
          }
        });
      } finally {
        await second?.stop();
        await otherPool.end();
      }
    },
  );
});
