/**
 * Operator sign-in end to end: the portal sends the browser to auth0-local's login page (authorization code +
 * PKCE), the callback starts a session in an HttpOnly SameSite=Lax cookie carrying the roles from the namespaced
 * claim, signing in again rotates the session, `reauth=1` forces a fresh sign-in at the provider, sign-out needs the
 * CSRF token and ends the session at both ends. Bearer tokens issued for the portal's API carry roles by scope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { managementClient, SignInBrowser, useAuth0Local, type SignInStep } from '../helpers/auth0-local.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startTestPortal, type TestPortal } from '../helpers/portal.js';

const local = useAuth0Local();
let database: TestDatabase;
let portal: TestPortal;

beforeAll(async () => {
  database = await createTestDatabase();
  portal = await startTestPortal(local, database, { worker: false });
});
afterAll(async () => {
  await portal?.close();
  await database?.drop();
});

const operator = () => portal.portal.operators.find((candidate) => candidate.role === 'operator')!;

/** The portal's side of a browser: its session cookie, set by /auth/callback. */
class PortalBrowser {
  cookie: string | undefined;
  readonly idp = new SignInBrowser(local.domain);

  async get(path: string): Promise<Response> {
    const response = await fetch(`${portal.url}${path}`, {
      redirect: 'manual',
      headers: this.cookie ? { cookie: this.cookie } : {},
    });
    const set = response.headers.getSetCookie().find((line) => line.startsWith('orgadmin_session='));
    if (set) this.cookie = set.split(';')[0];
    return response;
  }

  /** Starts a sign-in at the portal and returns auth0-local's first page. */
  async startSignIn(query = 'returnTo=%2Forganizations'): Promise<SignInStep> {
    const login = await this.get(`/auth/login?${query}`);
    expect(login.status).toBe(302);
    const authorize = new URL(login.headers.get('location')!);
    expect(authorize.origin).toBe(`https://${local.domain}`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    return this.idp.open(authorize);
  }

  /** Completes a step that left auth0-local for the portal's callback; returns the callback's response. */
  async finish(step: SignInStep): Promise<Response> {
    if (step.kind !== 'left')
      throw new Error(`still on auth0-local: ${step.kind === 'page' ? step.html.slice(0, 300) : ''}`);
    expect(step.location.origin + step.location.pathname).toBe(`${portal.url}/auth/callback`);
    return this.get(step.location.pathname + step.location.search);
  }

  /** Signs in, with the login form or — while auth0-local's own session lasts — without it. */
  async signIn(email: string, password: string): Promise<Response> {
    const step = await this.startSignIn();
    return this.finish(
      step.kind === 'page' ? await this.idp.submit(step, { username: email, password }) : step,
    );
  }

  me(): Promise<Response> {
    return fetch(`${portal.url}/api/v1/me`, { headers: this.cookie ? { cookie: this.cookie } : {} });
  }
}

describe('operator sign-in', () => {
  it('signs an operator in through auth0-local and starts a session with their role', async () => {
    const browser = new PortalBrowser();
    const anonymous = await browser.me();
    expect(anonymous.status).toBe(401);

    const page = await browser.startSignIn();
    expect(page.kind === 'page' && page.html).toContain('Org Admin Portal');
    const callback = await browser.finish(
      await browser.idp.submit(page, { username: operator().email, password: operator().password }),
    );
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe('/organizations');
    const cookie = callback.headers.getSetCookie().find((line) => line.startsWith('orgadmin_session='))!;
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Lax/i);
    expect(cookie).toMatch(/; Path=\//i);
    // The documented exception: plain http on 127.0.0.1 (development) cannot carry a Secure cookie.
    expect(cookie).not.toMatch(/; Secure/i);

    const me = (await (await browser.me()).json()) as {
      user: { email: string };
      roles: string[];
      csrfToken: string;
    };
    expect(me.user.email).toBe(operator().email);
    expect(me.roles).toEqual(['operator']);
    expect(me.csrfToken).toMatch(/^[\w-]{43}$/);
  });

  it('refuses a wrong password at the provider, and a replayed or forged callback at the portal', async () => {
    const browser = new PortalBrowser();
    const page = await browser.startSignIn();
    const wrong = await browser.idp.submit(page, {
      username: operator().email,
      password: 'not-the-password',
    });
    expect(wrong.kind).toBe('page');
    const right = await browser.idp.submit(wrong, {
      username: operator().email,
      password: operator().password,
    });
    if (right.kind !== 'left') throw new Error('expected the redirect back to the portal');
    expect((await browser.finish(right)).status).toBe(302);
    // The same code and state again: the sign-in transaction is single use.
    const replay = await fetch(`${portal.url}${right.location.pathname}${right.location.search}`, {
      redirect: 'manual',
    });
    expect(replay.status).toBe(400);
    const forged = await fetch(`${portal.url}/auth/callback?code=abc&state=made-up`, { redirect: 'manual' });
    expect(forged.status).toBe(400);
  });

  it('rotates the session on every sign-in: the old cookie stops working', async () => {
    const browser = new PortalBrowser();
    await browser.signIn(operator().email, operator().password);
    const first = browser.cookie;
    await browser.signIn(operator().email, operator().password);
    expect(browser.cookie).not.toBe(first);
    expect((await browser.me()).status).toBe(200);
    const old = await fetch(`${portal.url}/api/v1/me`, { headers: { cookie: first! } });
    expect(old.status).toBe(401);
  });

  it('asks the provider for a fresh sign-in with reauth=1 even while its own session is alive', async () => {
    const browser = new PortalBrowser();
    await browser.signIn(operator().email, operator().password);
    // A second plain sign-in rides on auth0-local's SSO session: no login page.
    const silent = await browser.startSignIn();
    expect(silent.kind).toBe('left');
    const forced = await browser.startSignIn('reauth=1&returnTo=%2Forganizations%2Facme%3Fremove%3D1');
    expect(forced.kind).toBe('page');
    const back = await browser.finish(
      await browser.idp.submit(forced, { username: operator().email, password: operator().password }),
    );
    expect(back.headers.get('location')).toBe('/organizations/acme?remove=1');
    const me = (await (await browser.me()).json()) as { authTime: string };
    expect(Date.now() - Date.parse(me.authTime)).toBeLessThan(60_000);
  });

  it('never redirects to another site after sign-in', async () => {
    const browser = new PortalBrowser();
    const page = await browser.startSignIn('returnTo=https%3A%2F%2Fevil.example%2F');
    const back = await browser.finish(
      await browser.idp.submit(page, { username: operator().email, password: operator().password }),
    );
    expect(back.headers.get('location')).toBe('/');
  });

  it('signs out only with the CSRF token, ending the session here and at the provider', async () => {
    const browser = new PortalBrowser();
    await browser.signIn(operator().email, operator().password);
    const { csrfToken } = (await (await browser.me()).json()) as { csrfToken: string };
    const forged = await fetch(`${portal.url}/auth/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: browser.cookie!, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf=wrong',
    });
    expect(forged.status).toBe(403);
    expect((await browser.me()).status).toBe(200);

    const out = await fetch(`${portal.url}/auth/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: browser.cookie!, 'content-type': 'application/x-www-form-urlencoded' },
      body: `csrf=${csrfToken}`,
    });
    expect(out.status).toBe(303);
    const endSession = new URL(out.headers.get('location')!);
    expect(endSession.origin).toBe(`https://${local.domain}`);
    expect((await browser.me()).status).toBe(401);
    const ended = await browser.idp.open(endSession);
    expect(ended.kind === 'left' && ended.location.href).toBe(`${portal.url}/auth/signed-out`);
    // The provider's session is gone too: the next sign-in shows the login page again.
    expect((await browser.startSignIn()).kind).toBe('page');
  });

