/**
 * The engine end to end, against auth0-local over HTTPS with the official SDK and a real PostgreSQL: each change is
 * one durable run — applied, modified (only the difference), removed (only what the organization owns), compensated
 * when Auth0 refuses a step, resumed after a crash at any failpoint without duplicates, and with no lost callback URL
 * when many organizations change one shared client at once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ManagementClient } from 'auth0';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createSdkTenant } from '../../src/adapters/auth0/sdk-tenant.js';
import { createPostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { loadSecretBox } from '../../src/adapters/postgres/secret-box.js';
import type { OrgSpecInput } from '../../src/domain/org-spec.js';
import type { Step } from '../../src/domain/plan.js';
import { validateSpecs } from '../../src/domain/spec-document.js';
import { executeRun, type EngineDeps, type Failpoint } from '../../src/engine/run-executor.js';
import type { Store } from '../../src/ports/store.js';
import { managementClient, startTestAuth0Local, type TestAuth0Local } from '../helpers/auth0-local.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let local: TestAuth0Local;
let database: TestDatabase;
let store: Store;
let api: ManagementClient;
let deps: EngineDeps;

const CERT = 'MIIBszCCAVmgAwIBAgIUQm9ndXNDZXJ0aWZpY2F0ZUZvclRlc3RzMAoGCCqGSM49BAMC';
const SAML_XML = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.acme.com">
  <IDPSSODescriptor><KeyDescriptor use="signing"><KeyInfo><X509Data><X509Certificate>${CERT}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
  <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.acme.com/sso"/>
  </IDPSSODescriptor></EntityDescriptor>`;

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
  deps = { store, tenantFor: () => tenant, retry: { maxAttempts: 6, baseDelayMs: 5, maxDelayMs: 50 } };
  api = managementClient(local);
  await api.clients.create({
    name: 'Portal',
    app_type: 'regular_web',
    initiate_login_uri: 'https://portal.example.com/login',
    callbacks: ['https://portal.example.com/callback'],
  });
});
afterAll(async () => {
  await local.close();
  await database.drop();
});

const spec = (input: OrgSpecInput) => validateSpecs([input])[0]!;

async function run(input: OrgSpecInput | string, extra: Partial<EngineDeps> = {}) {
  const removal = typeof input === 'string';
  const name = removal ? input : input.name;
  const created = await store.createRun({
    orgName: name,
    tenant: local.domain,
    kind: removal ? 'remove' : 'apply',
    desired: removal ? undefined : spec(input),
    requestedBy: 'test',
  });
  return executeRun({ ...deps, ...extra }, created.id);
}

/** Management API writes since a request-log position, as "METHOD /path" with ids replaced by their kind. */
function writesSince(from: number): string[] {
  return local.requestLog
    .list({ tenant: local.name })
    .slice(from)
    .filter((entry) => entry.path.startsWith('/api/v2/') && entry.method !== 'GET')
    .map((entry) =>
      `${entry.method} ${entry.path.slice('/api/v2'.length)}`
        .replace(/org_\w+/g, '{org}')
        .replace(/con_\w+/g, '{con}')
        .replace(/\/clients\/\w{32}/g, '/clients/{client}'),
    );
}

const connectionsNamed = async (name: string) => (await api.connections.list({ name, take: 10 })).data;
const portalCallbacks = async () => {
  const portal = (await api.clients.list({ per_page: 100 })).data.find((client) => client.name === 'Portal');
  return portal?.callbacks ?? [];
};

const acme: OrgSpecInput = {
  name: 'acme',
  displayName: 'Acme',
  isolation: 'isolated-database',
  metadata: { plan: 'gold' },
  connections: [{ database: {}, assignMembershipOnLogin: true }],
  applications: [{ client: 'Portal', callbacks: ['https://acme.example.com/callback'] }],
  admin: { email: 'ada@acme.com', name: 'Ada', via: 'password-ticket' },
  app: { tier: 'gold' },
};

