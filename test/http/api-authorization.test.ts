/**
 * Who may call what: every API route × {anonymous, viewer, operator, admin} answers the expected status. The table
 * below must name every route the server has — a route added without an entry fails the test — and the OpenAPI
 * document must be valid and list exactly the routes the server serves. Also: browser sessions need the CSRF token
 * (form posts without it are refused), removal needs a recent sign-in, and Bearer tokens carry roles by scope.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useAuth0Local } from '../helpers/auth0-local.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { sessionFor, startTestPortal, type TestPortal, type TestSession } from '../helpers/portal.js';

const local = useAuth0Local();
let database: TestDatabase;
let portal: TestPortal;
const sessions: Partial<Record<Caller, TestSession>> = {};

type Caller = 'anonymous' | 'viewer' | 'operator' | 'admin';
type Needed = 'public' | 'viewer' | 'operator' | 'admin';
const CALLERS: Caller[] = ['anonymous', 'viewer', 'operator', 'admin'];
const RANK: Record<Caller | Needed, number> = { public: -1, anonymous: 0, viewer: 1, operator: 2, admin: 3 };
const MISSING_RUN = '00000000-0000-4000-8000-000000000000';

interface Case {
  needs: Needed;
  /** The concrete request (path under /api/v1, with the route's parameters filled in). */
  path: string;
  body?: unknown;
  /** The status an allowed caller gets for this request (chosen so nothing is changed). */
  allowed: number;
}

/** Keyed `METHOD /openapi/path`; every route of the server must be here. */
const TABLE: Record<string, Case> = {
  'GET /openapi.json': { needs: 'public', path: '/openapi.json', allowed: 200 },
  'GET /docs': { needs: 'public', path: '/docs', allowed: 200 },
  'GET /me': { needs: 'viewer', path: '/me', allowed: 200 },
  'GET /organizations': { needs: 'viewer', path: '/organizations?q=acme', allowed: 200 },
  'POST /organizations': {
    needs: 'operator',
    path: '/organizations',
    body: { spec: { name: 'Bad!' } },
    allowed: 400,
  },
  'POST /organizations/plan': {
    needs: 'operator',
    path: '/organizations/plan',
    body: { spec: { name: 'acme' } },
    allowed: 200,
  },
  'GET /organizations/{name}': { needs: 'viewer', path: '/organizations/nobody', allowed: 404 },
  'PUT /organizations/{name}': {
    needs: 'operator',
    path: '/organizations/nobody',
    body: { spec: { name: 'nobody' } },
    allowed: 404,
  },
  'PATCH /organizations/{name}': {
    needs: 'operator',
    path: '/organizations/nobody',
    body: { patch: { displayName: 'Nobody' } },
    allowed: 404,
  },
  'POST /organizations/{name}/plan': {
    needs: 'operator',
    path: '/organizations/nobody/plan',
    body: { spec: { name: 'nobody' } },
    allowed: 404,
  },
  'GET /organizations/{name}/removal-plan': {
    needs: 'viewer',
    path: '/organizations/nobody/removal-plan',
    allowed: 404,
  },
  'DELETE /organizations/{name}': { needs: 'admin', path: '/organizations/nobody', allowed: 404 },
  'GET /runs': { needs: 'viewer', path: '/runs?state=failed', allowed: 200 },
  'GET /runs/{id}': { needs: 'viewer', path: `/runs/${MISSING_RUN}`, allowed: 404 },
  'GET /runs/{id}/events': { needs: 'viewer', path: `/runs/${MISSING_RUN}/events`, allowed: 404 },
  'GET /events': { needs: 'viewer', path: '/events', allowed: 200 },
  'POST /runs/{id}/retry': { needs: 'operator', path: `/runs/${MISSING_RUN}/retry`, allowed: 404 },
  'POST /runs/{id}/cancel': { needs: 'operator', path: `/runs/${MISSING_RUN}/cancel`, allowed: 404 },
  'GET /audit': { needs: 'viewer', path: '/audit?actor=someone', allowed: 200 },
  'POST /batches/validate': {
    needs: 'operator',
    path: '/batches/validate',
    body: { fileName: 'orgs.csv', content: 'name\nBad!\n' },
    allowed: 400,
  },
  'POST /batches': {
    needs: 'operator',
    path: '/batches',
    body: { fileName: 'orgs.csv', content: 'name\nBad!\n' },
    allowed: 400,
  },
  'GET /batches': { needs: 'viewer', path: '/batches', allowed: 200 },
  'GET /batches/{id}': { needs: 'viewer', path: `/batches/${MISSING_RUN}`, allowed: 404 },
  // This portal runs in live mode: the GitOps routes answer mode.mismatch (409) to whoever may call them.
  'GET /gitops/history': { needs: 'viewer', path: '/gitops/history', allowed: 409 },
  'POST /gitops/deploy': { needs: 'operator', path: '/gitops/deploy', body: { dryRun: true }, allowed: 409 },
  'POST /gitops/rollback': {
    needs: 'admin',
    path: '/gitops/rollback',
    body: { to: 'HEAD~1', dryRun: true },
    allowed: 409,
  },
  'GET /catalog': { needs: 'viewer', path: '/catalog', allowed: 200 },
  'GET /saml-sp': { needs: 'viewer', path: '/saml-sp?org=acme', allowed: 200 },
  'GET /tenants': { needs: 'admin', path: '/tenants', allowed: 200 },
  'GET /sessions': { needs: 'admin', path: '/sessions', allowed: 200 },
  'GET /hooks': { needs: 'admin', path: '/hooks', allowed: 200 },
  'POST /hooks': {
    needs: 'admin',
    path: '/hooks',
    body: { name: 'x', url: 'http://x.example' },
    allowed: 400,
  },
  'DELETE /hooks/{name}': { needs: 'admin', path: '/hooks/nothing', allowed: 404 },
  'POST /hooks/{name}/test': { needs: 'admin', path: '/hooks/nothing/test', allowed: 404 },
  'POST /hooks/{name}/enable': { needs: 'admin', path: '/hooks/nothing/enable', allowed: 404 },
  'GET /lifecycle-events': { needs: 'viewer', path: '/lifecycle-events?org=acme', allowed: 200 },
  'GET /lifecycle-events/{id}': { needs: 'viewer', path: '/lifecycle-events/999', allowed: 404 },
  'POST /lifecycle-events/{id}/replay': {
    needs: 'operator',
    path: '/lifecycle-events/999/replay',
    body: {},
    allowed: 404,
  },
  'DELETE /sessions/{id}': { needs: 'admin', path: '/sessions/no-such-session', allowed: 404 },
};

