/**
 * The sign-in side of auth0-local (Auth0's Authentication API): discovery, /authorize with the login, sign-up and
 * invitation pages, the authorization code grant with PKCE, refresh token rotation, /userinfo, logout, the roles
 * claim, and the password-change ticket page. Driven as an application and a browser would drive it: openid-client
 * for the relying party where it fits, plain fetch with manual redirects and a cookie jar for the browser.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ManagementClient } from 'auth0';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  adminApi,
  failure,
  managementClient,
  SignInBrowser,
  startTestAuth0Local,
  useAuth0Local,
  type SignInStep,
  type TestAuth0Local,
} from '../helpers/auth0-local.js';

const ROLES_CLAIM = 'https://orgadmin.dev/roles';
const CALLBACK = 'https://portal.example/callback';
const ORG_CALLBACK = 'https://{organization_name}.portal.example/callback';
const LOGOUT_URL = 'https://portal.example/bye';
const API = 'https://api.portal.example';
const DATABASE = 'Username-Password-Authentication';
/** The SSO cookie of the tenant named `default` (auth0-local names it after the tenant). */
const SESSION_COOKIE = 'auth0_default';
const ADA = { email: 'ada@acme.example', password: 'Ada-Lovelace-1815', name: 'Ada Lovelace' };
const BOB = { email: 'bob@elsewhere.example', password: 'Bob-Builder-1999' };

const local = useAuth0Local({ rolesClaim: ROLES_CLAIM });

interface Fixture {
  api: ManagementClient;
  issuer: string;
  portal: { id: string; secret: string };
  /** A client whose organization_usage is Auth0's default (deny) and whose refresh tokens do not rotate. */
  plain: { id: string; secret: string };
  spa: { id: string };
  databaseId: string;
  acme: { id: string };
  adaId: string;
  bobId: string;
  roles: { viewer: string; orgAdmin: string };
}

let fx: Fixture;

beforeAll(async () => {
  const api = managementClient(local);
  const portal = await api.clients.create({
    name: 'Portal',
    app_type: 'regular_web',
    callbacks: [CALLBACK, ORG_CALLBACK],
    allowed_logout_urls: [LOGOUT_URL],
    initiate_login_uri: 'https://portal.example/login',
    organization_usage: 'allow',
    refresh_token: { rotation_type: 'rotating', expiration_type: 'expiring' },
  });
  const plain = await api.clients.create({ name: 'Plain', app_type: 'regular_web', callbacks: [CALLBACK] });
  const spa = await api.clients.create({ name: 'Spa', app_type: 'spa', callbacks: [CALLBACK] });
  const database = (await api.connections.list({ name: DATABASE, take: 1 })).data[0]!;
  await api.connections.clients.update(
    database.id!,
    [portal, plain, spa].map((client) => ({ client_id: client.client_id!, status: true })),
  );
  await api.resourceServers.create({
    identifier: API,
    name: 'Portal API',
    scopes: [{ value: 'read:reports' }, { value: 'write:reports' }],
    allow_offline_access: true,
  });
  const acme = await api.organizations.create({ name: 'acme', display_name: 'Acme Corporation' });
  await api.organizations.enabledConnections.add(acme.id!, { connection_id: database.id! });
  const viewer = await api.roles.create({ name: 'viewer' });
  const orgAdmin = await api.roles.create({ name: 'org-admin' });
  const ada = await api.users.create({ connection: DATABASE, ...ADA, email_verified: true });
  const bob = await api.users.create({ connection: DATABASE, ...BOB });
  await api.users.roles.assign(ada.user_id!, { roles: [viewer.id!] });
  await api.organizations.members.create(acme.id!, { members: [ada.user_id!] });
  await api.organizations.members.roles.assign(acme.id!, ada.user_id!, { roles: [orgAdmin.id!] });
  fx = {
    api,
    issuer: `https://${local.domain}/`,
    portal: { id: portal.client_id!, secret: portal.client_secret! },
    plain: { id: plain.client_id!, secret: plain.client_secret! },
    spa: { id: spa.client_id! },
    databaseId: database.id!,
    acme: { id: acme.id! },
    adaId: ada.user_id!,
    bobId: bob.user_id!,
    roles: { viewer: viewer.id!, orgAdmin: orgAdmin.id! },
  };
});

function authorizeUrl(params: Record<string, string> = {}, domain = local.domain): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: fx.portal.id,
    redirect_uri: CALLBACK,
    scope: 'openid profile email',
    state: 'st-1',
    nonce: 'n-1',
    ...params,
  });
  return `https://${domain}/authorize?${query.toString()}`;
}