const acmeChanged: OrgSpecInput = {
  ...acme,
  displayName: 'Acme Corporation',
  connections: [...acme.connections!, { saml: { metadataXml: SAML_XML }, domains: ['acme.com'] }],
  applications: [
    { client: 'Portal', callbacks: ['https://acme.example.com/callback', 'https://acme.example.com/v2'] },
  ],
};

describe('isolated database: apply, modify, remove', () => {
  it('provisions every object and records the organization active with its ids', async () => {
    const finished = await run(acme);
    expect(finished).toMatchObject({ state: 'succeeded', error: undefined });
    const org = await api.organizations.getByName('acme');
    expect(org).toMatchObject({ display_name: 'Acme', metadata: { plan: 'gold', orgadmin_org: 'acme' } });
    const [connection] = await connectionsNamed('acme-db');
    expect(connection?.strategy).toBe('auth0');
    const enabled = await api.organizations.enabledConnections.list(org.id!);
    expect(enabled.data).toEqual([
      expect.objectContaining({ connection_id: connection!.id, assign_membership_on_login: true }) as unknown,
    ]);
    const portalId = (await api.clients.list({ per_page: 100 })).data.find(
      (c) => c.name === 'Portal',
    )!.client_id!;
    expect((await api.connections.clients.get(connection!.id!)).data.map((c) => c.client_id)).toEqual([
      portalId,
    ]);
    const [user] = await api.users.listUsersByEmail({ email: 'ada@acme.com' });
    expect(user?.app_metadata).toMatchObject({ orgadmin_org: 'acme' });
    const members = await api.organizations.members.list(org.id!);
    expect(members.data.map((m) => m.user_id)).toEqual([user!.user_id]);
    const roles = await api.organizations.members.roles.list(org.id!, user!.user_id!);
    expect(roles.data.map((r) => r.name)).toEqual(['org-admin']);
    expect(await portalCallbacks()).toEqual([
      'https://portal.example.com/callback',
      'https://acme.example.com/callback',
    ]);

    const record = await store.getOrg('acme');
    expect(record).toMatchObject({
      status: 'active',
      auth0Ids: expect.objectContaining({ organization: org.id }) as unknown,
    });
    expect(record?.appliedSpec?.app).toEqual({ tier: 'gold' });
  });

  it('applies only the difference when the spec changes', async () => {
    const from = local.requestLog.list().length;
    const finished = await run(acmeChanged);
    expect(finished.state).toBe('succeeded');
    expect(writesSince(from)).toEqual([
      'PATCH /organizations/{org}',
      'POST /connections',
      'PATCH /connections/{con}/clients',
      'POST /organizations/{org}/enabled_connections',
      'PATCH /clients/{client}',
    ]);
    expect((await api.organizations.getByName('acme')).display_name).toBe('Acme Corporation');
    expect(await portalCallbacks()).toContain('https://acme.example.com/v2');
  });

  it('applies nothing when nothing changed', async () => {
    const from = local.requestLog.list().length;
    const finished = await run(acmeChanged);
    expect(finished.state).toBe('succeeded');
    expect(writesSince(from)).toEqual([]);
  });

  it('removes everything the organization owns and nothing else, keeping the audit trail', async () => {
    const finished = await run('acme');
    expect(finished.state).toBe('succeeded');
    await expect(api.organizations.getByName('acme')).rejects.toMatchObject({ statusCode: 404 });
    expect(await connectionsNamed('acme-db')).toEqual([]);
    expect(await connectionsNamed('acme-saml')).toEqual([]);
    expect(await connectionsNamed('Username-Password-Authentication')).toHaveLength(1);
    expect(await portalCallbacks()).toEqual(['https://portal.example.com/callback']);
    expect(await api.users.listUsersByEmail({ email: 'ada@acme.com' })).toEqual([]);
    expect((await store.getOrg('acme'))?.status).toBe('removed');
    const actions = (await store.audit({ orgName: 'acme' })).map((event) => event.action);
    expect(actions.length).toBeGreaterThanOrEqual(4);
  });
});

