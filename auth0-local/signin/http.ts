/** Small HTTP helpers shared by the sign-in routes: form and JSON bodies, redirects with parameters, pages. */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

import type { TenantRuntime } from '../tenant-runtime.js';
import { errorPage, PAGE_HEADERS } from './pages.js';
import { secret, SESSION_LIFETIME_MS, type SsoSession } from './state.js';

/** A form-encoded (or, for /oauth/token, JSON) body as string parameters; anything else is ignored. */
export async function readParams(c: Context): Promise<Record<string, string | undefined>> {
  const type = c.req.header('content-type') ?? '';
  const text = await c.req.text();
  if (type.includes('application/json')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
      return Object.fromEntries(
        Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]),
      );
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

/** `base` with the parameters added to its query, keeping the query it already has. */
export function withQuery(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}

export function page(c: Context, status: number, body: string): Response {
  return c.body(body, status as 200, PAGE_HEADERS);
}

export function errorResponse(c: Context, status: number, error: string, description: string): Response {
  return page(c, status, errorPage(error, description));
}

/** A 302 made through the context, so cookies set on it travel with the redirect. */
export function redirect(c: Context, location: string): Response {
  c.header('cache-control', 'no-store');
  return c.redirect(location, 302);
}

/**
 * The SSO cookie's name. Browsers do not separate cookies by port and every auth0-local tenant is a port of the same
 * host, so the name carries the tenant; Auth0's own cookie is `auth0` on a domain of its own.
 */
function cookieName(tenant: TenantRuntime): string {
  return `auth0_${tenant.name.replace(/[^A-Za-z0-9]/g, '_')}`;
}

export function currentSession(
  c: Context,
  tenant: TenantRuntime,
  now: number,
): { key: string; session: SsoSession } | undefined {
  const key = getCookie(c, cookieName(tenant));
  if (!key) return undefined;
  const session = tenant.signin.sessions.get(key, now);
  return session ? { key, session } : undefined;
}

export function startSessionCookie(c: Context, tenant: TenantRuntime, key: string): void {
  // SameSite=None: /authorize is reached by a cross-site navigation from the application.
  setCookie(c, cookieName(tenant), key, {
    path: '/',
    secure: true,
    httpOnly: true,
    sameSite: 'None',
    maxAge: SESSION_LIFETIME_MS / 1000,
  });
}

/**
 * A random id for this browser (like Auth0's `did` cookie), set on first sight. A login transaction remembers the
 * browser that started it and only accepts its form from there, so nobody can post a form into another's browser
 * (login CSRF).
 */
export function browserId(c: Context, tenant: TenantRuntime): string {
  const name = `${cookieName(tenant)}_did`;
  const existing = getCookie(c, name);
  if (existing) return existing;
  const created = secret();
  setCookie(c, name, created, { path: '/', secure: true, httpOnly: true, sameSite: 'None' });
  return created;
}

export function sameBrowser(c: Context, tenant: TenantRuntime, expected: string): boolean {
  return getCookie(c, `${cookieName(tenant)}_did`) === expected;
}

/** Ends the SSO session of this browser, if any: the server-side entry and the cookie. */
export function endSession(c: Context, tenant: TenantRuntime): void {
  const key = getCookie(c, cookieName(tenant));
  if (key) tenant.signin.sessions.delete(key);
  deleteCookie(c, cookieName(tenant), { path: '/', secure: true, httpOnly: true, sameSite: 'None' });
}