function left(step: SignInStep): URL {
  if (step.kind !== 'left')
    throw new Error(`expected a redirect to the application, got ${step.status} ${step.url}`);
  return step.location;
}

function onPage(step: SignInStep): Extract<SignInStep, { kind: 'page' }> {
  if (step.kind !== 'page') throw new Error(`expected a page, got a redirect to ${step.location.toString()}`);
  return step;
}

/** Opens /authorize, signs in on the form if one is shown, and returns the redirect back to the application. */
async function signIn(
  browser: SignInBrowser,
  who: { email: string; password: string },
  params: Record<string, string> = {},
): Promise<URL> {
  const step = await browser.open(authorizeUrl(params));
  return left(
    step.kind === 'page' ? await browser.submit(step, { username: who.email, password: who.password }) : step,
  );
}

async function token(
  body: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`https://${local.domain}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Exchanges a code as the confidential Portal client (client_secret_post). */
async function exchange(location: URL, extra: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const result = await token({
    grant_type: 'authorization_code',
    client_id: fx.portal.id,
    client_secret: fx.portal.secret,
    code: location.searchParams.get('code') ?? '',
    redirect_uri: `${location.origin}${location.pathname}`,
    ...extra,
  });
  expect(result.status).toBe(200);
  return result.json;
}

const claimsOf = (jwt: unknown): JWTPayload => decodeJwt(String(jwt));

const admin = adminApi(local);

describe('discovery and the authorization code flow through openid-client', () => {
  it('publishes a discovery document like Auth0’s', async () => {
    const response = await fetch(`https://${local.domain}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      issuer: fx.issuer,
      authorization_endpoint: `${fx.issuer}authorize`,
      token_endpoint: `${fx.issuer}oauth/token`,
      userinfo_endpoint: `${fx.issuer}userinfo`,
      jwks_uri: `${fx.issuer}.well-known/jwks.json`,
      end_session_endpoint: `${fx.issuer}oidc/logout`,
      response_types_supported: expect.arrayContaining(['code']) as unknown,
      code_challenge_methods_supported: ['S256', 'plain'],
      id_token_signing_alg_values_supported: ['RS256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      scopes_supported: expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']) as unknown,
      claims_supported: expect.arrayContaining(['sub', 'email', 'org_id']) as unknown,
    });
  });

  it('signs a user in with code + PKCE and returns a valid ID token with the tenant-level roles claim', async () => {
    const config = await oidc.discovery(new URL(fx.issuer), fx.portal.id, fx.portal.secret);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const browser = new SignInBrowser(local.domain);
    const form = onPage(await browser.open(url));
    expect(form.status).toBe(200);
    expect(new URL(form.url).pathname).toBe('/u/login');
    expect(form.html).toContain('<label for="username">Email</label>');
    expect(form.html).toContain('<label for="password">Password</label>');
    expect(form.html).toMatch(/<button type="submit"[^>]*>Continue<\/button>/);
    expect(form.html).toContain('Log in to continue to Portal.');
    // The transaction is kept server-side; the page only carries its id.
    expect(form.html).toMatch(/<input type="hidden" name="state" value="[\w-]{43}">/);
    expect(form.html).not.toContain(verifier);

    const callback = left(await browser.submit(form, { username: ADA.email, password: ADA.password }));
    expect(`${callback.origin}${callback.pathname}`).toBe(CALLBACK);
    expect(callback.searchParams.get('state')).toBe(state);

    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({
      iss: fx.issuer,
      aud: fx.portal.id,
      sub: fx.adaId,
      nonce,
      email: ADA.email,
      email_verified: true,
      name: ADA.name,
      nickname: 'ada',
      [ROLES_CLAIM]: ['viewer'],
    });
    expect(claims['sid']).toEqual(expect.any(String));
    expect(claims.auth_time).toBeLessThanOrEqual(claims.iat);
    expect(claims['org_id']).toBeUndefined();
    // The signature checks out against the published JWKS.
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    await jwtVerify(tokens.id_token!, jwks, { issuer: fx.issuer, audience: fx.portal.id });
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'openid profile email', expires_in: 86_400 });
    expect(tokens.refresh_token).toBeUndefined();
    expect(claimsOf(tokens.access_token)).toMatchObject({
      aud: `${fx.issuer}userinfo`,
      sub: fx.adaId,
      azp: fx.portal.id,
      scope: 'openid profile email',
      [ROLES_CLAIM]: ['viewer'],
    });

    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, fx.adaId);
    expect(userinfo).toMatchObject({
      sub: fx.adaId,
      email: ADA.email,
      email_verified: true,
      name: ADA.name,
      nickname: 'ada',
      [ROLES_CLAIM]: ['viewer'],
    });
  });

  it('answers /userinfo 401 without a token and for a token of another audience', async () => {
    expect((await fetch(`https://${local.domain}/userinfo`)).status).toBe(401);
    const m2m = await token({
      grant_type: 'client_credentials',
      client_id: local.clientId,
      client_secret: local.clientSecret,
      audience: local.audience,
    });
    const response = await fetch(`https://${local.domain}/userinfo`, {
      headers: { authorization: `Bearer ${String(m2m.json['access_token'])}` },
    });
    expect(response.status).toBe(401);
  });
});