describe('shared isolation with an invitation', () => {
  it('enables the shared connection and invites the administrator', async () => {
    const finished = await run({
      name: 'beta',
      connections: [{ shared: 'Username-Password-Authentication' }],
      applications: [{ client: 'Portal' }],
      admin: { email: 'it@beta.com' },
    });
    expect(finished.state).toBe('succeeded');
    const org = await api.organizations.getByName('beta');
    const invitations = await api.organizations.invitations.list(org.id!);
    expect(invitations.data.map((i) => i.invitee?.email)).toEqual(['it@beta.com']);
    expect(invitations.data[0]?.invitation_url).toContain('https://portal.example.com/login?invitation=');

    // Modify: only the difference (a display name and a callback), and no second invitation.
    const from = local.requestLog.list().length;
    const modified = await run({
      name: 'beta',
      displayName: 'Beta Inc',
      connections: [{ shared: 'Username-Password-Authentication' }],
      applications: [{ client: 'Portal', callbacks: ['https://beta.example.com/callback'] }],
      admin: { email: 'it@beta.com' },
    });
    expect(modified.state).toBe('succeeded');
    expect(writesSince(from)).toEqual(['PATCH /organizations/{org}', 'PATCH /clients/{client}']);
    expect((await api.organizations.invitations.list(org.id!)).data).toHaveLength(1);

    // Remove: the organization and its URL go; the shared connection stays, still enabled for its other clients.
    const enabledBefore = (
      await api.connections.clients.get((await connectionsNamed('Username-Password-Authentication'))[0]!.id!)
    ).data;
    expect((await run('beta')).state).toBe('succeeded');
    await expect(api.organizations.getByName('beta')).rejects.toMatchObject({ statusCode: 404 });
    expect(await portalCallbacks()).not.toContain('https://beta.example.com/callback');
    const [shared] = await connectionsNamed('Username-Password-Authentication');
    expect(shared).toBeDefined();
    expect((await api.connections.clients.get(shared!.id!)).data).toEqual(enabledBefore);
  });
});

describe('compensation', () => {
  it('undoes everything when Auth0 rejects the SAML connection, and says why', async () => {
    const finished = await run({
      name: 'gamma',
      connections: [
        { shared: 'Username-Password-Authentication' },
        { saml: { metadataXml: '<EntityDescriptor entityID="x"></EntityDescriptor>' } },
      ],
      applications: [{ client: 'Portal', callbacks: ['https://gamma.example.com/callback'] }],
    });
    expect(finished.state).toBe('failed');
    expect(finished.error).toContain('SingleSignOnService');
    await expect(api.organizations.getByName('gamma')).rejects.toMatchObject({ statusCode: 404 });
    expect(await connectionsNamed('gamma-saml')).toEqual([]);
    expect(await portalCallbacks()).not.toContain('https://gamma.example.com/callback');
    expect(await store.getOrg('gamma')).toMatchObject({ status: 'failed' });
    const steps = await store.steps(finished.id);
    expect(steps.some((s) => s.phase === 'compensation' && s.status === 'done')).toBe(true);
  });
});

