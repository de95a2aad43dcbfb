/**
 * Operator sign-in: OpenID Connect authorization code flow with PKCE (openid-client) against the portal's identity
 * provider — Auth0 in production, auth0-local in development. A successful callback starts a fresh session (a new
 * token: session fixation is impossible) and ends the one the browser had. `reauth=1` asks the provider for a new
 * interactive sign-in (`prompt=login`, `max_age=0`) before dangerous actions.
 *
 * Cookies: `__Host-orgadmin_session` (Secure, HttpOnly, SameSite=Lax, Path=/) when the portal is served over https.
 * The one exception is local development on http://127.0.0.1 or http://localhost, where browsers refuse Secure
 * cookies: the cookie is then `orgadmin_session` without Secure (documented in the README).
 */
import { timingSafeEqual } from 'node:crypto';

import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import * as oidc from 'openid-client';

import type { PortalConfig } from '../config/config.js';
import { OrgadminError } from '../domain/errors.js';
import type { SessionStore, SessionTimeouts } from '../ports/sessions.js';
import { rolesFromClaims } from './principal.js';

export interface OidcClientSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

const LOGIN_TRANSACTION_MS = 10 * 60_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface SignIn {
  cookieName: string;
  timeouts: SessionTimeouts;
  /** The session token in the request's cookie, if any. */
  tokenOf(c: Context): string | undefined;
  login(c: Context): Promise<Response>;
  callback(c: Context): Promise<Response>;
  logout(c: Context): Promise<Response>;
}

/** A path on this site to return to after sign-in; anything else (other hosts, `//x`, `\x`) becomes `/`. */
export function safeReturnTo(value: string | undefined): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return '/';
  try {
    const url = new URL(value, 'http://portal.invalid');
    return url.origin === 'http://portal.invalid' ? `${url.pathname}${url.search}${url.hash}` : '/';
  } catch {
    return '/';
  }
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function html(status: number, title: string, body: string): Response {
  const escape = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · Org Admin Portal</title>` +
      `<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}a{color:#0b5cad}</style></head>` +
      `<body><main><h1>${escape(title)}</h1><p>${escape(body)}</p><p><a href="/auth/login">Sign in</a></p></main></body></html>`,
    { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } },
  );
}

export function createSignIn(options: {
  portal: PortalConfig;
  client: () => OidcClientSettings;
  sessions: SessionStore;
  log: (line: string) => void;
}): SignIn {
  const { portal, sessions } = options;
  const publicUrl = new URL(portal.publicUrl);
  const secure = publicUrl.protocol === 'https:';
  if (!secure && !LOOPBACK.has(publicUrl.hostname))
    throw new Error(
      `PORTAL_URL ${portal.publicUrl} must be https (plain http is only allowed on 127.0.0.1 or localhost, for development)`,
    );
  const cookieName = secure ? '__Host-orgadmin_session' : 'orgadmin_session';
  const timeouts: SessionTimeouts = {
    idleMs: portal.sessionIdleMinutes * 60_000,
    absoluteMs: portal.sessionMaxHours * 3_600_000,
  };
  const redirectUri = `${portal.publicUrl}/auth/callback`;
  let configuration: Promise<oidc.Configuration> | undefined;

  /** Discovered on first use (the provider may start after the portal); a failure is retried next time. */
  const provider = (): Promise<oidc.Configuration> => {
    configuration ??= (async () => {
      const settings = options.client();
      return oidc.discovery(
        new URL(settings.issuer),
        settings.clientId,
        undefined,
        oidc.ClientSecretPost(settings.clientSecret),
      );
    })().catch((error: unknown) => {
      configuration = undefined;
      throw error;
    });
    return configuration;
  };

  const tokenOf = (c: Context): string | undefined => getCookie(c, cookieName);

  return {
    cookieName,
    timeouts,
    tokenOf,

    async login(c) {
      const returnTo = safeReturnTo(c.req.query('returnTo'));
      const reauth = c.req.query('reauth') === '1';
      const config = await provider();
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      await sessions.saveLogin(state, { codeVerifier, nonce, returnTo, maxAge: reauth ? 0 : undefined });
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile email',
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...(reauth ? { prompt: 'login', max_age: '0' } : {}),
      });
      return c.redirect(url.href, 302);
    },

    async callback(c) {
      const state = c.req.query('state');
      const error = c.req.query('error');
      const login = state ? await sessions.takeLogin(state, LOGIN_TRANSACTION_MS) : undefined;
      if (error) return html(401, 'Sign-in failed', c.req.query('error_description') ?? error);
      if (!login)
        return html(400, 'Sign-in expired', 'This sign-in link is unknown, used or expired; start again.');
      const config = await provider();
      let claims: oidc.IDToken | undefined;
      try {
        const currentUrl = new URL(c.req.url);
        const callbackUrl = new URL(`${redirectUri}${currentUrl.search}`);
        const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: login.codeVerifier,
          expectedState: state,
          expectedNonce: login.nonce,
          idTokenExpected: true,
          ...(login.maxAge !== undefined ? { maxAge: login.maxAge } : {}),
        });
        claims = tokens.claims();
      } catch (failure) {
        options.log(
          `orgadmin portal: sign-in callback failed: ${failure instanceof Error ? failure.message : String(failure)}`,
        );
        return html(
          401,
          'Sign-in failed',
          'The identity provider’s answer could not be verified; start again.',
        );
      }
      if (!claims) return html(401, 'Sign-in failed', 'The identity provider sent no ID token.');
      const roles = rolesFromClaims(claims, portal.rolesClaim);
      if (roles.length === 0)
        return html(
          403,
          'No access',
          `Your account has no Org Admin Portal role (viewer, operator or admin in the ${portal.rolesClaim} claim). Ask an administrator.`,
        );
      const previous = tokenOf(c);
      if (previous) await sessions.deleteSession(previous);
      const authTime = typeof claims.auth_time === 'number' ? new Date(claims.auth_time * 1000) : new Date();
      const { token } = await sessions.createSession({
        subject: claims.sub,
        email: typeof claims['email'] === 'string' ? claims['email'] : undefined,
        name: typeof claims['name'] === 'string' ? claims['name'] : undefined,
        roles,
        authTime,
      });
      setCookie(c, cookieName, token, {
        path: '/',
        httpOnly: true,
        secure,
        sameSite: 'Lax',
        maxAge: Math.floor(timeouts.absoluteMs / 1000),
      });
      return c.redirect(login.returnTo, 302);
    },

    async logout(c) {
      const token = tokenOf(c);
      const session = token ? await sessions.touchSession(token, timeouts) : undefined;
      const form = c.req.header('content-type')?.includes('application/x-www-form-urlencoded')
        ? await c.req.parseBody()
        : {};
      const sent =
        c.req.header('x-csrf-token') ?? (typeof form['csrf'] === 'string' ? form['csrf'] : undefined);
      if (session && (!sent || !constantTimeEqual(sent, session.csrfToken)))
        throw new OrgadminError('auth.csrf', 'Sign-out needs the session’s CSRF token.');
      if (token) await sessions.deleteSession(token);
      deleteCookie(c, cookieName, { path: '/', secure });
      const config = await provider().catch(() => undefined);
      const endSession = config?.serverMetadata().end_session_endpoint
        ? oidc.buildEndSessionUrl(config, {
            client_id: options.client().clientId,
            post_logout_redirect_uri: `${portal.publicUrl}/auth/signed-out`,
          }).href
        : '/auth/signed-out';
      return c.redirect(endSession, 303);
    },
  };
}

export const signedOutPage = (): Response =>
  html(200, 'Signed out', 'You have signed out of the Org Admin Portal.');