describe('/authorize validation', () => {
  it('shows an error page, and does not redirect, for an unknown client or a callback URL not allowed', async () => {
    const browser = new SignInBrowser(local.domain);
    const unknown = onPage(await browser.open(authorizeUrl({ client_id: 'nope' })));
    expect(unknown.status).toBe(400);
    expect(unknown.html).toContain('Unknown client: nope');

    const mismatch = onPage(
      await browser.open(authorizeUrl({ redirect_uri: 'https://evil.example/callback' })),
    );
    expect(mismatch.status).toBe(400);
    expect(mismatch.html).toContain(
      'Callback URL mismatch. https://evil.example/callback is not in the list of allowed callback URLs',
    );
    // The {organization_name} placeholder only stands for something when an organization is given.
    const placeholder = onPage(
      await browser.open(authorizeUrl({ redirect_uri: 'https://acme.portal.example/callback' })),
    );
    expect(placeholder.status).toBe(400);
  });

  it('sends errors found after the callback URL back to it, with the state', async () => {
    const browser = new SignInBrowser(local.domain);
    const errorOf = async (params: Record<string, string>): Promise<Record<string, string>> =>
      Object.fromEntries(left(await browser.open(authorizeUrl(params))).searchParams);
    expect(await errorOf({ response_type: 'token' })).toEqual({
      error: 'unsupported_response_type',
      error_description: 'Unsupported response type: token',
      state: 'st-1',
    });
    expect(await errorOf({ audience: 'https://unknown.example' })).toMatchObject({
      error: 'access_denied',
      error_description: 'Service not found: https://unknown.example',
    });
    expect(await errorOf({ client_id: fx.plain.id, organization: 'acme' })).toMatchObject({
      error: 'invalid_request',
      error_description: 'parameter organization is not allowed for this client',
    });
    expect(await errorOf({ prompt: 'none' })).toMatchObject({ error: 'login_required', state: 'st-1' });
  });

  it('shows the error on the form for a wrong password and keeps the transaction for another try', async () => {
    const browser = new SignInBrowser(local.domain);
    const form = onPage(await browser.open(authorizeUrl()));
    const wrong = onPage(await browser.submit(form, { username: ADA.email, password: 'not-her-password' }));
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('<p role="alert" id="error-message">Wrong email or password</p>');
    expect(browser.cookieNames).not.toContain(SESSION_COOKIE);
    const callback = left(await browser.submit(wrong, { username: ADA.email, password: ADA.password }));
    expect(callback.searchParams.get('code')).toMatch(/^[\w-]{43}$/);
    expect(browser.cookieNames).toContain(SESSION_COOKIE);
  });

  it('accepts a login form only from the browser that started the transaction (login CSRF)', async () => {
    const attacker = new SignInBrowser(local.domain);
    const form = onPage(await attacker.open(authorizeUrl()));
    // The victim's browser posts the attacker's form (its hidden transaction id) with the attacker's credentials.
    const victim = new SignInBrowser(local.domain);
    await victim.open(authorizeUrl());
    const refused = onPage(await victim.submit(form, { username: BOB.email, password: BOB.password }));
    expect(refused.status).toBe(400);
    expect(victim.cookieNames).not.toContain(SESSION_COOKIE);
    expect(
      left(await attacker.submit(form, { username: BOB.email, password: BOB.password })).searchParams.has(
        'code',
      ),
    ).toBe(true);
  });
});

