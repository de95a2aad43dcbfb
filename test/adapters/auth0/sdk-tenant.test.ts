/**
 * The SDK-backed `Auth0Tenant` against auth0-local: every step kind through the planner's own plans (create, modify,
 * remove — converging to an empty plan each time), `reconcile()` before and after each step, never adopting a
 * foreign object, and the classification of Auth0's answers into retryable and permanent failures.
 */
import { ManagementError, ManagementTimeoutError, type ManagementClient } from 'auth0';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { classifyAuth0Error, retryAtFrom } from '../../../src/adapters/auth0/classify.js';
import { createSdkTenant, RUN_TAG } from '../../../src/adapters/auth0/sdk-tenant.js';
import { connectionNameFor, ORG_ADMIN_ROLE } from '../../../src/domain/naming.js';
import { connectionKind, type OrgSpec, type OrgSpecInput } from '../../../src/domain/org-spec.js';
import {
  desiredConnections,
  OPTIONS_TAG,
  OWNER_TAG,
  plan,
  type Step,
  type UrlLists,
} from '../../../src/domain/plan.js';
import { validateSpecs } from '../../../src/domain/spec-document.js';
import {
  Auth0Failure,
  type Auth0Tenant,
  type ObserveRequest,
  type StepContext,
} from '../../../src/ports/auth0-tenant.js';
import { managementClient, startTestAuth0Local, type TestAuth0Local } from '../../helpers/auth0-local.js';

let local: TestAuth0Local;
let api: ManagementClient;
let tenant: Auth0Tenant;
let defaultAppId: string;

const spec = (input: OrgSpecInput): OrgSpec => validateSpecs([input])[0]!;
const context = (orgName: string, runId = 'run_1'): StepContext => ({ orgName, runId, ids: {} });
const UPA = 'Username-Password-Authentication';
const FOREIGN_CALLBACK = 'https://other.example.com/callback';

function observeRequest(...specs: (OrgSpec | undefined)[]): ObserveRequest {
  const present = specs.filter((s) => s !== undefined);
  const first = present[0]!;
  return {
    orgName: first.name,
    connectionNames: present.flatMap((s) =>
      s.connections.map((entry) =>
        'shared' in entry
          ? entry.shared
          : connectionNameFor(
              s.name,
              connectionKind(entry) as Exclude<ReturnType<typeof connectionKind>, 'shared'>,
            ),
      ),
    ),
    clientNames: present.flatMap((s) => s.applications.map((app) => app.client)),
    // As a plan shown to people reads: with the applications' URL lists, so plans converge to nothing.
    clientUrls: true,
    adminEmail: present.find((s) => s.admin)?.admin?.email,
    adminRoleName: ORG_ADMIN_ROLE,
  };
}

async function planFor(desired: OrgSpec | undefined, applied: OrgSpec | undefined): Promise<Step[]> {
  const observed = await tenant.observe(observeRequest(desired, applied));
  return plan({ desired, applied, observed });
}

function editUrls(current: UrlLists, change: UrlLists, add: boolean): UrlLists {
  const edit = (list: string[], delta: string[]): string[] =>
    add
      ? [...list, ...delta.filter((url) => !list.includes(url))]
      : list.filter((url) => !delta.includes(url));
  return {
    callbacks: edit(current.callbacks, change.callbacks),
    logoutUrls: edit(current.logoutUrls, change.logoutUrls),
    webOrigins: edit(current.webOrigins, change.webOrigins),
  };
}

/** Carries out steps the way the engine does; with `checkReconcile`, reconciles each step before and after. */
async function apply(steps: Step[], ctx: StepContext, checkReconcile = false): Promise<string[]> {
  const urls: string[] = [];
  for (const step of steps) {
    if (checkReconcile)
      expect((await tenant.reconcile(step, ctx)).state, `${step.key} before`).toBe('absent');
    if (step.kind === 'add-client-urls' || step.kind === 'remove-client-urls') {
      const current = (await tenant.readClientUrls(step.clientName))!;
      await tenant.writeClientUrls(
        current.clientId,
        editUrls(current, step.urls, step.kind === 'add-client-urls'),
      );
    } else {
      const outcome = await tenant.execute(step, ctx);
      Object.assign(ctx.ids, outcome.ids ?? {});
      if (outcome.url) urls.push(outcome.url);
    }
    if (checkReconcile) {
      const repeatable = step.kind === 'add-admin-member' || step.kind === 'send-password-ticket';
      expect((await tenant.reconcile(step, ctx)).state, `${step.key} after`).toBe(
        repeatable ? 'absent' : 'done',
      );
    }
  }
  return urls;
}

