/**
 * The PostgreSQL store against a real database (a fresh clone of the migrated template): runs from request to end
 * with the organization row, the one-unfinished-run rule, the append-only audit trail, secrets sealed at rest, the
 * client URL intents ledger, the client lock, and keyset listing.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createPostgresStore,
  RunConflictError,
  StoreError,
} from '../../../src/adapters/postgres/postgres-store.js';
import { createSecretBox } from '../../../src/adapters/postgres/secret-box.js';
import { orgSpecSchema, type OrgSpec } from '../../../src/domain/org-spec.js';
import type { Step } from '../../../src/domain/plan.js';
import type { Store, UrlLists } from '../../../src/ports/store.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

const TENANT = 'acme-test.auth0.local';
const SECRET = 'oidc-client-secret-do-not-leak';
const OPERATOR = 'alice@example.com';

let db: TestDatabase;
let store: Store;
const key = randomBytes(32);

beforeAll(async () => {
  db = await createTestDatabase();
  store = createPostgresStore(db.pool, { secrets: createSecretBox(key) });
});

afterAll(async () => {
  await db.drop();
});

function spec(name: string, extra: { displayName?: string; callbacks?: string[] } = {}): OrgSpec {
  return orgSpecSchema.parse({
    name,
    ...(extra.displayName ? { displayName: extra.displayName } : {}),
    connections: [
      {
        oidc: {
          discoveryUrl: 'https://idp.example.com/.well-known/openid-configuration',
          clientId: 'oidc-client',
          clientSecret: SECRET,
        },
      },
    ],
    applications: [
      { client: 'portal', callbacks: extra.callbacks ?? [`https://${name}.example.com/callback`] },
    ],
  });
}

function plan(orgName: string): Step[] {
  return [
    { kind: 'create-organization', key: 'organization:create', name: orgName, settings: { metadata: {} } },
    {
      kind: 'create-connection',
      key: `connection:${orgName}-oidc:create`,
      connection: {
        name: `${orgName}-oidc`,
        kind: 'oidc',
        strategy: 'oidc',
        options: { client_id: 'oidc-client', client_secret: SECRET },
        fingerprint: 'f'.repeat(32),
      },
    },
    {
      kind: 'enable-org-connection',
      key: `org-connection:${orgName}-oidc:enable`,
      connectionName: `${orgName}-oidc`,
      settings: { assignMembershipOnLogin: false, showAsButton: true, isSignupEnabled: false },
    },
  ];
}

function urls(lists: Partial<UrlLists> = {}): UrlLists {
  return { callbacks: [], logoutUrls: [], webOrigins: [], ...lists };
}

async function apply(orgName: string, desired = spec(orgName)) {
  return store.createRun({ orgName, tenant: TENANT, kind: 'apply', desired, requestedBy: OPERATOR });
}

async function rawText(sql: string, params: unknown[]): Promise<string> {
  const { rows } = await db.pool.query<{ text: string | null }>(sql, params);
  return rows.map((row) => row.text ?? '').join('\n');
}

describe('schema', () => {
  it('is in the template: migration 0002 is applied', async () => {
    const { rows } = await db.pool.query<{ version: number; name: string }>(
      'SELECT version, name FROM orgadmin_migrations ORDER BY version',
    );
    expect(rows).toContainEqual({ version: 2, name: 'organizations_runs' });
  });
});

describe('runs', () => {
  it('records an apply from request to success, with the organization row and the audit trail', async () => {
    const run = await apply('acme');
    expect(run).toMatchObject({
      orgName: 'acme',
      tenant: TENANT,
      kind: 'apply',
      state: 'pending',
      requestedBy: OPERATOR,
      desired: spec('acme'),
      error: undefined,
      startedAt: undefined,
      finishedAt: undefined,
    });
    expect(run.createdAt).toBeInstanceOf(Date);
    expect(await store.getRun(run.id)).toEqual(run);
    expect(await store.getOrg('acme')).toMatchObject({
      name: 'acme',
      tenant: TENANT,
      status: 'provisioning',
      spec: spec('acme'),
      appliedSpec: undefined,
      auth0Ids: {},
      lastRunId: run.id,
      error: undefined,
    });

    await store.startRun(run.id, plan('acme'));
    await store.startRun(run.id, plan('acme')); // idempotent: once per run
    const started = await store.getRun(run.id);
    expect(started?.state).toBe('running');
    expect(started?.startedAt).toBeInstanceOf(Date);
    const steps = await store.steps(run.id);
    expect(steps.map(({ index, phase, status, attempts }) => ({ index, phase, status, attempts }))).toEqual([
      { index: 0, phase: 'forward', status: 'pending', attempts: 0 },
      { index: 1, phase: 'forward', status: 'pending', attempts: 0 },
      { index: 2, phase: 'forward', status: 'pending', attempts: 0 },
    ]);
    expect(steps.map((record) => record.step)).toEqual(plan('acme'));

    await store.markStepStarted(run.id, 0);
    await store.markStepDone(run.id, 0, { organization: 'org_1' });
    await store.markStepStarted(run.id, 1);
    await store.noteStepError(run.id, 1, '429 Too Many Requests');
    await store.markStepStarted(run.id, 1);
    await store.markStepDone(run.id, 1, { 'connection:acme-oidc': 'con_1' });
    await store.markStepStarted(run.id, 2);
    await store.markStepDone(run.id, 2, undefined);
    const done = await store.steps(run.id);
    expect(done[0]).toMatchObject({ status: 'done', attempts: 1, outcome: { organization: 'org_1' } });
    expect(done[1]).toMatchObject({ status: 'done', attempts: 2, lastError: '429 Too Many Requests' });
    expect(done[2]).toMatchObject({ status: 'done', attempts: 1, outcome: undefined });
    for (const record of done) {
      expect(record.startedAt).toBeInstanceOf(Date);
      expect(record.finishedAt).toBeInstanceOf(Date);
    }

    const ids = { organization: 'org_1', 'connection:acme-oidc': 'con_1' };
    await store.finishRun(run.id, 'succeeded', ids);
    await store.finishRun(run.id, 'succeeded', ids); // idempotent
    await expect(store.finishRun(run.id, 'failed', ids, 'late')).rejects.toMatchObject({
      code: 'run.finished',
    });
    const finished = await store.getRun(run.id);
    expect(finished).toMatchObject({ state: 'succeeded', error: undefined });
    expect(finished?.finishedAt).toBeInstanceOf(Date);
    expect(await store.getOrg('acme')).toMatchObject({
      status: 'active',
      spec: spec('acme'),
      appliedSpec: spec('acme'),
      auth0Ids: ids,
      error: undefined,
    });
    expect(
      (await store.audit({ orgName: 'acme' })).map(({ actor, action, runId }) => ({ actor, action, runId })),
    ).toEqual([
      { actor: OPERATOR, action: 'org.apply.succeeded', runId: run.id },
      { actor: OPERATOR, action: 'org.apply.requested', runId: run.id },
    ]);
  });

  it('compensates a failed update: compensation steps appended, organization failed, applied spec kept', async () => {
    const first = await apply('globex');
    await store.startRun(first.id, plan('globex'));
    await store.finishRun(first.id, 'succeeded', { organization: 'org_g' });

    const changed = spec('globex', { displayName: 'Globex Corporation' });
    const run = await apply('globex', changed);
    expect(await store.getOrg('globex')).toMatchObject({
      status: 'provisioning',
      spec: changed,
      appliedSpec: spec('globex'),
    });
    await store.startRun(run.id, plan('globex'));
    await store.markStepStarted(run.id, 0);
    await store.markStepDone(run.id, 0, { 'connection:globex-oidc': 'con_g' });
    await store.markStepStarted(run.id, 1);
    await store.markStepFailed(run.id, 1, 'connection name taken by a foreign object');
    const undo: Step[] = [{ kind: 'delete-organization', key: 'organization:delete', name: 'globex' }];
    await store.startCompensation(run.id, 'connection name taken by a foreign object', undo);
    await store.startCompensation(run.id, 'again', undo); // idempotent
    expect(await store.getRun(run.id)).toMatchObject({
      state: 'compensating',
      error: 'connection name taken by a foreign object',
    });
    const steps = await store.steps(run.id);
    expect(steps.map(({ index, phase, status }) => ({ index, phase, status }))).toEqual([
      { index: 0, phase: 'forward', status: 'done' },
      { index: 1, phase: 'forward', status: 'failed' },
      { index: 2, phase: 'forward', status: 'pending' },
      { index: 3, phase: 'compensation', status: 'pending' },
    ]);
    expect(steps[1]?.lastError).toBe('connection name taken by a foreign object');
    expect(steps[3]?.step).toEqual(undo[0]);

    await store.markStepStarted(run.id, 3);
    await store.markStepDone(run.id, 3, undefined);
    await store.finishRun(run.id, 'failed', { 'connection:globex-oidc': 'con_g' });
    expect(await store.getRun(run.id)).toMatchObject({
      state: 'failed',
      error: 'connection name taken by a foreign object',
    });
    expect(await store.getOrg('globex')).toMatchObject({
      status: 'failed',
      error: 'connection name taken by a foreign object',
      spec: changed,
      appliedSpec: spec('globex'),
      auth0Ids: { organization: 'org_g', 'connection:globex-oidc': 'con_g' },
      lastRunId: run.id,
    });
    await expect(store.startCompensation(run.id, 'x', undo)).rejects.toMatchObject({ code: 'run.finished' });
    const [latest] = await store.audit({ orgName: 'globex', limit: 1 });
    expect(latest).toMatchObject({
      action: 'org.apply.failed',
      before: { status: 'provisioning' },
      after: { status: 'failed', error: 'connection name taken by a foreign object' },
    });
  });

  it('records a removal: organization removing, then removed with nothing applied', async () => {
    const first = await apply('initech');
    await store.finishRun(first.id, 'succeeded', { organization: 'org_i' });
    const run = await store.createRun({
      orgName: 'initech',
      tenant: TENANT,
      kind: 'remove',
      desired: undefined,
      requestedBy: 'cli:bob',
    });
    expect(run).toMatchObject({ kind: 'remove', desired: undefined, state: 'pending' });
    expect(await store.getOrg('initech')).toMatchObject({ status: 'removing', spec: spec('initech') });
    await store.startRun(run.id, []);
    await store.finishRun(run.id, 'succeeded', {});
    expect(await store.getOrg('initech')).toMatchObject({
      status: 'removed',
      appliedSpec: undefined,
      auth0Ids: {},
      error: undefined,
    });
    const [requested, succeeded] = (await store.audit({ orgName: 'initech', limit: 2 })).reverse();
    expect(requested).toMatchObject({ actor: 'cli:bob', action: 'org.remove.requested', after: null });
    expect(succeeded).toMatchObject({ actor: 'cli:bob', action: 'org.remove.succeeded' });
  });

  it('refuses to remove an organization it does not know', async () => {
    const removal = store.createRun({
      orgName: 'nobody',
      tenant: TENANT,
      kind: 'remove',
      desired: undefined,
      requestedBy: OPERATOR,
    });
    await expect(removal).rejects.toBeInstanceOf(StoreError);
    await expect(removal).rejects.toMatchObject({ code: 'org.not_found' });
    expect(await store.getOrg('nobody')).toBeUndefined();
  });

  it('refuses a second unfinished run of an organization and rolls the request back', async () => {
    const run = await apply('umbrella');
    const second = apply('umbrella', spec('umbrella', { displayName: 'Changed' }));
    await expect(second).rejects.toBeInstanceOf(RunConflictError);
    await expect(second).rejects.toMatchObject({ code: 'run.conflict', orgName: 'umbrella', runId: run.id });
    // Nothing of the refused request remains: spec, runs and audit are as before.
    expect((await store.getOrg('umbrella'))?.spec).toEqual(spec('umbrella'));
    expect(await store.listRuns({ orgName: 'umbrella' })).toHaveLength(1);
    expect(await store.audit({ orgName: 'umbrella' })).toHaveLength(1);

    await store.startRun(run.id, []);
    await expect(apply('umbrella')).rejects.toMatchObject({ code: 'run.conflict' });
    await store.startCompensation(run.id, 'boom', []);
    await expect(apply('umbrella')).rejects.toMatchObject({ code: 'run.conflict' });
    await store.finishRun(run.id, 'failed', {});
    expect((await apply('umbrella')).state).toBe('pending');
  });

  it('lets exactly one of two concurrent first requests through', async () => {
    const results = await Promise.allSettled([apply('hooli'), apply('hooli'), apply('hooli')]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((result) => result.status === 'rejected')) {
      expect(result.reason).toBeInstanceOf(RunConflictError);
    }
    expect(await store.listRuns({ orgName: 'hooli' })).toHaveLength(1);
  });

  it('refuses the database-level duplicate too (the partial unique index)', async () => {
    const run = await apply('wayne');
    await expect(
      db.pool.query(
        `INSERT INTO runs (org_name, tenant, kind, requested_by) VALUES ('wayne', $1, 'remove', 'x')`,
        [TENANT],
      ),
    ).rejects.toMatchObject({ code: '23505', constraint: 'runs_one_unfinished_per_org' });
    await store.finishRun(run.id, 'failed', {}, 'gave up');
    expect((await store.getOrg('wayne'))?.error).toBe('gave up');
  });

  it('treats unknown and malformed run ids as not found', async () => {
    expect(await store.getRun('not-a-uuid')).toBeUndefined();
    expect(await store.getRun('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(await store.steps('not-a-uuid')).toEqual([]);
    await expect(store.startRun('00000000-0000-4000-8000-000000000000', [])).rejects.toMatchObject({
      code: 'run.not_found',
    });
    await expect(store.markStepStarted('not-a-uuid', 0)).rejects.toMatchObject({ code: 'run.not_found' });
    const run = await apply('stark');
    await expect(store.markStepDone(run.id, 7, undefined)).rejects.toMatchObject({ code: 'run.not_found' });
  });
});

describe('audit trail', () => {
  it('is append-only: UPDATE, DELETE and TRUNCATE raise', async () => {
    await apply('cyberdyne');
    const count = async () =>
      (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events')).rows[0]?.n;
    const before = await count();
    await expect(db.pool.query(`UPDATE audit_events SET actor = 'mallory'`)).rejects.toThrow(
      /audit_events is append-only: UPDATE/,
    );
    await expect(db.pool.query('DELETE FROM audit_events')).rejects.toThrow(/append-only: DELETE/);
    await expect(db.pool.query('TRUNCATE audit_events CASCADE')).rejects.toThrow(/append-only: TRUNCATE/);
    expect(await count()).toBe(before);
    expect((await store.audit({ orgName: 'cyberdyne' }))[0]?.actor).toBe(OPERATOR);
  });

  it('holds redacted specs: no secret, sealed or not', async () => {
    await apply('soylent');
    const [event] = await store.audit({ orgName: 'soylent' });
    expect(event?.before).toBeNull();
    expect(event?.after).toMatchObject({
      name: 'soylent',
      connections: [{ oidc: { clientId: 'oidc-client', clientSecret: '(set)' } }],
    });
    const raw = await rawText(`SELECT before::text || ' ' || after::text AS text FROM audit_events`, []);
    expect(raw).not.toContain(SECRET);
    expect(raw).not.toContain('$sealed');
  });
});

describe('secrets at rest', () => {
  it('are sealed in every jsonb column and opened on read', async () => {
    const run = await apply('tyrell');
    await store.startRun(run.id, plan('tyrell'));
    await store.finishRun(run.id, 'succeeded', {});

    const raw = [
      await rawText('SELECT spec::text AS text FROM organizations WHERE name = $1', ['tyrell']),
      await rawText('SELECT applied_spec::text AS text FROM organizations WHERE name = $1', ['tyrell']),
      await rawText('SELECT desired::text AS text FROM runs WHERE id = $1', [run.id]),
      await rawText('SELECT step::text AS text FROM run_steps WHERE run_id = $1 AND index = 1', [run.id]),
    ];
    for (const text of raw) {
      expect(text).not.toContain(SECRET);
      expect(text).toMatch(/"\$sealed": "v1:[^"]+"/);
    }
    const everything = await rawText(
      `SELECT string_agg(t::text, ' ') AS text FROM (
         SELECT row_to_json(o) AS t FROM organizations o UNION ALL SELECT row_to_json(r) FROM runs r
         UNION ALL SELECT row_to_json(s) FROM run_steps s UNION ALL SELECT row_to_json(a) FROM audit_events a
       ) everything`,
      [],
    );
    expect(everything).not.toContain(SECRET);

    const org = await store.getOrg('tyrell');
    expect(org?.spec).toEqual(spec('tyrell'));
    expect(org?.appliedSpec).toEqual(spec('tyrell'));
    expect((await store.getRun(run.id))?.desired).toEqual(spec('tyrell'));
    expect((await store.steps(run.id))[1]?.step).toEqual(plan('tyrell')[1]);
  });

  it('cannot be read with another key', async () => {
    await apply('oscorp');
    const stranger = createPostgresStore(db.pool, { secrets: createSecretBox(randomBytes(32)) });
    await expect(stranger.getOrg('oscorp')).rejects.toThrow(/another key/);
  });
});

describe('client URL intents', () => {
  const client = 'portal';

  it('merges with the pending intent of the same organization; the newest wins for a URL in both', async () => {
    const [a, b] = ['intent-a', 'intent-b'];
    await apply(a);
    await apply(b);
    await store.recordClientUrlIntent({
      tenant: TENANT,
      clientName: client,
      orgName: a,
      add: urls({ callbacks: ['https://a/1', 'https://a/2'], webOrigins: ['https://a'] }),
      remove: urls({ logoutUrls: ['https://a/old'] }),
    });
    await store.recordClientUrlIntent({
      tenant: TENANT,
      clientName: client,
      orgName: a,
      add: urls({ callbacks: ['https://a/3'], logoutUrls: ['https://a/old'] }),
      remove: urls({ callbacks: ['https://a/2'] }),
    });
    await store.recordClientUrlIntent({
      tenant: TENANT,
      clientName: client,
      orgName: b,
      add: urls({ callbacks: ['https://b/1'] }),
      remove: urls(),
    });
    await store.recordClientUrlIntent({
      tenant: TENANT,
      clientName: 'other-client',
      orgName: b,
      add: urls({ callbacks: ['https://b/other'] }),
      remove: urls(),
    });

    expect(await store.pendingClientUrlIntents(TENANT, client)).toEqual([
      {
        tenant: TENANT,
        clientName: client,
        orgName: a,
        add: urls({
          callbacks: ['https://a/1', 'https://a/3'],
          logoutUrls: ['https://a/old'],
          webOrigins: ['https://a'],
        }),
        remove: urls({ callbacks: ['https://a/2'] }),
      },
      {
        tenant: TENANT,
        clientName: client,
        orgName: b,
        add: urls({ callbacks: ['https://b/1'] }),
        remove: urls(),
      },
    ]);

    await store.settleClientUrlIntents(TENANT, client, [a]);
    expect((await store.pendingClientUrlIntents(TENANT, client)).map((intent) => intent.orgName)).toEqual([
      b,
    ]);
    await store.settleClientUrlIntents(TENANT, client, [b]);
    expect(await store.pendingClientUrlIntents(TENANT, client)).toEqual([]);
    expect(await store.pendingClientUrlIntents(TENANT, 'other-client')).toHaveLength(1);

    // A settled intent is not merged into: the next one starts afresh, pending again.
    await store.recordClientUrlIntent({
      tenant: TENANT,
      clientName: client,
      orgName: a,
      add: urls(),
      remove: urls({ callbacks: ['https://a/1'] }),
    });
    expect(await store.pendingClientUrlIntents(TENANT, client)).toEqual([
      {
        tenant: TENANT,
        clientName: client,
        orgName: a,
        add: urls(),
        remove: urls({ callbacks: ['https://a/1'] }),
      },
    ]);
  });

  it('does not settle an intent recorded again after the reconciliation read it', async () => {
    const org = 'intent-c';
    await apply(org);
    const first = { tenant: TENANT, clientName: 'late', orgName: org, remove: urls() };
    await store.recordClientUrlIntent({ ...first, add: urls({ callbacks: ['https://c/1'] }) });
    const read = await store.pendingClientUrlIntents(TENANT, 'late');
    // Another run records more while the reconciliation is busy writing what it read.
    await store.recordClientUrlIntent({ ...first, add: urls({ callbacks: ['https://c/2'] }) });
    await store.settleClientUrlIntents(
      TENANT,
      'late',
      read.map((intent) => intent.orgName),
    );
    expect(await store.pendingClientUrlIntents(TENANT, 'late')).toEqual([
      { ...first, add: urls({ callbacks: ['https://c/1', 'https://c/2'] }) },
    ]);
    await store.settleClientUrlIntents(TENANT, 'late', [org]);
    expect(await store.pendingClientUrlIntents(TENANT, 'late')).toEqual([]);
  });
});

describe('client lock', () => {
  async function waitingAdvisoryLocks(): Promise<number> {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks
       WHERE locktype = 'advisory' AND NOT granted
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    return rows[0]?.n ?? 0;
  }

  it('serializes two processes holding the same client: the second starts only after the first finished', async () => {
    // Two store instances stand for two orgadmin processes: the second one waits on the lock in PostgreSQL.
    const otherProcess = createPostgresStore(db.pool, { secrets: createSecretBox(key) });
    const events: string[] = [];
    let releaseFirst = (): void => undefined;
    const gate = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstEntered = (): void => undefined;
    const entered = new Promise<void>((resolve) => (firstEntered = resolve));

    const first = store.withClientLock(TENANT, 'portal', async () => {
      events.push('first:start');
      firstEntered();
      await gate;
      events.push('first:end');
      return 'first';
    });
    await entered;
    const second = otherProcess.withClientLock(TENANT, 'portal', () => {
      events.push('second:start');
      return Promise.resolve('second');
    });
    try {
      // The second holder is queued on the lock in PostgreSQL…
      await vi.waitFor(async () => expect(await waitingAdvisoryLocks()).toBe(1), { timeout: 10_000 });
      expect(events).toEqual(['first:start']);
      // …while another client's lock is free.
      expect(await otherProcess.withClientLock(TENANT, 'other', () => Promise.resolve('other'))).toBe(
        'other',
      );
    } finally {
      // Also on failure, so the held connection does not keep the database from being dropped.
      releaseFirst();
    }
    expect(await Promise.all([first, second])).toEqual(['first', 'second']);
    expect(events).toEqual(['first:start', 'first:end', 'second:start']);
    expect(await waitingAdvisoryLocks()).toBe(0);
  });

  it('serializes holders in one process without running out of pooled connections', async () => {
    await apply('lock-org');
    const holders = 25; // more than the pool's 10 connections
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    const results = await Promise.all(
      Array.from({ length: holders }, (_, index) =>
        store.withClientLock(TENANT, 'busy', async () => {
          inside += 1;
          most = Math.max(most, inside);
          order.push(index);
          // The holder needs connections of its own (what the URL reconciler does inside the lock).
          await store.pendingClientUrlIntents(TENANT, 'busy');
          await store.getOrg('lock-org');
          inside -= 1;
          return index;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: holders }, (_, index) => index));
    expect(order).toEqual(results);
    expect(most).toBe(1);
  });

  it('releases the lock when fn throws', async () => {
    await expect(
      store.withClientLock(TENANT, 'portal', () => Promise.reject(new Error('write failed'))),
    ).rejects.toThrow('write failed');
    expect(await store.withClientLock(TENANT, 'portal', () => Promise.resolve(42))).toBe(42);
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(rows[0]?.n).toBe(0);
  });
});

describe('listing', () => {
  it('pages audit events newest first by id, past ten of them, and filters by actor and time', async () => {
    for (let i = 0; i < 12; i += 1) await store.finishRun((await apply(`audit-${i}`)).id, 'succeeded', {});
    const seen: string[] = [];
    let beforeId: string | undefined;
    for (;;) {
      const page = await store.audit({ limit: 5, ...(beforeId ? { beforeId } : {}) });
      if (page.length === 0) break;
      seen.push(...page.map((event) => event.id));
      beforeId = page.at(-1)!.id;
    }
    const numbers = seen.map(Number);
    expect(numbers).toEqual([...numbers].sort((a, b) => b - a));
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(numbers.length).toBeGreaterThanOrEqual(24);
    const newest = await store.audit({ limit: 1 });
    expect(Number(newest[0]!.id)).toBe(Math.max(...numbers));
    expect(await store.audit({ actor: 'nobody@example.com' })).toEqual([]);
    expect(await store.audit({ since: new Date(Date.now() + 60_000) })).toEqual([]);
    expect((await store.audit({ until: new Date(Date.now() + 60_000), limit: 3 })).length).toBe(3);
  });

  it('pages organizations by name (keyset) and filters by status', async () => {
    const names = ['list-c', 'list-a', 'list-e', 'list-b', 'list-d'];
    const runs = [];
    for (const name of names) runs.push(await apply(name));
    await store.finishRun(runs[0]!.id, 'succeeded', {});
    await store.finishRun(runs[3]!.id, 'succeeded', {});

    const pages: string[][] = [];
    let after = 'list-';
    for (;;) {
      const page = await store.listOrgs({ after, limit: 2 });
      const listed = page.map((org) => org.name).filter((name) => name.startsWith('list-'));
      if (listed.length === 0) break;
      pages.push(listed);
      after = page.at(-1)!.name;
    }
    expect(pages).toEqual([['list-a', 'list-b'], ['list-c', 'list-d'], ['list-e']]);

    const active = await store.listOrgs({ status: 'active' });
    expect(active.map((org) => org.name).filter((name) => name.startsWith('list-'))).toEqual([
      'list-b',
      'list-c',
    ]);
    expect(active.every((org) => org.status === 'active')).toBe(true);
    expect(await store.listOrgs({ status: 'active', after: 'list-b', limit: 1 })).toMatchObject([
      { name: 'list-c' },
    ]);
  });

  it('lists runs newest first and unfinished runs oldest first', async () => {
    const made = [];
    for (const name of ['order-1', 'order-2', 'order-3']) made.push(await apply(name));
    await store.finishRun(made[1]!.id, 'succeeded', {});
    const ids = made.map((run) => run.id);

    const newest = (await store.listRuns({})).filter((run) => ids.includes(run.id));
    expect(newest.map((run) => run.orgName)).toEqual(['order-3', 'order-2', 'order-1']);
    expect((await store.listRuns({ orgName: 'order-2' })).map((run) => run.id)).toEqual([ids[1]]);
    expect(await store.listRuns({ limit: 1 })).toHaveLength(1);

    const unfinished = (await store.unfinishedRuns()).filter((run) => ids.includes(run.id));
    expect(unfinished.map((run) => run.orgName)).toEqual(['order-1', 'order-3']);
  });
});