describe('organizations', () => {
  it('signs a member in to an organization by name, with org_id, org_name and the organization roles', async () => {
    const browser = new SignInBrowser(local.domain);
    const orgCallback = 'https://acme.portal.example/callback';
    const form = onPage(
      await browser.open(
        authorizeUrl({
          organization: 'acme',
          redirect_uri: orgCallback,
          audience: API,
          scope: 'openid profile email read:reports',
        }),
      ),
    );
    expect(form.html).toContain('Log in to Acme Corporation to continue to Portal.');
    const callback = left(await browser.submit(form, { username: ADA.email, password: ADA.password }));
    expect(`${callback.origin}${callback.pathname}`).toBe(orgCallback);
    // client_secret_basic this time.
    const basic = Buffer.from(`${fx.portal.id}:${fx.portal.secret}`).toString('base64');
    const { status, json } = await token(
      {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code')!,
        redirect_uri: orgCallback,
      },
      { authorization: `Basic ${basic}` },
    );
    expect(status).toBe(200);
    expect(json).toMatchObject({ token_type: 'Bearer', scope: 'openid profile email read:reports' });
    expect(claimsOf(json['id_token'])).toMatchObject({
      sub: fx.adaId,
      org_id: fx.acme.id,
      org_name: 'acme',
      [ROLES_CLAIM]: ['org-admin'],
    });
    expect(claimsOf(json['access_token'])).toMatchObject({
      aud: [API, `${fx.issuer}userinfo`],
      scope: 'openid profile email read:reports',
      org_id: fx.acme.id,
      [ROLES_CLAIM]: ['org-admin'],
    });
  });

  it('refuses a user who is not a member of the organization', async () => {
    const browser = new SignInBrowser(local.domain);
    const callback = await signIn(browser, BOB, { organization: fx.acme.id });
    expect(Object.fromEntries(callback.searchParams)).toEqual({
      error: 'access_denied',
      error_description: `user ${fx.bobId} is not part of the ${fx.acme.id} organization`,
      state: 'st-1',
    });
    expect(browser.cookieNames).not.toContain(SESSION_COOKIE);
  });

  it('completes an invitation: sign-up, exactly one member with the invitation’s roles, the link then spent', async () => {
    const invitee = 'new.admin@acme.example';
    const invitation = await fx.api.organizations.invitations.create(fx.acme.id, {
      inviter: { name: 'Ops' },
      invitee: { email: invitee },
      client_id: fx.portal.id,
      connection_id: fx.databaseId,
      roles: [fx.roles.orgAdmin],
    });
    // The application's login route (initiate_login_uri) passes the link's parameters on to /authorize.
    const link = new URL(invitation.invitation_url!);
    expect(`${link.origin}${link.pathname}`).toBe('https://portal.example/login');
    const params = {
      invitation: link.searchParams.get('invitation')!,
      organization: link.searchParams.get('organization')!,
      organization_name: link.searchParams.get('organization_name')!,
    };
    expect(params.organization_name).toBe('acme');
    const browser = new SignInBrowser(local.domain);
    const signup = onPage(await browser.open(authorizeUrl(params)));
    expect(new URL(signup.url).pathname).toBe('/u/signup');
    expect(signup.html).toContain(`value="${invitee}" readonly`);
    expect(signup.html).toContain('<label for="password">Password</label>');
    expect(signup.html).toContain('Sign up to Acme Corporation to continue to Portal.');

    const weak = onPage(await browser.submit(signup, { password: 'short' }));
    expect(weak.status).toBe(400);
    expect(weak.html).toContain('Password is too weak');
    // The address is the invitee's whatever the form posts.
    const callback = left(
      await browser.submit(weak, { username: 'someone.else@evil.example', password: 'Brand-New-Admin-1' }),
    );
    const tokens = await exchange(callback);
    expect(claimsOf(tokens['id_token'])).toMatchObject({
      email: invitee,
      email_verified: true,
      org_id: fx.acme.id,
      [ROLES_CLAIM]: ['org-admin'],
    });

    const users = await fx.api.users.listUsersByEmail({ email: invitee });
    expect(users.map((user) => user.identities?.[0]?.connection)).toEqual([DATABASE]);
    expect(await fx.api.users.listUsersByEmail({ email: 'someone.else@evil.example' })).toEqual([]);
    const members = await fx.api.organizations.members.list(fx.acme.id, { fields: 'user_id,email,roles' });
    const invited = members.data.filter((member) => member.email === invitee);
    expect(invited).toEqual([
      { user_id: users[0]!.user_id, email: invitee, roles: [{ id: fx.roles.orgAdmin, name: 'org-admin' }] },
    ]);
    const open = await fx.api.organizations.invitations.list(fx.acme.id);
    expect(open.data.map((item) => item.id)).not.toContain(invitation.id);

    const again = left(await new SignInBrowser(local.domain).open(authorizeUrl(params)));
    expect(Object.fromEntries(again.searchParams)).toMatchObject({
      error: 'invalid_request',
      error_description: 'invitation not found or already used',
    });
  });
});

