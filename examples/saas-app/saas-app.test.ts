/**
 * The example SaaS app as orgadmin sees it: real signed messages (orgadmin's own sender) to its hook endpoint, its
 * rows in a fresh database, and an Auth0 organization login against auth0-local driven like a browser would.
 */
import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sendWebhook } from '../../src/adapters/webhooks/webhook-sender.js';
import type { WebhookAnswer, WebhookMessage } from '../../src/ports/app-hooks.js';
import { managementClient, SignInBrowser, useAuth0Local } from '../../test/helpers/auth0-local.js';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/database.js';
import { ensureSaasAppClient } from './src/auth0-application.js';
import { startSaasApp, type SaasApp } from './src/saas-app.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let database: TestDatabase;
let app: SaasApp;

beforeAll(async () => {
  database = await createTestDatabase();
  app = await startSaasApp({ databaseUrl: database.url, hookSecret: SECRET, faults: true });
});

afterAll(async () => {
  await app?.close();
  await database?.drop();
});

type Phase = 'before-auth0' | 'after-auth0' | 'on-remove' | 'on-compensate';

let runs = 0;
/** A run id of its own for each test, so tests never share webhook-ids. */
const newRun = (): string => `run-${process.pid}-${++runs}-${randomBytes(2).toString('hex')}`;

function hook(
  phase: Phase,
  options: {
    runId: string;
    step: number;
    org: string;
    displayName?: string;
    auth0OrgId?: string;
    compensates?: Phase;
  },
): WebhookMessage {
  return {
    id: `run_${options.runId}_step_${options.step}`,
    type: `hook.${phase}`,
    data: {
      phase,
      run: { id: options.runId, kind: 'apply', requestedBy: 'alice@example.com' },
      organization: {
        name: options.org,
        tenant: 'example.eu.auth0.com',
        spec: { name: options.org, displayName: options.displayName, connections: [] },
        auth0Ids: options.auth0OrgId ? { organization: options.auth0OrgId } : {},
      },
      ...(options.compensates ? { compensates: options.compensates } : {}),
    },
  };
}

function lifecycleEvent(
  type: string,
  eventId: number,
  org: string,
  options: { displayName?: string; auth0OrgId?: string; runState?: string } = {},
): WebhookMessage {
  return {
    id: `evt_${eventId}`,
    type,
    data: {
      eventId: String(eventId),
      organization: {
        name: org,
        tenant: 'example.eu.auth0.com',
        status: 'active',
        spec: { name: org, displayName: options.displayName },
        auth0Ids: options.auth0OrgId ? { organization: options.auth0OrgId } : {},
        appData: {},
      },
      run: { id: 'r1', kind: 'apply', state: options.runState ?? 'succeeded', error: null },
    },
  };
}

const send = (message: WebhookMessage, secret = SECRET): Promise<WebhookAnswer> =>
  sendWebhook({ url: app.hookUrl, secret, allowPrivateNetwork: true }, message);

const bodyOf = (answer: WebhookAnswer): Record<string, unknown> =>
  JSON.parse(answer.body) as Record<string, unknown>;

const rowsOf = async (org: string) => (await app.organizations()).filter((row) => row.orgName === org);

const callsOf = async (webhookId: string) =>
  (await app.hookCalls()).filter((call) => call.webhookId === webhookId).map((call) => call.status);

/** Event ids unique in this file (the events table is shared by its tests). */
let nextEventId = 1000;

describe('signatures', () => {
  it('refuses a message signed with another secret, or not signed, with 401 and stores nothing', async () => {
    const runId = newRun();
    const message = hook('before-auth0', { runId, step: 0, org: 'forged' });
    const forged = await send(message, `whsec_${randomBytes(32).toString('base64')}`);
    expect(forged.status).toBe(401);
    expect(bodyOf(forged)).toMatchObject({ error: expect.stringMatching(/signature/) as unknown });

    const unsigned = await fetch(app.hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'hook.before-auth0', timestamp: new Date().toISOString(), data: {} }),
    });
    expect(unsigned.status).toBe(401);

    expect(await rowsOf('forged')).toEqual([]);
    expect(await callsOf(message.id)).toEqual([]);
  });
});

