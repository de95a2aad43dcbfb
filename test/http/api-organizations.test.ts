/**
 * The HTTP API end to end against auth0-local: an operator creates an organization (isolated database, SAML, an
 * application's URLs, an invited administrator), follows the run live over Server-Sent Events, finds it by search,
 * plans and applies an edit (the plan shows before/after and only the difference), patches it, and an admin
 * removes it. Also: cancel and retry of runs, audit filters, paging, and secrets never leaving the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { managementClient, useAuth0Local } from '../helpers/auth0-local.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { samlMetadataXml } from '../helpers/saml.js';
import { sessionFor, startTestPortal, type TestPortal, type TestSession } from '../helpers/portal.js';

const local = useAuth0Local();
let database: TestDatabase;
let portal: TestPortal;
let operator: TestSession;
let admin: TestSession;
let viewer: TestSession;

const METADATA_XML = samlMetadataXml();

const acmeSpec = {
  name: 'acme',
  displayName: 'Acme Corporation',
  isolation: 'isolated-database',
  connections: [
    { database: { passwordPolicy: 'good' }, assignMembershipOnLogin: true },
    { saml: { metadataXml: METADATA_XML }, domains: ['acme.example'] },
    {
      oidc: {
        discoveryUrl: 'https://login.acme.example/.well-known/openid-configuration',
        clientId: 'abc',
        clientSecret: 'oidc-secret-value',
      },
    },
  ],
  applications: [{ client: 'SaaS App', callbacks: ['https://acme.saas.example/callback'] }],
  admin: { email: 'it-admin@acme.example', via: 'invitation' },
};

beforeAll(async () => {
  database = await createTestDatabase();
  await managementClient(local).clients.create({
    name: 'SaaS App',
    app_type: 'regular_web',
    initiate_login_uri: 'https://saas.example/login',
  });
  portal = await startTestPortal(local, database);
  operator = await sessionFor(portal.orgadmin, ['operator'], { email: 'olivia@saas.example' });
  admin = await sessionFor(portal.orgadmin, ['admin'], { email: 'adam@saas.example' });
  viewer = await sessionFor(portal.orgadmin, ['viewer'], { email: 'victor@saas.example' });
});
afterAll(async () => {
  await portal?.close();
  await database?.drop();
});

async function api<T = Record<string, unknown>>(
  session: TestSession,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${portal.url}/api/v1${path}`, {
    method,
    headers: {
      cookie: session.cookie,
      ...(method === 'GET' ? {} : { 'x-csrf-token': session.csrfToken }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

interface RunEvent {
  id: string;
  state: string;
  steps: { description: string; status: string; phase: string }[];
  adminLink: string | null;
}

/** Reads a run's event stream until the server ends it; returns every `run` event. */
async function followRun(session: TestSession, runId: string): Promise<RunEvent[]> {
  const response = await fetch(`${portal.url}/api/v1/runs/${runId}/events`, {
    headers: { cookie: session.cookie, accept: 'text/event-stream' },
  });
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((block) => block.includes('event: run'))
    .map(
      (block) =>
        JSON.parse(
          block
            .split('\n')
            .find((line) => line.startsWith('data: '))!
            .slice(6),
        ) as RunEvent,
    );
}