describe('sessions', () => {
  it('skips the form for a second /authorize, and shows it again for prompt=login and max_age=0', async () => {
    const browser = new SignInBrowser(local.domain);
    const first = await signIn(browser, ADA);
    const firstClaims = claimsOf((await exchange(first))['id_token']);

    const silent = left(await browser.open(authorizeUrl({ prompt: 'none', max_age: '3600', state: 'st-2' })));
    expect(silent.searchParams.get('state')).toBe('st-2');
    const silentClaims = claimsOf((await exchange(silent))['id_token']);
    expect(silentClaims).toMatchObject({ sid: firstClaims['sid'], auth_time: firstClaims['auth_time'] });
    expect(left(await browser.open(authorizeUrl())).searchParams.has('code')).toBe(true);

    const forcing: Record<string, string>[] = [{ prompt: 'login' }, { max_age: '0' }];
    for (const params of forcing) {
      const form = onPage(await browser.open(authorizeUrl(params)));
      expect(new URL(form.url).pathname).toBe('/u/login');
      const again = left(await browser.submit(form, { username: ADA.email, password: ADA.password }));
      const claims = claimsOf((await exchange(again))['id_token']);
      // Re-authentication starts a new session.
      expect(claims['sid']).not.toBe(firstClaims['sid']);
      expect(claims['auth_time']).toBeGreaterThanOrEqual(Number(firstClaims['auth_time']));
    }
  });

  it('ends the session at /v2/logout and redirects only to an allowed logout URL', async () => {
    const browser = new SignInBrowser(local.domain);
    await signIn(browser, ADA);
    const bye = left(
      await browser.open(
        `https://${local.domain}/v2/logout?client_id=${fx.portal.id}&returnTo=${LOGOUT_URL}`,
      ),
    );
    expect(bye.toString()).toBe(LOGOUT_URL);
    expect(browser.cookieNames).not.toContain(SESSION_COOKIE);
    expect(left(await browser.open(authorizeUrl({ prompt: 'none' }))).searchParams.get('error')).toBe(
      'login_required',
    );

    const refused = onPage(
      await browser.open(
        `https://${local.domain}/v2/logout?client_id=${fx.portal.id}&returnTo=https://evil.example/`,
      ),
    );
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('is not defined as a valid URL in &quot;Allowed Logout URLs&quot;');
  });

  it('ends the session at /oidc/logout with an id_token_hint and returns the state', async () => {
    const browser = new SignInBrowser(local.domain);
    const idToken = String((await exchange(await signIn(browser, ADA)))['id_token']);
    const logout = (target: string): string =>
      `https://${local.domain}/oidc/logout?${new URLSearchParams({
        id_token_hint: idToken,
        post_logout_redirect_uri: target,
        state: 'bye-1',
      }).toString()}`;
    const refused = onPage(await browser.open(logout('https://evil.example/')));
    expect(refused.status).toBe(400);
    // A refused logout leaves the session alone.
    expect(left(await browser.open(authorizeUrl({ prompt: 'none' }))).searchParams.has('code')).toBe(true);

    const bye = left(await browser.open(logout(LOGOUT_URL)));
    expect(bye.toString()).toBe(`${LOGOUT_URL}?state=bye-1`);
    expect(left(await browser.open(authorizeUrl({ prompt: 'none' }))).searchParams.get('error')).toBe(
      'login_required',
    );
  });
});