describe('hooks', () => {
  it('before-auth0 creates one row in state provisioning and answers its app id', async () => {
    const runId = newRun();
    const answer = await send(hook('before-auth0', { runId, step: 0, org: 'acme', displayName: 'Acme' }));
    expect(answer.status).toBe(200);
    const { appOrgId } = bodyOf(answer);
    expect(appOrgId).toMatch(/^app_\d+$/);
    expect(await rowsOf('acme')).toEqual([
      expect.objectContaining({ appOrgId, displayName: 'Acme', state: 'provisioning', auth0OrgId: null }),
    ]);
  });

  it('answers a repeated webhook-id as the first time, without doing the work again', async () => {
    const runId = newRun();
    const message = hook('before-auth0', { runId, step: 0, org: 'initech', displayName: 'Initech' });
    const first = await send(message);
    const rowBefore = await rowsOf('initech');
    const again = await send(message);
    expect(again.status).toBe(200);
    expect(bodyOf(again)).toEqual(bodyOf(first));
    const rowAfter = await rowsOf('initech');
    expect(rowAfter).toHaveLength(1);
    expect(rowAfter[0]!.updatedAt).toEqual(rowBefore[0]!.updatedAt);
    expect(await callsOf(message.id)).toEqual([200, 200]);
    expect((await app.hookCalls()).find((call) => call.webhookId === message.id)).toMatchObject({
      type: 'hook.before-auth0',
      orgName: 'initech',
    });
  });

  it('answers two concurrent deliveries of one webhook-id alike, doing the work once', async () => {
    const runId = newRun();
    const message = hook('before-auth0', { runId, step: 0, org: 'hooli' });
    const [one, two] = await Promise.all([send(message), send(message)]);
    expect([one.status, two.status]).toEqual([200, 200]);
    expect(bodyOf(one)).toEqual(bodyOf(two));
    expect(await rowsOf('hooli')).toHaveLength(1);
  });

  it('after-auth0 records the Auth0 organization, marks the row ready and answers the sign-in URL', async () => {
    const runId = newRun();
    const before = bodyOf(await send(hook('before-auth0', { runId, step: 0, org: 'umbrella' })));
    const after = await send(hook('after-auth0', { runId, step: 5, org: 'umbrella', auth0OrgId: 'org_umb' }));
    expect(after.status).toBe(200);
    expect(bodyOf(after)).toEqual({
      appOrgId: before['appOrgId'],
      signInUrl: `${app.url}/login?organization=umbrella`,
    });
    expect(await rowsOf('umbrella')).toEqual([
      expect.objectContaining({ state: 'ready', auth0OrgId: 'org_umb', displayName: 'umbrella' }),
    ]);
  });

  it('answers an after-auth0 without the Auth0 organization id with 400 (a permanent failure)', async () => {
    const answer = await send(hook('after-auth0', { runId: newRun(), step: 5, org: 'no-id' }));
    expect(answer.status).toBe(400);
    expect(bodyOf(answer)['error']).toMatch(/data\.organization\.auth0Ids\.organization/);
    expect(await rowsOf('no-id')).toEqual([]);
  });

  it('on-compensate deletes the row its run created, and keeps one an earlier run created', async () => {
    const created = newRun();
    await send(hook('before-auth0', { runId: created, step: 0, org: 'cyberdyne' }));
    const changed = newRun();
    await send(hook('before-auth0', { runId: changed, step: 0, org: 'cyberdyne', displayName: 'Cyberdyne' }));
    const undoChange = await send(
      hook('on-compensate', { runId: changed, step: 9, org: 'cyberdyne', compensates: 'before-auth0' }),
    );
    expect(undoChange.status).toBe(200);
    expect(await rowsOf('cyberdyne')).toHaveLength(1);

    const undoCreate = await send(
      hook('on-compensate', { runId: created, step: 9, org: 'cyberdyne', compensates: 'before-auth0' }),
    );
    expect([undoCreate.status, bodyOf(undoCreate)]).toEqual([200, {}]);
    expect(await rowsOf('cyberdyne')).toEqual([]);
  });

  it('on-remove deletes the row, and is harmless when there is none', async () => {
    await send(hook('before-auth0', { runId: newRun(), step: 0, org: 'soylent' }));
    const removal = newRun();
    const removed = await send(hook('on-remove', { runId: removal, step: 0, org: 'soylent' }));
    expect([removed.status, bodyOf(removed)]).toEqual([200, {}]);
    expect(await rowsOf('soylent')).toEqual([]);
    const again = await send(hook('on-remove', { runId: newRun(), step: 0, org: 'soylent' }));
    expect(again.status).toBe(200);
  });

  it('accepts and ignores a message type it does not know (forward compatible)', async () => {
    const answer = await send({ id: 'msg_test_1', type: 'hook.test', data: {} });
    expect(answer.status).toBe(200);
    const future = await send({ id: 'msg_future_1', type: 'organization.archived', data: { anything: 1 } });
    expect(future.status).toBe(200);
  });

  it('answers a known type with the wrong shape with 400 naming the field', async () => {
    const answer = await send({
      id: `run_${newRun()}_step_0`,
      type: 'hook.before-auth0',
      data: { run: { id: 'r' } },
    });
    expect(answer.status).toBe(400);
    expect(bodyOf(answer)['error']).toMatch(/data\.organization/);
  });
});