async function failureOf(promise: Promise<unknown>): Promise<Auth0Failure> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(Auth0Failure);
    return error as Auth0Failure;
  }
  throw new Error('expected an Auth0Failure');
}

const requests = (method: string, path: RegExp): number =>
  local.requestLog.list().filter((entry) => entry.method === method && path.test(entry.path)).length;

beforeAll(async () => {
  // A tenant created after January 2026: the legacy `enabled_clients` field is refused, so sending it would fail.
  local = await startTestAuth0Local({ legacyEnabledClients: false });
  api = managementClient(local, { maxRetries: 0 });
  tenant = createSdkTenant({
    domain: local.domain,
    clientId: local.clientId,
    clientSecret: local.clientSecret,
  });
  const { data } = await api.clients.list({ per_page: 100 });
  defaultAppId = data.find((client) => client.name === 'Default App')!.client_id!;
  await api.clients.update(defaultAppId, {
    initiate_login_uri: 'https://app.example.com/login',
    callbacks: [FOREIGN_CALLBACK],
  });
});
afterAll(async () => {
  await local.close();
});

describe('an organization through its life: create, modify, remove', () => {
  const acme = spec({
    name: 'acme',
    displayName: 'Acme',
    isolation: 'isolated-database',
    metadata: { tier: 'gold', region: 'eu' },
    branding: {
      logoUrl: 'https://acme.example.com/logo.png',
      colors: { primary: '#112233', pageBackground: '#ffffff' },
    },
    connections: [{ database: {}, assignMembershipOnLogin: true }, { shared: UPA }],
    applications: [{ client: 'Default App', callbacks: ['https://acme.example.com/callback'] }],
    admin: { email: 'ada@acme.example.com', name: 'Ada', via: 'password-ticket' },
  });
  const acme2 = spec({
    ...acme,
    displayName: 'Acme Corporation',
    metadata: { tier: 'platinum', owner: 'sales' },
    connections: [{ database: { passwordPolicy: 'excellent' }, assignMembershipOnLogin: false }],
    applications: [{ client: 'Default App', callbacks: ['https://acme.example.com/v2/callback'] }],
  });
  const ctx = context('acme');

  it('observes nothing of an organization that does not exist yet', async () => {
    const observed = await tenant.observe(observeRequest(acme));
    expect(observed).toEqual({
      connections: [
        {
          id: expect.stringMatching(/^con_/),
          name: UPA,
          strategy: 'auth0',
          metadata: {},
          enabledClientNames: expect.arrayContaining(['Default App']),
        },
      ],
      clients: [{ name: 'Default App', callbacks: [FOREIGN_CALLBACK], logoutUrls: [], webOrigins: [] }],
      adminRoleExists: false,
    });
  });

  it('creates everything, reconciling each step before (absent) and after (done), and converges', async () => {
    const steps = await planFor(acme, undefined);
    expect(steps.map((step) => step.kind)).toEqual([
      'create-organization',
      'create-connection',
      'enable-connection-for-clients',
      'enable-org-connection',
      'enable-org-connection',
      'add-client-urls',
      'ensure-admin-role',
      'create-admin-user',
      'add-admin-member',
      'assign-admin-role',
      'send-password-ticket',
    ]);
    const urls = await apply(steps, ctx, true);
    expect(urls).toEqual([
      expect.stringMatching(new RegExp(`^https://${local.domain}/u/reset-password\\?ticket=`)),
    ]);
    expect(Object.keys(ctx.ids).sort()).toEqual(
      [
        'organization',
        'connection:acme-db',
        `connection:${UPA}`,
        'client:Default App',
        'role:org-admin',
        'user:ada@acme.example.com',
      ].sort(),
    );
    expect(await planFor(acme, undefined)).toEqual([]);

    const org = await api.organizations.getByName('acme');
    expect(org).toMatchObject({
      id: ctx.ids['organization'],
      display_name: 'Acme',
      branding: {
        logo_url: 'https://acme.example.com/logo.png',
        colors: { primary: '#112233', page_background: '#ffffff' },
      },
      metadata: { tier: 'gold', region: 'eu', [OWNER_TAG]: 'acme', [RUN_TAG]: 'run_1' },
    });
    const connection = await api.connections.get(ctx.ids['connection:acme-db']!);
    expect(connection.metadata).toEqual({
      [OWNER_TAG]: 'acme',
      [OPTIONS_TAG]: desiredConnections(acme)[0]!.fingerprint,
      [RUN_TAG]: 'run_1',
    });
    const enabled = await api.organizations.enabledConnections.get(org.id!, connection.id!);
    expect(enabled).toMatchObject({
      assign_membership_on_login: true,
      show_as_button: true,
      is_signup_enabled: false,
    });
    const [user] = await api.users.listUsersByEmail({ email: 'ada@acme.example.com' });
    expect(user).toMatchObject({ name: 'Ada', email_verified: false, app_metadata: { [OWNER_TAG]: 'acme' } });
    expect(user!.identities![0]!.connection).toBe('acme-db');
    const roles = await api.organizations.members.roles.list(org.id!, user!.user_id!);
    expect(roles.data.map((role) => role.name)).toEqual(['org-admin']);
    expect((await api.clients.get(defaultAppId)).callbacks).toEqual([
      FOREIGN_CALLBACK,
      'https://acme.example.com/callback',
    ]);
  });

  it('observes the organization it created in the shape the planner reads', async () => {
    const observed = await tenant.observe(observeRequest(acme));
    expect(observed).toEqual({
      organization: {
        id: ctx.ids['organization'],
        name: 'acme',
        displayName: 'Acme',
        branding: {
          logoUrl: 'https://acme.example.com/logo.png',
          colors: { primary: '#112233', pageBackground: '#ffffff' },
        },
        metadata: { tier: 'gold', region: 'eu', [OWNER_TAG]: 'acme', [RUN_TAG]: 'run_1' },
      },
      connections: [
        {
          id: ctx.ids['connection:acme-db'],
          name: 'acme-db',
          strategy: 'auth0',
          metadata: {
            [OWNER_TAG]: 'acme',
            [OPTIONS_TAG]: desiredConnections(acme)[0]!.fingerprint,
            [RUN_TAG]: 'run_1',
          },
          onOrg: { assignMembershipOnLogin: true, showAsButton: true, isSignupEnabled: false },
          enabledClientNames: ['Default App'],
        },
        {
          id: ctx.ids[`connection:${UPA}`],
          name: UPA,
          strategy: 'auth0',
          metadata: {},
          onOrg: { assignMembershipOnLogin: false, showAsButton: true, isSignupEnabled: false },
          enabledClientNames: expect.arrayContaining(['Default App']),
        },
      ],
      clients: [
        {
          name: 'Default App',
          callbacks: [FOREIGN_CALLBACK, 'https://acme.example.com/callback'],
          logoutUrls: [],
          webOrigins: [],
        },
      ],
      adminRoleExists: true,
      admin: { email: 'ada@acme.example.com', createdByOrgadmin: true },
    });
  });

  it('repeats creates without duplicating anything (adopting only its own objects)', async () => {
    const again = context('acme', 'run_2');
    const created = await tenant.execute(
      { kind: 'create-organization', key: 'organization:create', name: 'acme', settings: { metadata: {} } },
      again,
    );
    expect(created.ids).toEqual({ organization: ctx.ids['organization'] });
    const connection = await tenant.execute(
      { kind: 'create-connection', key: 'c', connection: desiredConnections(acme)[0]! },
      again,
    );
    expect(connection.ids).toEqual({ 'connection:acme-db': ctx.ids['connection:acme-db'] });
    const user = await tenant.execute(
      {
        kind: 'create-admin-user',
        key: 'admin:user',
        email: 'ada@acme.example.com',
        connectionName: 'acme-db',
      },
      again,
    );
    expect(user.ids).toEqual({ 'user:ada@acme.example.com': ctx.ids['user:ada@acme.example.com'] });
    await tenant.execute(
      {
        kind: 'enable-org-connection',
        key: 'e',
        connectionName: 'acme-db',
        settings: { assignMembershipOnLogin: true, showAsButton: true, isSignupEnabled: false },
      },
      again,
    );
    await tenant.execute({ kind: 'add-admin-member', key: 'm', email: 'ada@acme.example.com' }, again);
    expect((await api.organizations.list()).data.filter((org) => org.name === 'acme')).toHaveLength(1);
    expect(await api.users.listUsersByEmail({ email: 'ada@acme.example.com' })).toHaveLength(1);
  });

  it('modifies only the difference, removing dropped metadata keys', async () => {
    const steps = await planFor(acme2, acme);
    expect(steps.map((step) => step.kind)).toEqual([
      'update-organization',
      'update-connection',
      'update-org-connection',
      'disable-org-connection',
      'add-client-urls',
      'remove-client-urls',
    ]);
    await apply(steps, context('acme', 'run_3'), true);
    expect(await planFor(acme2, acme)).toEqual([]);

    const org = await api.organizations.getByName('acme');
    expect(org.display_name).toBe('Acme Corporation');
    expect(org.metadata).toEqual({
      tier: 'platinum',
      owner: 'sales',
      [OWNER_TAG]: 'acme',
      [RUN_TAG]: 'run_3',
    });
    const connection = await api.connections.get(ctx.ids['connection:acme-db']!);
    expect(connection.options).toMatchObject({ passwordPolicy: 'excellent' });
    expect(connection.metadata?.[OPTIONS_TAG]).toBe(desiredConnections(acme2)[0]!.fingerprint);
    const onOrg = await api.organizations.enabledConnections.list(org.id!);
    expect(onOrg.data.map((item) => [item.connection?.name, item.assign_membership_on_login])).toEqual([
      ['acme-db', false],
    ]);
    expect((await api.clients.get(defaultAppId)).callbacks).toEqual([
      FOREIGN_CALLBACK,
      'https://acme.example.com/v2/callback',
    ]);
  });

  it('removes only what it owns, and repeating the removal is harmless', async () => {
    const steps = await planFor(undefined, acme2);
    expect(steps.map((step) => step.kind)).toEqual([
      'remove-client-urls',
      'delete-admin-user',
      'disable-org-connection',
      'delete-connection',
      'delete-organization',
    ]);
    await apply(steps, context('acme', 'run_4'), true);
    for (const step of steps) {
      if (step.kind !== 'remove-client-urls') expect(await tenant.execute(step, context('acme'))).toEqual({});
      expect((await tenant.reconcile(step, context('acme'))).state).toBe('done');
    }
    expect(await tenant.observe(observeRequest(acme2))).toEqual({
      connections: [],
      clients: [{ name: 'Default App', callbacks: [FOREIGN_CALLBACK], logoutUrls: [], webOrigins: [] }],
      adminRoleExists: true,
    });
    // The shared connection and the tenant role stay.
    expect((await api.connections.list({ name: UPA })).data).toHaveLength(1);
  });
});