describe('/oauth/token', () => {
  it('issues a refresh token only for offline_access and rotates it; a reused one revokes the family', async () => {
    const plainTokens = await exchange(await signIn(new SignInBrowser(local.domain), ADA));
    expect(plainTokens['refresh_token']).toBeUndefined();

    const tokens = await exchange(
      await signIn(new SignInBrowser(local.domain), ADA, { scope: 'openid email offline_access' }),
    );
    const first = String(tokens['refresh_token']);
    expect(tokens['scope']).toBe('openid email offline_access');
    const refresh = (refreshToken: string): Promise<{ status: number; json: Record<string, unknown> }> =>
      token({
        grant_type: 'refresh_token',
        client_id: fx.portal.id,
        client_secret: fx.portal.secret,
        refresh_token: refreshToken,
      });
    const rotated = await refresh(first);
    expect(rotated.status).toBe(200);
    const second = String(rotated.json['refresh_token']);
    expect(second).not.toBe(first);
    expect(claimsOf(rotated.json['id_token'])).toMatchObject({
      sub: fx.adaId,
      auth_time: claimsOf(tokens['id_token'])['auth_time'],
      [ROLES_CLAIM]: ['viewer'],
    });
    expect(claimsOf(rotated.json['id_token'])['nonce']).toBeUndefined();

    const reused = await refresh(first);
    expect(reused).toEqual({
      status: 403,
      json: { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' },
    });
    expect((await refresh(second)).status).toBe(403);
  });

  it('keeps a non-rotating refresh token as it is', async () => {
    const browser = new SignInBrowser(local.domain);
    const callback = await signIn(browser, ADA, { client_id: fx.plain.id, scope: 'openid offline_access' });
    const { json } = await token({
      grant_type: 'authorization_code',
      client_id: fx.plain.id,
      client_secret: fx.plain.secret,
      code: callback.searchParams.get('code')!,
      redirect_uri: CALLBACK,
    });
    const refreshToken = String(json['refresh_token']);
    for (let i = 0; i < 2; i++) {
      const refreshed = await token({
        grant_type: 'refresh_token',
        client_id: fx.plain.id,
        client_secret: fx.plain.secret,
        refresh_token: refreshToken,
      });
      expect(refreshed.status).toBe(200);
      expect(refreshed.json['refresh_token']).toBeUndefined();
    }
  });

  it('lets a public client exchange a code with PKCE only, once, and checks the verifier', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const codeFor = async (): Promise<string> =>
      (
        await signIn(new SignInBrowser(local.domain), ADA, {
          client_id: fx.spa.id,
          code_challenge: challenge,
          code_challenge_method: 'S256',
        })
      ).searchParams.get('code')!;
    const request = (
      code: string,
      codeVerifier: string,
    ): Promise<{ status: number; json: Record<string, unknown> }> =>
      token({
        grant_type: 'authorization_code',
        client_id: fx.spa.id,
        code,
        redirect_uri: CALLBACK,
        code_verifier: codeVerifier,
      });

    expect(await request(await codeFor(), oidc.randomPKCECodeVerifier())).toEqual({
      status: 403,
      json: { error: 'invalid_grant', error_description: 'Failed to verify code verifier' },
    });
    const code = await codeFor();
    const ok = await request(code, verifier);
    expect(ok.status).toBe(200);
    expect(claimsOf(ok.json['id_token'])['aud']).toBe(fx.spa.id);
    expect(await request(code, verifier)).toEqual({
      status: 403,
      json: { error: 'invalid_grant', error_description: 'Invalid authorization code' },
    });
  });

  it('refuses a code for another redirect_uri and a confidential client without its secret', async () => {
    const callback = await signIn(new SignInBrowser(local.domain), ADA);
    const noSecret = await token({
      grant_type: 'authorization_code',
      client_id: fx.portal.id,
      code: callback.searchParams.get('code')!,
      redirect_uri: CALLBACK,
    });
    expect(noSecret).toEqual({
      status: 401,
      json: { error: 'access_denied', error_description: 'Unauthorized' },
    });
    const other = await token({
      grant_type: 'authorization_code',
      client_id: fx.portal.id,
      client_secret: fx.portal.secret,
      code: callback.searchParams.get('code')!,
      redirect_uri: 'https://portal.example/other',
    });
    expect(other.status).toBe(403);
    expect(other.json['error']).toBe('invalid_grant');
  });

  it('issues client-credentials tokens for a custom API with the grant’s scopes', async () => {
    await fx.api.clientGrants.create({ client_id: fx.plain.id, audience: API, scope: ['read:reports'] });
    const { status, json } = await token({
      grant_type: 'client_credentials',
      client_id: fx.plain.id,
      client_secret: fx.plain.secret,
      audience: API,
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({ scope: 'read:reports', token_type: 'Bearer', expires_in: 86_400 });
    expect(claimsOf(json['access_token'])).toMatchObject({
      aud: API,
      sub: `${fx.plain.id}@clients`,
      scope: 'read:reports',
      gty: 'client-credentials',
    });
  });
});

describe('roles', () => {
  it('assigns tenant-level roles through both endpoints and lists them from both sides', async () => {
    const api = fx.api;
    await api.roles.users.assign(fx.roles.viewer, { users: [fx.bobId] });
    expect((await api.users.roles.list(fx.bobId)).data.map((role) => role.name)).toEqual(['viewer']);
    const holders = await api.roles.users.list(fx.roles.viewer);
    expect(holders.data.map((user) => user.user_id).sort()).toEqual([fx.adaId, fx.bobId].sort());
    await api.users.roles.delete(fx.bobId, { roles: [fx.roles.viewer] });
    expect((await api.users.roles.list(fx.bobId)).data).toEqual([]);
    expect((await failure(api.users.roles.assign(fx.bobId, { roles: [] }))).statusCode).toBe(400);
    expect((await failure(api.users.roles.assign(fx.bobId, { roles: ['rol_missing'] }))).body).toMatchObject({
      statusCode: 404,
      message: 'The role does not exist.',
    });
  });

  it('takes the roles claim name from the admin API, and leaves the claim out when it is cleared', async () => {
    const other = 'https://other.example/roles';
    const patched = await admin('PATCH', `/tenants/${local.name}`, { rolesClaim: other });
    expect(patched).toMatchObject({ status: 200, json: { name: local.name, rolesClaim: other } });
    try {
      const claims = claimsOf(
        (await exchange(await signIn(new SignInBrowser(local.domain), ADA)))['id_token'],
      );
      expect(claims[other]).toEqual(['viewer']);
      expect(claims[ROLES_CLAIM]).toBeUndefined();
      expect((await admin('PATCH', `/tenants/${local.name}`, { rolesClaim: null })).status).toBe(200);
      const none = claimsOf((await exchange(await signIn(new SignInBrowser(local.domain), ADA)))['id_token']);
      expect(Object.keys(none).filter((key) => key.includes('roles'))).toEqual([]);
      expect((await admin('PATCH', `/tenants/${local.name}`, { rolesClaim: 'sub' })).status).toBe(400);
    } finally {
      await admin('PATCH', `/tenants/${local.name}`, { rolesClaim: ROLES_CLAIM });
    }
    expect((await admin('GET', `/tenants/${local.name}`)).json).toMatchObject({ rolesClaim: ROLES_CLAIM });
  });
});

describe('password-change tickets', () => {
  it('sets a new password once, marks the email verified and offers the way back to the application', async () => {
    const carol = await fx.api.users.create({
      connection: DATABASE,
      email: 'carol@acme.example',
      password: 'Carol-Original-1',
    });
    const { ticket } = await fx.api.tickets.changePassword({
      user_id: carol.user_id!,
      client_id: fx.portal.id,
      mark_email_as_verified: true,
    });
    expect(ticket).toMatch(new RegExp(`^https://${local.domain}/u/reset-password\\?ticket=\\w+#$`));
    const browser = new SignInBrowser(local.domain);
    const form = onPage(await browser.open(ticket));
    expect(form.status).toBe(200);
    expect(form.html).toContain('<label for="new-password">New password</label>');
    expect(form.html).toContain('<label for="confirm-new-password">Confirm new password</label>');
    expect(form.html).toContain('<button type="submit">Reset password</button>');

    const mismatch = onPage(
      await browser.submit(form, { password: 'Carol-Changed-2', confirm_password: 'Carol-Changed-3' }),
    );
    expect(mismatch.status).toBe(400);
    expect(mismatch.html).toContain('role="alert"');
    const weak = onPage(await browser.submit(form, { password: 'weak', confirm_password: 'weak' }));
    expect(weak.html).toContain('Password is too weak');
    const done = onPage(
      await browser.submit(form, { password: 'Carol-Changed-2', confirm_password: 'Carol-Changed-2' }),
    );
    expect(done.status).toBe(200);
    expect(done.html).toContain('Password Changed!');
    expect(done.html).toContain('<a href="https://portal.example/login">Back to Portal</a>');

    const reused = onPage(await browser.open(ticket));
    expect(reused.status).toBe(400);
    expect(reused.html).toContain('This link has already been used.');
    expect(
      onPage(await browser.submit(form, { password: 'Carol-Again-4', confirm_password: 'Carol-Again-4' }))
        .status,
    ).toBe(400);

    expect((await fx.api.users.get(carol.user_id!)).email_verified).toBe(true);
    const old = onPage(await browser.open(authorizeUrl()));
    const wrong = onPage(
      await browser.submit(old, { username: 'carol@acme.example', password: 'Carol-Original-1' }),
    );
    expect(wrong.html).toContain('Wrong email or password');
    expect(
      left(
        await browser.submit(wrong, { username: 'carol@acme.example', password: 'Carol-Changed-2' }),
      ).searchParams.has('code'),
    ).toBe(true);
  });

  it('redirects to the ticket’s result_url', async () => {
    const { ticket } = await fx.api.tickets.changePassword({
      user_id: fx.bobId,
      result_url: 'https://portal.example/password-changed',
      includeEmailInRedirect: true,
    });
    const browser = new SignInBrowser(local.domain);
    const form = onPage(await browser.open(ticket));
    const result = left(
      await browser.submit(form, { password: 'Bob-Rebuilt-2024', confirm_password: 'Bob-Rebuilt-2024' }),
    );
    expect(`${result.origin}${result.pathname}`).toBe('https://portal.example/password-changed');
    expect(result.searchParams.get('success')).toBe('true');
    expect(result.searchParams.get('email')).toBe(BOB.email);
  });
});

describe('request log, faults and rate limits', () => {
  it('logs the sign-in routes, lets faults hit them, and keeps them out of the Management API rate limits', async () => {
    await admin('DELETE', '/requests');
    const callback = await signIn(new SignInBrowser(local.domain), ADA);
    const log = (await admin('GET', '/requests')).json as { method: string; path: string; status: number }[];
    expect(log.map((entry) => `${entry.method} ${entry.path} ${entry.status}`)).toEqual([
      'GET /authorize 302',
      'GET /u/login 200',
      'POST /u/login 302',
    ]);

    await admin('POST', '/faults', { method: 'POST', path: '^/oauth/token$', status: 503, times: 1 });
    const exchangeCode = {
      grant_type: 'authorization_code',
      client_id: fx.portal.id,
      client_secret: fx.portal.secret,
      code: callback.searchParams.get('code')!,
      redirect_uri: CALLBACK,
    };
    const failed = await token(exchangeCode);
    expect(failed.status).toBe(503);
    // The fault answered before the handler: the code is still good (fetched directly: token() drops headers).
    const response = await fetch(`https://${local.domain}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(exchangeCode),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-ratelimit-limit')).toBeNull();
  });
});

describe('persistence', () => {
  it('keeps what a sign-up through an invitation wrote across a restart, and applies start settings', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'auth0-local-signin-')), 'state.json');
    let first: TestAuth0Local | undefined = await startTestAuth0Local({ stateFile });
    try {
      const api = managementClient(first);
      const app = await api.clients.create({
        name: 'App',
        callbacks: [CALLBACK],
        initiate_login_uri: 'https://portal.example/login',
        organization_usage: 'require',
      });
      const database = (await api.connections.list({ name: DATABASE, take: 1 })).data[0]!;
      await api.connections.clients.update(database.id!, [{ client_id: app.client_id!, status: true }]);
      const org = await api.organizations.create({ name: 'durable' });
      await api.organizations.enabledConnections.add(org.id!, { connection_id: database.id! });
      const invitation = await api.organizations.invitations.create(org.id!, {
        inviter: { name: 'Ops' },
        invitee: { email: 'kept@durable.example' },
        client_id: app.client_id!,
      });
      const browser = new SignInBrowser(first.domain);
      const signup = await browser.open(
        authorizeUrl(
          { client_id: app.client_id!, invitation: invitation.ticket_id!, organization: org.id! },
          first.domain,
        ),
      );
      left(await browser.submit(signup, { password: 'Kept-Across-Restarts-1' }));
      const before = first.dump();
      expect(first.tenantSettings('default').rolesClaim).toBeNull();
      await first.close();
      first = undefined;

      const restarted = await startTestAuth0Local({ stateFile, rolesClaim: ROLES_CLAIM });
      try {
        const tenant = restarted.dump()['default']!;
        expect(restarted.dump()).toEqual(before);
        const user = (tenant['users'] as { email: string; user_id: string }[]).find(
          (row) => row.email === 'kept@durable.example',
        );
        expect(user).toBeDefined();
        expect(tenant[`org/${org.id!}/members`]).toEqual([{ user_id: user!.user_id }]);
        expect(tenant[`org/${org.id!}/invitations`]).toEqual([]);
        // A setting given at start reaches a tenant that already existed.
        expect(restarted.tenantSettings('default').rolesClaim).toBe(ROLES_CLAIM);
      } finally {
        await restarted.close();
      }
    } finally {
      await first?.close();
    }
  });
});