describe('faults', () => {
  it('after a lost answer (500 three times after the work committed) the repeat gets the original answer', async () => {
    const runId = newRun();
    app.injectFault({ status: 500, times: 3, match: 'hook.before-auth0', afterProcessing: true });
    const message = hook('before-auth0', { runId, step: 0, org: 'vandelay' });
    const statuses: number[] = [];
    let last: WebhookAnswer | undefined;
    for (let attempt = 0; attempt < 4; attempt += 1) {
      last = await send(message);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([500, 500, 500, 200]);
    expect(await callsOf(message.id)).toEqual([500, 500, 500, 200]);
    const rows = await rowsOf('vandelay');
    expect(rows).toHaveLength(1);
    expect(bodyOf(last!)).toEqual({ appOrgId: rows[0]!.appOrgId });
  });

  it('a fault before processing does nothing; the retry does the work', async () => {
    const runId = newRun();
    app.injectFault({ status: 503, times: 1, match: 'hook.before-auth0' });
    const message = hook('before-auth0', { runId, step: 0, org: 'wonka' });
    expect((await send(message)).status).toBe(503);
    expect(await rowsOf('wonka')).toEqual([]);
    expect((await send(message)).status).toBe(200);
    expect(await rowsOf('wonka')).toHaveLength(1);
  });

  it('a fault applies only to the type it matches', async () => {
    app.injectFault({ status: 500, times: 1, match: 'hook.on-remove' });
    const answer = await send(hook('before-auth0', { runId: newRun(), step: 0, org: 'gringotts' }));
    expect(answer.status).toBe(200);
    expect((await send(hook('on-remove', { runId: newRun(), step: 0, org: 'gringotts' }))).status).toBe(500);
  });

  it('while down answers 503 and processes nothing', async () => {
    const runId = newRun();
    const message = hook('before-auth0', { runId, step: 0, org: 'tyrell' });
    app.setDown(true);
    try {
      expect((await send(message)).status).toBe(503);
      expect((await send(lifecycleEvent('organization.created', ++nextEventId, 'tyrell'))).status).toBe(503);
      expect(await rowsOf('tyrell')).toEqual([]);
    } finally {
      app.setDown(false);
    }
    expect((await send(message)).status).toBe(200);
    expect(await rowsOf('tyrell')).toHaveLength(1);
  });
});

describe('lifecycle events', () => {
  it('records events once per webhook-id, in arrival order, and applies created and removed', async () => {
    const created = ++nextEventId;
    const succeeded = ++nextEventId;
    const removed = ++nextEventId;
    const ok = async (message: WebhookMessage): Promise<void> => {
      expect((await send(message)).status).toBe(200);
    };
    await ok(
      lifecycleEvent('organization.created', created, 'oscorp', {
        displayName: 'Oscorp',
        auth0OrgId: 'org_o',
      }),
    );
    await ok(lifecycleEvent('run.succeeded', succeeded, 'oscorp'));
    expect(await rowsOf('oscorp')).toEqual([
      expect.objectContaining({ displayName: 'Oscorp', auth0OrgId: 'org_o', state: 'ready' }),
    ]);
    await ok(lifecycleEvent('organization.created', created, 'oscorp', { displayName: 'Renamed meanwhile' }));
    await ok(lifecycleEvent('organization.removed', removed, 'oscorp'));

    const events = (await app.eventsReceived()).filter((event) => event.orgName === 'oscorp');
    expect(events.map((event) => [event.webhookId, event.type, event.eventId])).toEqual([
      [`evt_${created}`, 'organization.created', String(created)],
      [`evt_${succeeded}`, 'run.succeeded', String(succeeded)],
      [`evt_${removed}`, 'organization.removed', String(removed)],
    ]);
    expect(events[1]!.runState).toBe('succeeded');
    expect(await rowsOf('oscorp')).toEqual([]);
  });
});

describe('the organizations page', () => {
  it('lists organizations with every value escaped', async () => {
    const runId = newRun();
    const org = { org: 'evil', displayName: '<script>alert(1)</script>' };
    await send(hook('before-auth0', { runId, step: 0, ...org }));
    await send(hook('after-auth0', { runId, step: 3, ...org, auth0OrgId: 'org_"x"' }));
    const response = await fetch(`${app.url}/`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('org_&quot;x&quot;');
  });
});

describe('organization login through auth0-local', () => {
  const local = useAuth0Local();
  const member = { email: 'ada@globex.example', password: 'Ada-Lovelace-1815' };
  const outsider = { email: 'eve@elsewhere.example', password: 'Eve-Outsider-2024' };
  let auth0OrgId: string;

  beforeAll(async () => {
    const api = managementClient(local);
    const client = await ensureSaasAppClient(api, app.url);
    app.useAuth0({ issuer: `https://${local.domain}/`, ...client });
    const connection = await api.connections.create({ name: 'globex-db', strategy: 'auth0' });
    await api.connections.clients.update(connection.id!, [{ client_id: client.clientId, status: true }]);
    const org = await api.organizations.create({ name: 'globex', display_name: 'Globex' });
    auth0OrgId = org.id!;
    await api.organizations.enabledConnections.add(auth0OrgId, { connection_id: connection.id! });
    const ada = await api.users.create({ connection: 'globex-db', ...member, email_verified: true });
    await api.users.create({ connection: 'globex-db', ...outsider, email_verified: true });
    await api.organizations.members.create(auth0OrgId, { members: [ada.user_id!] });

    // The app learns about the organization the way orgadmin tells it.
    const runId = newRun();
    // Every hook of a run carries the same desired spec.
    const spec = { org: 'globex', displayName: 'Globex <Ltd>' };
    await send(hook('before-auth0', { runId, step: 0, ...spec }));
    await send(hook('after-auth0', { runId, step: 4, ...spec, auth0OrgId }));
  });

  /** Starts at the app's /login, signs in on auth0-local's page, and returns the callback URL and login cookie. */
  async function signIn(who: {
    email: string;
    password: string;
  }): Promise<{ callback: URL; cookie: string }> {
    const start = await fetch(`${app.url}/login?organization=globex`, { redirect: 'manual' });
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get('location')!);
    expect(authorize.searchParams.get('organization')).toBe(auth0OrgId);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    const cookie = start.headers.getSetCookie()[0]!.split(';')[0]!;
    const browser = new SignInBrowser(local.domain);
    const form = await browser.open(authorize);
    expect(form).toMatchObject({ kind: 'page', status: 200 });
    const back = await browser.submit(form, { username: who.email, password: who.password });
    if (back.kind !== 'left')
      throw new Error(`expected a redirect to the app, got ${back.status} ${back.url}`);
    expect(`${back.location.origin}${back.location.pathname}`).toBe(`${app.url}/callback`);
    return { callback: back.location, cookie };
  }

  it('signs a member in to the organization', async () => {
    const { callback, cookie } = await signIn(member);
    // Without the browser's login cookie the callback is refused (and the login stays usable by its browser).
    const elsewhere = await fetch(callback);
    expect(elsewhere.status).toBe(400);
    const response = await fetch(callback, { headers: { cookie } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('Signed in to Globex &lt;Ltd&gt; as ada@globex.example');
  });

  it('shows Auth0’s refusal when the user is not a member', async () => {
    const { callback, cookie } = await signIn(outsider);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    const response = await fetch(callback, { headers: { cookie } });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('Sign-in refused');
  });

  it('passes an invitation link’s invitation and organization (the Auth0 id) on to Auth0', async () => {
    const link = `${app.url}/login?invitation=inv_abc&organization=${auth0OrgId}&organization_name=globex`;
    const response = await fetch(link, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const authorize = new URL(response.headers.get('location')!);
    expect(authorize.searchParams.get('invitation')).toBe('inv_abc');
    expect(authorize.searchParams.get('organization')).toBe(auth0OrgId);
  });

  it('answers 404 for an organization it does not know', async () => {
    const response = await fetch(`${app.url}/login?organization=nobody`, { redirect: 'manual' });
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('Unknown organization');
  });
});