describe('URL steps planned from the specs, reconciled against the client', () => {
  const portalId = async () =>
    (await api.clients.list({ per_page: 100 })).data.find((client) => client.name === 'Portal')!.client_id!;

  it('puts back a URL deleted by hand when the same spec is applied again, and writes nothing otherwise', async () => {
    const epsilon = {
      name: 'epsilon',
      applications: [{ client: 'Portal', callbacks: ['https://epsilon.example.com/callback'] }],
    };
    expect((await run(epsilon)).state).toBe('succeeded');
    const id = await portalId();
    const others = (await portalCallbacks()).filter((url) => url !== 'https://epsilon.example.com/callback');
    await api.clients.update(id, { callbacks: others });

    let from = local.requestLog.list().length;
    expect((await run(epsilon)).state).toBe('succeeded');
    expect(writesSince(from)).toEqual(['PATCH /clients/{client}']);
    expect(await portalCallbacks()).toEqual([...others, 'https://epsilon.example.com/callback']);

    from = local.requestLog.list().length;
    expect((await run(epsilon)).state).toBe('succeeded');
    expect(writesSince(from)).toEqual([]);
  });

  it('compensates by taking off only the URLs the run added, never one that was there before', async () => {
    const before = 'https://zeta.example.com/already-there';
    await api.clients.update(await portalId(), { callbacks: [...(await portalCallbacks()), before] });
    // Auth0 refuses the administrator, a step after the URLs: the run compensates.
    const refusal = local.faults.add({ method: 'POST', path: '^/api/v2/users$', status: 400 });
    const finished = await run({
      name: 'zeta',
      connections: [{ shared: 'Username-Password-Authentication' }],
      applications: [{ client: 'Portal', callbacks: [before, 'https://zeta.example.com/callback'] }],
      admin: { email: 'admin@zeta.example.com', via: 'password-ticket' },
    });
    local.faults.remove(refusal.id);
    expect(finished.state).toBe('failed');
    expect(finished.error).toContain('POST /users: 400');
    const steps = await store.steps(finished.id);
    const added = steps.find((step) => step.step.kind === 'add-client-urls');
    expect(added).toMatchObject({
      status: 'done',
      result: {
        addedUrls: { callbacks: ['https://zeta.example.com/callback'], logoutUrls: [], webOrigins: [] },
      },
    });
    expect(steps.find((step) => step.step.key === 'client:Portal:urls:restore')?.status).toBe('done');
    const callbacks = await portalCallbacks();
    expect(callbacks).toContain(before);
    expect(callbacks).not.toContain('https://zeta.example.com/callback');
  });

  it('removes an organization whose application was deleted meanwhile', async () => {
    await api.clients.create({ name: 'Short-lived', app_type: 'regular_web' });
    const eta = {
      name: 'eta',
      applications: [{ client: 'Short-lived', callbacks: ['https://eta.example.com/callback'] }],
    };
    expect((await run(eta)).state).toBe('succeeded');
    const shortLived = (await api.clients.list({ per_page: 100 })).data.find(
      (c) => c.name === 'Short-lived',
    )!;
    await api.clients.delete(shortLived.client_id!);
    expect((await run('eta')).state).toBe('succeeded');
    // Applying the spec again now fails for good: there is nothing to put the URL on.
    const again = await run(eta);
    expect(again.state).toBe('failed');
    expect(again.error).toContain('no application is named Short-lived');
  });
});

describe('no lost updates on a shared client', () => {
  const orgs = (prefix: string) =>
    Array.from({ length: 30 }, (_, i) => ({
      name: `${prefix}-${i}`,
      applications: [{ client: 'Portal', callbacks: [`https://${prefix}-${i}.example.com/callback`] }],
    }));

  it('keeps all 30 URLs when 30 organizations are applied at once, in far fewer than 30 writes', async () => {
    const fault = local.faults.add({ method: 'GET', path: '^/api/v2/clients', latencyMs: 3 });
    const from = local.requestLog.list().length;
    const results = await Promise.all(orgs('lu').map((input) => run(input)));
    local.faults.remove(fault.id);
    // Application ids come from the process's directory (listed earlier in this file): no list read per organization.
    const listReads = local.requestLog
      .list()
      .slice(from)
      .filter((entry) => entry.method === 'GET' && entry.path === '/api/v2/clients');
    expect(listReads).toEqual([]);
    expect(results.every((r) => r.state === 'succeeded')).toBe(true);
    const callbacks = await portalCallbacks();
    for (const input of orgs('lu')) expect(callbacks).toContain(input.applications[0]!.callbacks[0]);
    const patches = writesSince(from).filter((call) => call === 'PATCH /clients/{client}');
    // One reconciliation applies every pending intent: 30 organizations, a handful of writes (5 when measured).
    expect(patches.length).toBeLessThanOrEqual(10);
  });

  it('loses URLs with the reconciler bypassed (the test can see the failure)', async () => {
    const fault = local.faults.add({ method: 'GET', path: '^/api/v2/clients', latencyMs: 3 });
    const results = await Promise.all(
      orgs('raw').map((input) => run(input, { __test__unsafeClientUrls: true })),
    );
    local.faults.remove(fault.id);
    expect(results.every((r) => r.state === 'succeeded')).toBe(true);
    const callbacks = await portalCallbacks();
    const kept = orgs('raw').filter((input) => callbacks.includes(input.applications[0]!.callbacks[0]!));
    expect(kept.length).toBeLessThan(30);
  });
  it('keeps a URL another organization still lists when one of them is removed or edited', async () => {
    const shared = 'https://app.example.com/callback';
    const both = (name: string, extra: string[] = []) => ({
      name,
      applications: [{ client: 'Portal', callbacks: [shared, ...extra] }],
    });
    expect((await run(both('share-a'))).state).toBe('succeeded');
    expect((await run(both('share-b', ['https://b.example.com/callback']))).state).toBe('succeeded');
    // share-a drops the URL from its spec: share-b still lists it, so it stays.
    expect((await run({ name: 'share-a', applications: [{ client: 'Portal' }] })).state).toBe('succeeded');
    expect(await portalCallbacks()).toContain(shared);
    expect((await run('share-a')).state).toBe('succeeded');
    expect(await portalCallbacks()).toContain(shared);
    // The last organization that lists it takes it off, with its own URL.
    expect((await run('share-b')).state).toBe('succeeded');
    const callbacks = await portalCallbacks();
    expect(callbacks).not.toContain(shared);
    expect(callbacks).not.toContain('https://b.example.com/callback');
    expect(callbacks).toContain('https://portal.example.com/callback');
  });
});