describe("Auth0's 25 metadata keys", () => {
  const keys = (prefix: string, count: number): Record<string, string> =>
    Object.fromEntries(Array.from({ length: count }, (_, index) => [`${prefix}${index}`, 'v']));

  it('leaves the run tag out when the user metadata uses 24 keys, and removes many keys in batches', async () => {
    const ctx = context('roomy');
    const full = keys('a', 24);
    await apply(
      [{ kind: 'create-organization', key: 'o', name: 'roomy', settings: { metadata: full } }],
      ctx,
    );
    const created = await api.organizations.getByName('roomy');
    expect(created.metadata).toEqual({ ...full, [OWNER_TAG]: 'roomy' });

    const replacement = keys('b', 24);
    local.requestLog.clear();
    await tenant.execute(
      {
        kind: 'update-organization',
        key: 'u',
        name: 'roomy',
        changes: { metadata: replacement },
        previous: { metadata: full },
      },
      ctx,
    );
    expect(requests('PATCH', /^\/api\/v2\/organizations\//)).toBe(2);
    expect((await api.organizations.getByName('roomy')).metadata).toEqual({
      ...replacement,
      [OWNER_TAG]: 'roomy',
    });

    await tenant.execute(
      {
        kind: 'update-organization',
        key: 'u2',
        name: 'roomy',
        changes: { metadata: { small: 'yes' } },
        previous: { metadata: replacement },
      },
      context('roomy', 'run_9'),
    );
    expect((await api.organizations.getByName('roomy')).metadata).toEqual({
      small: 'yes',
      [OWNER_TAG]: 'roomy',
      [RUN_TAG]: 'run_9',
    });
  });
});

describe('the invitation path', () => {
  const beta = spec({
    name: 'beta',
    connections: [{ shared: UPA, assignMembershipOnLogin: true }],
    applications: [{ client: 'Default App' }],
    admin: { email: 'bob@beta.example.com', via: 'invitation' },
  });

  it('invites once, reuses the pending invitation, and observes the invited admin', async () => {
    const ctx = context('beta');
    const steps = await planFor(beta, undefined);
    expect(steps.map((step) => step.kind)).toEqual([
      'create-organization',
      'enable-org-connection',
      'invite-admin',
    ]);
    const [url] = await apply(steps, ctx, true);
    expect(url).toContain('https://app.example.com/login?invitation=');

    const invite = steps.at(-1)!;
    const again = await tenant.execute(invite, ctx);
    expect(again.url).toBe(url);
    const invitations = await api.organizations.invitations.list(ctx.ids['organization']!);
    expect(invitations.data).toHaveLength(1);
    expect(invitations.data[0]).toMatchObject({
      inviter: { name: 'orgadmin' },
      invitee: { email: 'bob@beta.example.com' },
      client_id: defaultAppId,
      connection_id: ctx.ids[`connection:${UPA}`],
      roles: [expect.stringMatching(/^rol_/)],
    });
    expect((await tenant.observe(observeRequest(beta))).admin).toEqual({
      email: 'bob@beta.example.com',
      createdByOrgadmin: false,
    });
    expect(await planFor(beta, undefined)).toEqual([]);
  });
});

describe('objects orgadmin did not create', () => {
  const foreign = spec({
    name: 'foreign-co',
    isolation: 'isolated-database',
    connections: [{ database: {} }],
  });

  beforeAll(async () => {
    await api.organizations.create({ name: 'foreign-co', metadata: { team: 'someone else' } });
    await api.connections.create({ name: 'foreign-co-db', strategy: 'auth0' });
    await api.users.create({
      connection: UPA,
      email: 'eve@foreign.example.com',
      password: 'Correct-Horse-9',
    });
  });

  it('reconciles them as foreign and never adopts, updates or deletes them', async () => {
    const ctx = context('foreign-co');
    const createOrg: Step = {
      kind: 'create-organization',
      key: 'o',
      name: 'foreign-co',
      settings: { metadata: {} },
    };
    const createConnection: Step = {
      kind: 'create-connection',
      key: 'c',
      connection: desiredConnections(foreign)[0]!,
    };
    const createUser: Step = {
      kind: 'create-admin-user',
      key: 'u',
      email: 'eve@foreign.example.com',
      connectionName: UPA,
    };
    for (const step of [createOrg, createConnection, createUser]) {
      const reconciliation = await tenant.reconcile(step, ctx);
      expect(reconciliation).toEqual({
        state: 'foreign',
        message: expect.stringContaining('not created by orgadmin'),
      });
      const failure = await failureOf(tenant.execute(step, ctx));
      expect(failure.retryable).toBe(false);
      expect(failure.message).toContain('not created by orgadmin');
    }
    const others: Step[] = [
      {
        kind: 'update-organization',
        key: 'u',
        name: 'foreign-co',
        changes: { displayName: 'Mine' },
        previous: {},
      },
      { kind: 'delete-organization', key: 'd', name: 'foreign-co' },
      { kind: 'update-connection', key: 'uc', connection: desiredConnections(foreign)[0]! },
      { kind: 'delete-connection', key: 'dc', connectionName: 'foreign-co-db' },
      {
        kind: 'enable-org-connection',
        key: 'e',
        connectionName: UPA,
        settings: { assignMembershipOnLogin: false, showAsButton: true, isSignupEnabled: false },
      },
      { kind: 'invite-admin', key: 'i', email: 'eve@foreign.example.com', clientName: 'Default App' },
    ];
    for (const step of others) {
      expect((await tenant.reconcile(step, ctx)).state).toBe('foreign');
      expect((await failureOf(tenant.execute(step, ctx))).retryable).toBe(false);
    }
    // Deleting "our" admin leaves a foreign user with the address alone.
    expect(
      await tenant.execute({ kind: 'delete-admin-user', key: 'x', email: 'eve@foreign.example.com' }, ctx),
    ).toEqual({});

    const org = await api.organizations.getByName('foreign-co');
    expect(org.metadata).toEqual({ team: 'someone else' });
    expect(org.display_name).toBeUndefined();
    expect((await api.connections.list({ name: 'foreign-co-db' })).data[0]?.metadata).toBeUndefined();
    expect(await api.users.listUsersByEmail({ email: 'eve@foreign.example.com' })).toHaveLength(1);
    // The planner sees the foreign connection for what it is.
    const observed = await tenant.observe(observeRequest(foreign));
    expect(observed.organization?.metadata).toEqual({ team: 'someone else' });
    expect(observed.connections[0]?.metadata).toEqual({});
  });
});

describe('applications', () => {
  it('reads and writes the three URL lists of one application by name', async () => {
    const before = await tenant.readClientUrls('Default App');
    expect(before).toEqual({
      clientId: defaultAppId,
      callbacks: [FOREIGN_CALLBACK],
      logoutUrls: [],
      webOrigins: [],
    });
    await tenant.writeClientUrls(defaultAppId, {
      callbacks: [FOREIGN_CALLBACK, 'https://x.example.com/cb'],
      logoutUrls: ['https://x.example.com/'],
      webOrigins: ['https://x.example.com'],
    });
    const client = await api.clients.get(defaultAppId);
    expect([client.callbacks, client.allowed_logout_urls, client.web_origins]).toEqual([
      [FOREIGN_CALLBACK, 'https://x.example.com/cb'],
      ['https://x.example.com/'],
      ['https://x.example.com'],
    ]);
    await tenant.writeClientUrls(defaultAppId, {
      callbacks: [FOREIGN_CALLBACK],
      logoutUrls: [],
      webOrigins: [],
    });
  });

  it('refuses ambiguous or unknown application names, and leaves URL steps to the engine', async () => {
    await api.clients.create({ name: 'Twin' });
    await api.clients.create({ name: 'Twin' });
    expect((await failureOf(tenant.readClientUrls('Twin'))).message).toContain(
      '2 applications are named Twin',
    );
    expect(await tenant.readClientUrls('Nobody')).toBeUndefined();
    const urls = { callbacks: ['https://a.example.com/cb'], logoutUrls: [], webOrigins: [] };
    await expect(
      tenant.execute({ kind: 'add-client-urls', key: 'k', clientName: 'Default App', urls }, context('acme')),
    ).rejects.toThrow(/engine/);
  });

  const enableFor = (connectionName: string, clientNames: string[]): Step => ({
    kind: 'enable-connection-for-clients',
    key: `connection:${connectionName}:clients`,
    connectionName,
    clientNames,
  });
  /** A tenant of its own: its application directory starts empty. */
  const freshTenant = (): Auth0Tenant =>
    createSdkTenant({ domain: local.domain, clientId: local.clientId, clientSecret: local.clientSecret });
  const listings = (): number => requests('GET', /^\/api\/v2\/clients$/);
  const byId = (): number => requests('GET', /^\/api\/v2\/clients\/[^/]+$/);

  it('lists the applications once per process, however many organizations it observes, and reads lists by id', async () => {
    const fresh = freshTenant();
    local.requestLog.clear();
    for (const name of ['one', 'two', 'three', 'four']) {
      const observed = await fresh.observe({
        orgName: name,
        connectionNames: [UPA],
        clientNames: ['Default App'],
        adminRoleName: ORG_ADMIN_ROLE,
      });
      // A run's observation: no URL lists (its reconciler reads them), but which applications are enabled.
      expect(observed.clients).toBeUndefined();
      expect(observed.connections[0]?.enabledClientNames).toEqual(['Default App']);
    }
    expect((await fresh.readClientUrls('Default App'))?.clientId).toBe(defaultAppId);
    expect((await fresh.readClientUrls('Default App'))?.clientId).toBe(defaultAppId);
    expect(listings()).toBe(1);
    expect(byId()).toBe(2);
  });

  it('lists again when a cached id is stale (deleted and created again, or renamed) and then succeeds', async () => {
    const fresh = freshTenant();
    const first = await api.clients.create({ name: 'Phoenix', callbacks: ['https://first.example.com/cb'] });
    expect((await fresh.readClientUrls('Phoenix'))?.clientId).toBe(first.client_id);

    // Deleted and created again under the same name: GET by the cached id is a 404.
    await api.clients.delete(first.client_id!);
    const second = await api.clients.create({
      name: 'Phoenix',
      callbacks: ['https://second.example.com/cb'],
    });
    local.requestLog.clear();
    expect(await fresh.readClientUrls('Phoenix')).toEqual({
      clientId: second.client_id,
      callbacks: ['https://second.example.com/cb'],
      logoutUrls: [],
      webOrigins: [],
    });
    expect(listings()).toBe(1);

    // Renamed, and another application took the name: the cached id answers with another name.
    await api.clients.update(second.client_id!, { name: 'Phoenix (old)' });
    const third = await api.clients.create({ name: 'Phoenix' });
    expect((await fresh.readClientUrls('Phoenix'))?.clientId).toBe(third.client_id);

    // A write-side call with a stale id (a 404 from PATCH /connections/{id}/clients) lists again and succeeds.
    await api.clients.delete(third.client_id!);
    const fourth = await api.clients.create({ name: 'Phoenix' });
    const connection = await api.connections.create({ name: 'phoenix-db', strategy: 'auth0' });
    local.requestLog.clear();
    expect(await fresh.execute(enableFor('phoenix-db', ['Phoenix']), context('phoenix'))).toEqual({
      ids: { 'connection:phoenix-db': connection.id, 'client:Phoenix': fourth.client_id },
    });
    expect(listings()).toBe(1);
    const enabled = await api.connections.clients.get(connection.id!, { take: 100 });
    expect(enabled.data.map((client) => client.client_id)).toEqual([fourth.client_id]);

    // Gone for good: no application by that name (after one more listing), and a write to it is retried.
    await api.clients.delete(fourth.client_id!);
    expect(await fresh.readClientUrls('Phoenix')).toBeUndefined();
    const write = await failureOf(
      fresh.writeClientUrls(fourth.client_id!, { callbacks: [], logoutUrls: [], webOrigins: [] }),
    );
    expect(write.retryable).toBe(true);
  });

  it('enables a connection for more than 50 applications in batches of 50', async () => {
    const names = Array.from({ length: 55 }, (_, index) => `Batch App ${index}`);
    for (const name of names) await api.clients.create({ name });
    const connection = await api.connections.create({ name: 'batch-db', strategy: 'auth0' });
    local.requestLog.clear();
    const step = enableFor('batch-db', names);
    await tenant.execute(step, context('batch'));
    expect(requests('PATCH', /^\/api\/v2\/connections\/[^/]+\/clients$/)).toBe(2);
    const enabled = await api.connections.clients.get(connection.id!, { take: 100 });
    expect(enabled.data).toHaveLength(55);
    expect((await tenant.reconcile(step, context('batch'))).state).toBe('done');
  });
});

describe('failure classification', () => {
  const orgStep = (name: string): Step => ({
    kind: 'create-organization',
    key: 'o',
    name,
    settings: { metadata: {} },
  });

  it('a 503 is retryable, is not retried by the SDK, and changed nothing', async () => {
    local.requestLog.clear();
    local.faults.add({ method: 'POST', path: '^/api/v2/organizations$', status: 503, times: 1 });
    const failure = await failureOf(tenant.execute(orgStep('flaky'), context('flaky')));
    expect(failure.details).toMatchObject({ retryable: true, status: 503 });
    expect(requests('POST', /^\/api\/v2\/organizations$/)).toBe(1);
    expect(await tenant.reconcile(orgStep('flaky'), context('flaky'))).toEqual({ state: 'absent' });
    expect((await tenant.execute(orgStep('flaky'), context('flaky'))).ids?.['organization']).toMatch(/^org_/);
  });

  it('a 429 is retryable with retryAt from x-ratelimit-reset', async () => {
    local.faults.add({ method: 'GET', path: '^/api/v2/organizations/name/', status: 429, times: 1 });
    const before = Date.now();
    const failure = await failureOf(tenant.observe(observeRequest(spec({ name: 'limited' }))));
    expect(failure.details).toMatchObject({ retryable: true, status: 429, errorCode: 'too_many_requests' });
    expect(failure.details.retryAt).toBeGreaterThan(before);
    expect(failure.details.retryAt).toBeLessThanOrEqual(before + 2_000);
  });

  it('a dropped answer is a retryable network error, and reconcile finds the effect', async () => {
    const desired = desiredConnections(
      spec({ name: 'dropped', isolation: 'isolated-database', connections: [{ database: {} }] }),
    )[0]!;
    const step: Step = { kind: 'create-connection', key: 'c', connection: desired };
    local.faults.add({ method: 'POST', path: '^/api/v2/connections$', dropAfterApply: true, times: 1 });
    const failure = await failureOf(tenant.execute(step, context('dropped')));
    expect(failure.retryable).toBe(true);
    expect(failure.details.status).toBeUndefined();
    const reconciliation = await tenant.reconcile(step, context('dropped'));
    expect(reconciliation).toEqual({
      state: 'done',
      outcome: { ids: { 'connection:dropped-db': expect.stringMatching(/^con_/) } },
    });
  });

  it("a 400 is permanent and keeps Auth0's message and errorCode", async () => {
    const step: Step = {
      kind: 'create-connection',
      key: 'c',
      connection: {
        name: 'bad-saml',
        kind: 'saml',
        strategy: 'samlp',
        options: { metadataXml: '<EntityDescriptor/>' },
        fingerprint: 'f',
      },
    };
    const failure = await failureOf(tenant.execute(step, context('bad')));
    expect(failure.details).toMatchObject({ retryable: false, status: 400, errorCode: 'invalid_body' });
    expect(failure.message).toContain('The metadata XML does not contain a SingleSignOnService location');
    expect(failure.message).toContain('POST /connections');
  });

  it('a timeout is retryable', async () => {
    const slow = createSdkTenant({ domain: local.domain, client: api, timeoutInSeconds: 0.2 });
    local.faults.add({ method: 'GET', path: '^/api/v2/roles', latencyMs: 600, times: 1 });
    const failure = await failureOf(
      slow.execute({ kind: 'ensure-admin-role', key: 'r', roleName: 'slow-role' }, context('slow')),
    );
    expect(failure.details).toMatchObject({ retryable: true });
    expect(failure.message).toContain('timed out');
  });

  it('a refused connection is retryable; bad credentials are permanent', async () => {
    const closed = createSdkTenant({ domain: '127.0.0.1:9', clientId: 'x', clientSecret: 'y' });
    expect((await failureOf(closed.readClientUrls('Default App'))).retryable).toBe(true);
    const wrong = createSdkTenant({ domain: local.domain, clientId: local.clientId, clientSecret: 'wrong' });
    const failure = await failureOf(wrong.readClientUrls('Default App'));
    expect(failure.details).toMatchObject({ retryable: false, status: 401 });
  });

  it('classifies SDK errors without a server', () => {
    const response = (status: number, headers: Record<string, string> = {}): Response =>
      new Response(null, { status, headers });
    const now = 1_700_000_000_000;
    const limited = classifyAuth0Error(
      new ManagementError({
        statusCode: 429,
        body: { message: 'slow down' },
        rawResponse: response(429, { 'retry-after': '7' }),
      }),
      'GET /x',
      now,
    );
    expect(limited.details).toEqual({
      retryable: true,
      status: 429,
      errorCode: undefined,
      retryAt: now + 7_000,
    });
    expect(limited.message).toBe('GET /x: 429 slow down');
    const unavailable = classifyAuth0Error(
      new ManagementError({ statusCode: 502, body: 'Bad gateway' }),
      'GET /x',
      now,
    );
    expect(unavailable.details).toMatchObject({ retryable: true, status: 502, retryAt: undefined });
    const conflict = classifyAuth0Error(
      new ManagementError({
        statusCode: 409,
        body: { message: 'A connection with the same name already exists', errorCode: 'connection_conflict' },
      }),
      'POST /connections',
    );
    expect(conflict.details).toEqual({ retryable: false, status: 409, errorCode: 'connection_conflict' });
    expect(classifyAuth0Error(new ManagementTimeoutError('Timeout exceeded'), 'GET /x').retryable).toBe(true);
    // auth0 7.1.0 reports its own request timeout this way (abort reason "timeout"), not as ManagementTimeoutError.
    const sdkTimeout = classifyAuth0Error(
      new ManagementError({ message: '"timeout"', cause: 'timeout' }),
      'GET /x',
    );
    expect([sdkTimeout.retryable, sdkTimeout.message]).toEqual([true, 'GET /x: timed out']);
    const reset = new TypeError('fetch failed', {
      cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    });
    expect(
      classifyAuth0Error(new ManagementError({ message: 'fetch failed', cause: reset }), 'GET /x').retryable,
    ).toBe(true);
    const tls = new TypeError('fetch failed', {
      cause: Object.assign(new Error('self-signed'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
    });
    expect(classifyAuth0Error(tls, 'GET /x').retryable).toBe(false);
    expect(classifyAuth0Error(new RangeError('a bug'), 'GET /x').retryable).toBe(false);
    expect(retryAtFrom(new Headers({ 'x-ratelimit-reset': '1700000005' }), 429, now)).toBe(1_700_000_005_000);
    expect(retryAtFrom(new Headers({ 'x-ratelimit-reset': '1700000005' }), 503, now)).toBeUndefined();
    expect(retryAtFrom(new Headers({ 'retry-after': new Date(now + 3_000).toUTCString() }), 503, now)).toBe(
      now + 3_000,
    );
  });
});