describe('an organization through the API', () => {
  let runId: string;

  it('plans a new organization without writing anything', async () => {
    const writesBefore = local.requestLog
      .list()
      .filter((entry) => entry.method !== 'GET' && entry.path.startsWith('/api/v2/')).length;
    const { status, body } = await api<{
      exists: boolean;
      steps: { description: string }[];
      before: unknown;
    }>(operator, 'POST', '/organizations/plan', { spec: acmeSpec });
    expect(status).toBe(200);
    expect(body.exists).toBe(false);
    expect(body.before).toBeNull();
    const descriptions = body.steps.map((step) => step.description);
    expect(descriptions).toContain('create organization acme');
    expect(descriptions.some((d) => d.startsWith('create samlp connection'))).toBe(true);
    expect(descriptions).toContain("invite it-admin@acme.example as the organization's administrator");
    const writesAfter = local.requestLog
      .list()
      .filter((entry) => entry.method !== 'GET' && entry.path.startsWith('/api/v2/')).length;
    expect(writesAfter).toBe(writesBefore);
  });

  it('creates it, and the run can be watched live to its end', async () => {
    const created = await api<{ run: { id: string; state: string }; organization: { status: string } }>(
      operator,
      'POST',
      '/organizations',
      { spec: acmeSpec },
    );
    expect(created.status).toBe(202);
    expect(created.body.organization.status).toBe('provisioning');
    runId = created.body.run.id;

    const events = await followRun(viewer, runId);
    expect(events.length).toBeGreaterThan(1);
    expect(events.at(-1)!.state, JSON.stringify(events.at(-1))).toBe('succeeded');
    expect(events.at(-1)!.steps.every((step) => step.status === 'done')).toBe(true);
    // Progress arrived step by step, not only as a final answer.
    const doneCounts = events.map((event) => event.steps.filter((step) => step.status === 'done').length);
    expect(new Set(doneCounts).size).toBeGreaterThan(2);
    // The administrator's invitation link is handed to operators once the run issued it (in-process worker).
    expect(events.at(-1)!.adminLink).toMatch(/invitation=/);

    const duplicate = await api(operator, 'POST', '/organizations', { spec: acmeSpec });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toMatchObject({ code: 'org.exists' });
  });

  it('shows the organization with its Auth0 ids and never its secrets', async () => {
    const { status, body } = await api<{
      status: string;
      auth0Ids: Record<string, string>;
      spec: { connections: Record<string, Record<string, unknown>>[] };
      currentRun: { id: string; state: string };
    }>(viewer, 'GET', '/organizations/acme');
    expect(status).toBe(200);
    expect(body.status).toBe('active');
    expect(body.auth0Ids['organization']).toMatch(/^org_/);
    expect(body.currentRun).toMatchObject({ id: runId, state: 'succeeded' });
    expect(body.spec.connections[2]!['oidc']!['clientSecret']).toBe('(set)');
    expect(JSON.stringify(body)).not.toContain('oidc-secret-value');
    const audit = await api<{ items: unknown[] }>(viewer, 'GET', '/audit?org=acme');
    expect(JSON.stringify(audit.body)).not.toContain('oidc-secret-value');
  });

  it('finds it by part of its name, display name or domain, with filters and paging', async () => {
    for (const q of ['cme', 'corporation', 'acme.example']) {
      const { body } = await api<{ items: { name: string }[] }>(viewer, 'GET', `/organizations?q=${q}`);
      expect(
        body.items.map((item) => item.name),
        q,
      ).toEqual(['acme']);
    }
    const none = await api<{ items: unknown[] }>(viewer, 'GET', '/organizations?q=%25');
    expect(none.body.items).toEqual([]);
    const shared = await api<{ items: unknown[] }>(viewer, 'GET', '/organizations?isolation=shared');
    expect(shared.body.items).toEqual([]);
    const active = await api<{ items: { name: string }[] }>(viewer, 'GET', '/organizations?status=active');
    expect(active.body.items.map((item) => item.name)).toEqual(['acme']);
  });

  it('plans an edit as a difference, and applies it keeping the secret it did not resend', async () => {
    const edited = {
      ...acmeSpec,
      displayName: 'Acme Corp.',
      connections: acmeSpec.connections.map((entry) =>
        'oidc' in entry ? { oidc: { ...entry.oidc, clientSecret: '(set)' } } : entry,
      ),
    };
    const planned = await api<{
      steps: { description: string }[];
      before: { displayName: string };
      after: { displayName: string };
    }>(operator, 'POST', '/organizations/acme/plan', { spec: edited });
    expect(planned.status).toBe(200);
    expect(planned.body.before.displayName).toBe('Acme Corporation');
    expect(planned.body.after.displayName).toBe('Acme Corp.');
    expect(planned.body.steps.map((step) => step.description)).toEqual([
      'update organization acme: displayName',
    ]);

    const applied = await api<{ run: { id: string } }>(operator, 'PUT', '/organizations/acme', {
      spec: edited,
    });
    expect(applied.status).toBe(202);
    expect((await followRun(operator, applied.body.run.id)).at(-1)!.state).toBe('succeeded');
    const org = await portal.orgadmin.store.getOrg('acme');
    const oidc = org!.spec.connections.find((entry) => 'oidc' in entry) as { oidc: { clientSecret: string } };
    expect(oidc.oidc.clientSecret).toBe('oidc-secret-value');

    const patched = await api<{ run: { id: string } }>(operator, 'PATCH', '/organizations/acme', {
      patch: { metadata: { plan: 'enterprise' } },
    });
    expect(patched.status).toBe(202);
    expect((await followRun(operator, patched.body.run.id)).at(-1)!.state).toBe('succeeded');
    const auth0Org = await managementClient(local).organizations.getByName('acme');
    expect(auth0Org.display_name).toBe('Acme Corp.');
    expect(auth0Org.metadata).toMatchObject({ plan: 'enterprise' });
  });

  it('refuses a body too large before reading it into a spec (413), and takes a bulk file up to its own limit', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024);
    const spec = await api(operator, 'POST', '/organizations/plan', {
      spec: { name: 'big', displayName: big },
    });
    expect(spec).toEqual({
      status: 413,
      body: { code: 'request.invalid', message: 'The request body is too large.', details: {} },
    });
    // A bulk file of the same size is read (and refused for its content, not its size).
    const bulk = await api(operator, 'POST', '/batches/validate', {
      fileName: 'big.csv',
      content: `name\n${big}\n`,
    });
    expect(bulk.status).toBe(400);
  });

  it('refuses a rename and an unknown "(set)" secret, naming the field', async () => {
    const renamed = await api(operator, 'PUT', '/organizations/acme', {
      spec: { ...acmeSpec, name: 'acme2' },
    });
    expect(renamed.status).toBe(400);
    expect(renamed.body).toMatchObject({ code: 'spec.invalid', details: { issues: [{ path: 'name' }] } });
    const noSecret = await api(operator, 'POST', '/organizations/plan', {
      spec: {
        name: 'globex',
        connections: [{ okta: { domain: 'globex.okta.example', clientId: 'x', clientSecret: '(set)' } }],
      },
    });
    expect(noSecret.status).toBe(400);
  });

  it('lists runs newest first with paging, and audit events by actor', async () => {
    const first = await api<{ items: { id: string }[]; nextCursor: string }>(
      viewer,
      'GET',
      '/runs?org=acme&limit=2',
    );
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await api<{ items: { id: string }[]; nextCursor: string | null }>(
      viewer,
      'GET',
      `/runs?org=acme&limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((run) => run.id)).toEqual([runId]);
    expect(second.body.nextCursor).toBeNull();

    const byOperator = await api<{ items: { actor: string; action: string }[] }>(
      viewer,
      'GET',
      `/audit?actor=${encodeURIComponent(operator.email)}`,
    );
    expect(byOperator.body.items.length).toBeGreaterThanOrEqual(3);
    expect(byOperator.body.items.every((event) => event.actor === operator.email)).toBe(true);
    const future = await api<{ items: unknown[] }>(
      viewer,
      'GET',
      `/audit?since=${new Date(Date.now() + 60_000).toISOString()}`,
    );
    expect(future.body.items).toEqual([]);
  });

  it('describes what a removal deletes and keeps, and an admin removes it', async () => {
    const plan = await api<{ steps: { description: string }[]; kept: string[] }>(
      viewer,
      'GET',
      '/organizations/acme/removal-plan',
    );
    expect(plan.body.steps.map((step) => step.description)).toContain('delete organization acme');
    expect(plan.body.kept.some((item) => item.startsWith('application SaaS App'))).toBe(true);

    const refused = await api(operator, 'DELETE', '/organizations/acme');
    expect(refused.status).toBe(403);
    const removed = await api<{ run: { id: string } }>(admin, 'DELETE', '/organizations/acme');
    expect(removed.status).toBe(202);
    expect((await followRun(admin, removed.body.run.id)).at(-1)!.state).toBe('succeeded');
    expect((await api<{ items: unknown[] }>(viewer, 'GET', '/organizations')).body.items).toEqual([]);
    const listedRemoved = await api<{ items: { name: string }[] }>(
      viewer,
      'GET',
      '/organizations?status=removed',
    );
    expect(listedRemoved.body.items.map((org) => org.name)).toEqual(['acme']);
    expect(
      await managementClient(local)
        .organizations.getByName('acme')
        .catch((error: unknown) => (error as { statusCode: number }).statusCode),
    ).toBe(404);
  });
});

describe('runs', () => {
  it('cancels a queued run: nothing is created and the run fails saying who cancelled it', async () => {
    // No worker in this portal: the run stays queued until one runs it.
    const quiet = await startTestPortal(local, database, { worker: false });
    try {
      const session = await sessionFor(quiet.orgadmin, ['operator'], { email: 'carla@saas.example' });
      const created = await fetch(`${quiet.url}/api/v1/organizations`, {
        method: 'POST',
        headers: {
          cookie: session.cookie,
          'x-csrf-token': session.csrfToken,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          spec: { name: 'initech', connections: [{ shared: 'Username-Password-Authentication' }] },
        }),
      });
      const { run } = (await created.json()) as { run: { id: string } };
      const cancelled = await fetch(`${quiet.url}/api/v1/runs/${run.id}/cancel`, {
        method: 'POST',
        headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken },
      });
      expect(cancelled.status).toBe(202);
      expect(await cancelled.json()).toMatchObject({ run: { cancelRequestedBy: 'carla@saas.example' } });
    } finally {
      await quiet.close();
    }
    // This file's portal has a worker: it picks the queued run up and honours the cancellation.
    const [latest] = await portal.orgadmin.store.listRuns({ orgName: 'initech' });
    const events = await followRun(operator, latest!.id);
    expect(events.at(-1)).toMatchObject({ state: 'failed' });
    const run = await portal.orgadmin.store.getRun(latest!.id);
    expect(run!.error).toBe('cancelled by carla@saas.example');
    expect(
      await managementClient(local)
        .organizations.getByName('initech')
        .catch((error: unknown) => (error as { statusCode: number }).statusCode),
    ).toBe(404);

    const again = await api(operator, 'POST', `/runs/${latest!.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'run.finished' });
  });

  it('retries the latest failed run as a new run that succeeds', async () => {
    const [failed] = await portal.orgadmin.store.listRuns({ orgName: 'initech' });
    const retried = await api<{ run: { id: string } }>(operator, 'POST', `/runs/${failed!.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body.run.id).not.toBe(failed!.id);
    expect((await followRun(operator, retried.body.run.id)).at(-1)!.state).toBe('succeeded');
    const notLatest = await api(operator, 'POST', `/runs/${failed!.id}/retry`);
    expect(notLatest.status).toBe(409);
    expect(notLatest.body).toMatchObject({ code: 'run.not_retryable' });
  });
});