beforeAll(async () => {
  database = await createTestDatabase();
  portal = await startTestPortal(local, database, { worker: false });
  for (const role of ['viewer', 'operator', 'admin'] as const)
    sessions[role] = await sessionFor(portal.orgadmin, [role]);
});
afterAll(async () => {
  await portal?.close();
  await database?.drop();
});

async function call(
  method: string,
  path: string,
  options: { session?: TestSession; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const controller = new AbortController();
  const response = await fetch(`${portal.url}/api/v1${path}`, {
    method,
    signal: controller.signal,
    headers: {
      ...(options.session ? { cookie: options.session.cookie } : {}),
      ...(options.session && method !== 'GET' ? { 'x-csrf-token': options.session.csrfToken } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  // Event streams never end on their own: the status is all this test needs.
  if (response.headers.get('content-type')?.includes('text/event-stream')) controller.abort();
  return response;
}

describe('the route table', () => {
  it('names every route the server serves, and the OpenAPI document lists exactly those', async () => {
    const served = portal.portal.app.routes
      .filter(
        (route) => route.path.startsWith('/api/v1/') && route.path !== '/api/v1/*' && route.method !== 'ALL',
      )
      .map((route) => `${route.method} ${route.path.slice('/api/v1'.length).replace(/:([^/]+)/g, '{$1}')}`);
    expect(new Set(served).size).toBe(served.length);
    expect([...served].sort()).toEqual(Object.keys(TABLE).sort());

    const document = (await (await call('GET', '/openapi.json')).json()) as {
      paths: Record<string, Record<string, { 'x-orgadmin-permission': string }>>;
    };
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    // The document describes the API routes; openapi.json and docs are its own pages.
    expect(documented.sort()).toEqual(
      Object.keys(TABLE)
        .filter((key) => key !== 'GET /openapi.json' && key !== 'GET /docs')
        .sort(),
    );
    for (const [path, operations] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(operations)) {
        const needs = TABLE[`${method.toUpperCase()} ${path}`]!.needs;
        const permission = { viewer: 'read', operator: 'write', admin: 'administer', public: 'public' }[
          needs
        ];
        expect(operation['x-orgadmin-permission'], `${method} ${path}`).toBe(permission);
      }
  });

  it('serves a valid OpenAPI 3.1 document', async () => {
    const document: unknown = await (await call('GET', '/openapi.json')).json();
    const result = await new Validator().validate(document as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });
});

describe('every route × role', () => {
  for (const [key, entry] of Object.entries(TABLE)) {
    const method = key.split(' ')[0]!;
    for (const caller of CALLERS) {
      const expected =
        entry.needs === 'public' || RANK[caller] >= RANK[entry.needs]
          ? entry.allowed
          : caller === 'anonymous'
            ? 401
            : 403;
      it(`${key} as ${caller} → ${expected}`, async () => {
        const session = caller === 'anonymous' ? undefined : sessions[caller];
        const response = await call(method, entry.path, {
          ...(session ? { session } : {}),
          ...(entry.body !== undefined ? { body: entry.body } : {}),
        });
        const text = response.headers.get('content-type')?.includes('event-stream')
          ? ''
          : await response.text();
        expect(response.status, text).toBe(expected);
        if (expected === 401) expect(JSON.parse(text)).toMatchObject({ code: 'auth.required' });
        if (expected === 403) expect(JSON.parse(text)).toMatchObject({ code: 'auth.forbidden' });
      });
    }
  }
});

describe('browser sessions', () => {
  it('refuses state-changing requests without the CSRF token, including plain form posts', async () => {
    const operator = sessions.operator!;
    const noToken = await fetch(`${portal.url}/api/v1/organizations/plan`, {
      method: 'POST',
      headers: { cookie: operator.cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ spec: { name: 'acme' } }),
    });
    expect(noToken.status).toBe(403);
    expect(await noToken.json()).toMatchObject({ code: 'auth.csrf' });

    // What a foreign page's <form method=post> sends: the cookie rides along, the token cannot.
    const formPost = await fetch(`${portal.url}/api/v1/organizations`, {
      method: 'POST',
      headers: {
        cookie: operator.cookie,
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
      },
      body: 'spec=x',
    });
    expect(formPost.status).toBe(403);
    expect(await formPost.json()).toMatchObject({ code: 'auth.csrf' });

    const wrongOrigin = await call('POST', '/organizations/plan', {
      session: operator,
      body: { spec: { name: 'acme' } },
      headers: { origin: 'https://evil.example' },
    });
    expect(wrongOrigin.status).toBe(403);

    const wrongToken = await call('POST', '/organizations/plan', {
      session: operator,
      body: { spec: { name: 'acme' } },
      headers: { 'x-csrf-token': 'x'.repeat(43) },
    });
    expect(wrongToken.status).toBe(403);

    const right = await call('POST', '/organizations/plan', {
      session: operator,
      body: { spec: { name: 'acme' } },
      headers: { origin: portal.url },
    });
    expect(right.status).toBe(200);
  });

  it('needs a recent sign-in to remove an organization, and says where to get one', async () => {
    const stale = await sessionFor(portal.orgadmin, ['admin'], {
      signedInMinutesAgo: 30,
      email: 'stale@test.example',
    });
    const response = await call('DELETE', '/organizations/nobody', {
      session: stale,
      headers: { referer: `${portal.url}/organizations/nobody` },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      code: 'auth.reauthentication_required',
      details: { loginUrl: '/auth/login?reauth=1&returnTo=%2Forganizations%2Fnobody' },
    });
    const me = (await (await call('GET', '/me', { session: stale })).json()) as {
      reauthenticatedUntil: string;
    };
    expect(Date.parse(me.reauthenticatedUntil)).toBeLessThan(Date.now());
  });

  it('lets an admin see live sessions and end one; the operator is signed out at once', async () => {
    const victim = await sessionFor(portal.orgadmin, ['operator'], { email: 'leaver@test.example' });
    expect((await call('GET', '/me', { session: victim })).status).toBe(200);
    const list = (await (await call('GET', '/sessions', { session: sessions.admin! })).json()) as {
      items: { id: string; email: string; current: boolean }[];
    };
    const entry = list.items.find((item) => item.email === 'leaver@test.example')!;
    expect(entry.current).toBe(false);
    expect(list.items.find((item) => item.email === sessions.admin!.email)?.current).toBe(true);
    // The id names the session but is no cookie.
    expect(
      (await fetch(`${portal.url}/api/v1/me`, { headers: { cookie: `orgadmin_session=${entry.id}` } }))
        .status,
    ).toBe(401);
    expect((await call('DELETE', `/sessions/${entry.id}`, { session: sessions.admin! })).status).toBe(204);
    expect((await call('GET', '/me', { session: victim })).status).toBe(401);
  });

  it('refuses a cross-site request even with the token (Sec-Fetch-Site)', async () => {
    const response = await call('POST', '/organizations/plan', {
      session: sessions.operator!,
      body: { spec: { name: 'acme' } },
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(response.status).toBe(403);
  });

  it('ends with the session: an unknown or ended session is anonymous', async () => {
    const response = await fetch(`${portal.url}/api/v1/me`, {
      headers: { cookie: 'orgadmin_session=forged' },
    });
    expect(response.status).toBe(401);
  });
});

describe('errors', () => {
  it('answers unknown API routes and bad parameters with the one error shape', async () => {
    const unknown = await call('GET', '/nothing-here', { session: sessions.viewer! });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ code: 'not_found', message: 'No such API route.', details: {} });

    const badQuery = await call('GET', '/organizations?limit=5000', { session: sessions.viewer! });
    expect(badQuery.status).toBe(400);
    expect(await badQuery.json()).toMatchObject({
      code: 'request.invalid',
      details: { issues: [{ path: 'query.limit', message: 'must be at most 200' }] },
    });

    const badSpec = await call('POST', '/organizations/plan', {
      session: sessions.operator!,
      body: { spec: { name: 'Acme Corp' } },
    });
    expect(badSpec.status).toBe(400);
    expect(await badSpec.json()).toMatchObject({
      code: 'spec.invalid',
      details: { issues: [{ path: 'name', message: expect.stringContaining('lowercase') as unknown }] },
    });
  });
});