  it('refuses users without a portal role', async () => {
    const api = managementClient(local);
    const password = 'Nobody-has-a-role-1';
    await api.users.create({
      connection: 'orgadmin-operators',
      email: 'norole@orgadmin.local',
      password,
      email_verified: true,
    });
    const browser = new PortalBrowser();
    const response = await browser.signIn('norole@orgadmin.local', password);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('no Org Admin Portal role');
    expect(browser.cookie).toBeUndefined();
  });
});

describe('Bearer access tokens for the API', () => {
  async function tokenFor(scope: string): Promise<string> {
    const api = managementClient(local);
    const client = await api.clients.create({ name: `ci ${scope}`, app_type: 'non_interactive' });
    await api.clientGrants.create({
      client_id: client.client_id!,
      audience: 'https://orgadmin.local/api',
      scope: [scope],
    });
    const response = await fetch(`https://${local.domain}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
        audience: 'https://orgadmin.local/api',
      }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  it('takes the role from the token’s orgadmin:<role> scope, and needs no CSRF token', async () => {
    const viewerToken = await tokenFor('orgadmin:viewer');
    const me = await fetch(`${portal.url}/api/v1/me`, {
      headers: { authorization: `Bearer ${viewerToken}` },
    });
    expect(await me.json()).toMatchObject({ via: 'bearer', roles: ['viewer'], csrfToken: null });
    const refused = await fetch(`${portal.url}/api/v1/organizations/plan`, {
      method: 'POST',
      headers: { authorization: `Bearer ${viewerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ spec: { name: 'acme' } }),
    });
    expect(refused.status).toBe(403);

    const operatorToken = await tokenFor('orgadmin:operator');
    const planned = await fetch(`${portal.url}/api/v1/organizations/plan`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ spec: { name: 'acme' } }),
    });
    expect(planned.status).toBe(200);
  });

  it('refuses tokens for another audience, tampered tokens and garbage', async () => {
    const management = await fetch(`https://${local.domain}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: local.clientId,
        client_secret: local.clientSecret,
        audience: local.audience,
      }),
    });
    const { access_token: managementToken } = (await management.json()) as { access_token: string };
    const good = await tokenFor('orgadmin:admin');
    const [header, payload] = good.split('.');
    const tampered = `${header}.${payload}.${'A'.repeat(342)}`;
    for (const token of [managementToken, tampered, 'garbage']) {
      const response = await fetch(`${portal.url}/api/v1/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(401);
    }
  });
});