describe('crash anywhere', () => {
  class SimulatedCrash extends Error {}
  const full = (name: string): OrgSpecInput => ({
    name,
    isolation: 'isolated-database',
    connections: [{ database: {}, assignMembershipOnLogin: true }, { saml: { metadataXml: SAML_XML } }],
    applications: [{ client: 'Portal', callbacks: [`https://${name}.example.com/callback`] }],
    admin: { email: `admin@${name}.example.com`, via: 'password-ticket' },
  });

  it('converges after a crash at every failpoint of every step, without duplicates or untagged objects', async () => {
    const points: Failpoint[] = ['before-call', 'after-call', 'after-record'];
    let stepsInPlan = 0;
    const probe = await run(full('crash-probe'), { onStep: () => (stepsInPlan += 1) });
    expect(probe.state).toBe('succeeded');
    expect(stepsInPlan).toBeGreaterThanOrEqual(9);
    let case_ = 0;
    for (let target = 0; target < stepsInPlan; target++) {
      for (const point of points) {
        const name = `crash-${case_++}`;
        let seen = -1;
        let lastStep: Step | undefined;
        const crashing = {
          __test__failpoint: (at: Failpoint, step: Step) => {
            if (at === 'before-call' && step !== lastStep) {
              seen += 1;
              lastStep = step;
            }
            if (seen === target && at === point) throw new SimulatedCrash(`${at} of step ${target}`);
          },
        };
        const created = await store.createRun({
          orgName: name,
          tenant: local.domain,
          kind: 'apply',
          desired: spec(full(name)),
          requestedBy: 'test',
        });
        await expect(executeRun({ ...deps, ...crashing }, created.id)).rejects.toBeInstanceOf(SimulatedCrash);
        const resumed = await executeRun(deps, created.id);
        expect(resumed.state, `${name}: ${point} of step ${target}`).toBe('succeeded');
        expect(
          (await api.organizations.list({ take: 100 })).data.filter((o) => o.name === name),
        ).toHaveLength(1);
        expect(await connectionsNamed(`${name}-db`)).toHaveLength(1);
        expect(await connectionsNamed(`${name}-saml`)).toHaveLength(1);
        expect(await api.users.listUsersByEmail({ email: `admin@${name}.example.com` })).toHaveLength(1);
        expect((await store.getOrg(name))?.status).toBe('active');
      }
    }
    // Everything orgadmin created carries its tag.
    for (const org of (await api.organizations.list({ take: 100 })).data.filter((o) =>
      o.name?.startsWith('crash-'),
    )) {
      expect(org.metadata).toMatchObject({ orgadmin_org: org.name });
    }
  }, 300_000);
});
