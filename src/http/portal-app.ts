/**
 * The portal's HTTP application: security headers → `/auth/*` (sign-in) → `/api/v1/*` (who is calling → CSRF for
 * browser sessions → permission → fresh sign-in where needed → the route) → the web UI. Every route of the API
 * comes from the route table, so permissions, validation and the OpenAPI document come from one place.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { serveStatic } from '@hono/node-server/serve-static';
import { Hono, type Context, type Next } from 'hono';
import type { BlankEnv } from 'hono/types';
import { bodyLimit } from 'hono/body-limit';

import { OrgadminError } from '../domain/errors.js';
import { allows, PERMISSIONS } from '../domain/roles.js';
import type { SessionStore } from '../ports/sessions.js';
import { honoPath, openApiDocument, type RouteDefinition } from './api-route.js';
import { apiDocsPage } from './api-docs-page.js';
import { metricsApp, type MetricsEndpoint } from './metrics-app.js';
import { errorBody, jsonError, toErrorResponse } from './errors.js';
import type { BearerVerifier, Principal } from './principal.js';
import { constantTimeEqual, signedOutPage, type SignIn } from './sign-in.js';

export const API_PREFIX = '/api/v1';

function tooLarge(): Response {
  const response = jsonError(413, errorBody('request.invalid', 'The request body is too large.'));
  // The rest of the body is not read: the connection cannot carry another request.
  response.headers.set('connection', 'close');
  return response;
}
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface PortalAppDeps {
  routes: RouteDefinition[];
  signIn: SignIn;
  sessions: SessionStore;
  bearer: BearerVerifier;
  publicUrl: string;
  reauthMinutes: number;
  version: string;
  /** The folder of the built web UI; undefined = API only. */
  webRoot?: string;
  /** `/metrics` for Prometheus, behind a Bearer token; undefined = not served. */
  metrics?: MetricsEndpoint;
  log: (line: string) => void;
}

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "form-action 'self' https:",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

export function createPortalApp(deps: PortalAppDeps): Hono {
  const app = new Hono();
  const origin = new URL(deps.publicUrl).origin;

  app.onError((error, c) => {
    const { status, body } = toErrorResponse(error, deps.log);
    if (c.req.path.startsWith(API_PREFIX) || c.req.header('accept')?.includes('application/json'))
      return jsonError(status, body);
    return c.text(`${body.message}`, status as 400);
  });

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    // Time spent in the server, for operators' browser tools and the list benchmark.
    c.header('server-timing', `app;dur=${(performance.now() - started).toFixed(1)}`);
    c.header('content-security-policy', CONTENT_SECURITY_POLICY);
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'same-origin');
    c.header('x-frame-options', 'DENY');
    if (deps.publicUrl.startsWith('https:')) c.header('strict-transport-security', 'max-age=31536000');
  });

  // A body is read whole before it is validated: cap it first. A bulk file may be 10 MiB of text (JSON-encoded,
  // some more); anything else is one spec, at most about 1 MB of SAML metadata.
  const bulkLimit = bodyLimit({ maxSize: 12 * 1024 * 1024, onError: tooLarge });
  const defaultLimit = bodyLimit({ maxSize: 2 * 1024 * 1024, onError: tooLarge });
  app.use('*', (c: Context<BlankEnv, string>, next: Next) =>
    (c.req.path.startsWith(`${API_PREFIX}/batches`) ? bulkLimit : defaultLimit)(c, next),
  );

  app.route('/', metricsApp(deps.metrics));

  app.get('/auth/login', (c) => deps.signIn.login(c));
  app.get('/auth/callback', (c) => deps.signIn.callback(c));
  app.post('/auth/logout', (c) => deps.signIn.logout(c));
  app.get('/auth/signed-out', () => signedOutPage());

  const document = openApiDocument(deps.routes, {
    title: 'Org Admin Portal API',
    version: deps.version,
    description:
      'Create, modify and remove customer organizations in your app database and Auth0 as durable runs. Authenticate with the portal session cookie (browsers; send `x-csrf-token` on changes) or a Bearer access token for the portal API.',
    serverUrl: `${deps.publicUrl}${API_PREFIX}`,
  });
  app.get(`${API_PREFIX}/openapi.json`, (c) => c.json(document));
  app.get(`${API_PREFIX}/docs`, (c) => c.html(apiDocsPage(document)));

  /** The caller, from a Bearer token or the session cookie; undefined when neither is valid. */
  const principalOf = async (c: Context): Promise<Principal | undefined> => {
    const authorization = c.req.header('authorization');
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      return match?.[1] ? deps.bearer.verify(match[1]) : undefined;
    }
    const token = deps.signIn.tokenOf(c);
    if (!token) return undefined;
    const session = await deps.sessions.touchSession(token, deps.signIn.timeouts);
    if (!session) return undefined;
    return {
      kind: 'session',
      subject: session.subject,
      roles: session.roles,
      actor: session.email ?? session.subject,
      session,
      token,
    };
  };

  const guard = (route: RouteDefinition) => async (c: Context) => {
    if (route.permission === 'public') return route.handle(c, undefined);
    const principal = await principalOf(c);
    if (!principal) throw new OrgadminError('auth.required');
    if (principal.kind === 'session' && !SAFE_METHODS.has(c.req.method)) {
      // Cookies ride along with cross-site requests; a token only this origin's pages can read proves the
      // request is ours (and a foreign Origin, or a browser's own cross-site marker, is refused outright).
      const sentOrigin = c.req.header('origin');
      const sent = c.req.header('x-csrf-token');
      if (
        (sentOrigin && sentOrigin !== origin) ||
        c.req.header('sec-fetch-site') === 'cross-site' ||
        !sent ||
        !constantTimeEqual(sent, principal.session.csrfToken)
      )
        throw new OrgadminError('auth.csrf');
    }
    if (!allows(principal.roles, route.permission))
      throw new OrgadminError('auth.forbidden', `This needs the ${PERMISSIONS[route.permission]} role.`);
    if (route.freshSignIn && principal.kind === 'session') {
      const freshUntil = principal.session.authTime.getTime() + deps.reauthMinutes * 60_000;
      if (Date.now() > freshUntil) {
        const referer = c.req.header('referer');
        const returnTo = referer?.startsWith(origin) ? referer.slice(origin.length) : '/';
        throw new OrgadminError('auth.reauthentication_required', undefined, {
          loginUrl: `/auth/login?reauth=1&returnTo=${encodeURIComponent(returnTo)}`,
        });
      }
    }
    return route.handle(c, principal);
  };

  for (const route of deps.routes)
    app.on(route.method.toUpperCase(), `${API_PREFIX}${honoPath(route.path)}`, guard(route));

  app.all(`${API_PREFIX}/*`, () => {
    throw new OrgadminError('not_found', 'No such API route.');
  });

  if (deps.webRoot) {
    const root = deps.webRoot;
    const index = readFileSync(join(root, 'index.html'), 'utf8');
    app.use(
      '/assets/*',
      serveStatic({
        root,
        // Vite names assets after their content: they never change under the same name.
        onFound: (_path, c) => c.header('cache-control', 'public, max-age=31536000, immutable'),
      }),
    );
    // Every other page is the single-page app, which asks /api/v1/me and sends strangers to /auth/login.
    app.get('*', (c) => {
      if (/\.[a-z0-9]+$/i.test(c.req.path)) return c.text('Not found', 404);
      c.header('cache-control', 'no-store');
      return c.html(index);
    });
  }
  app.all('*', (c) => c.text('Not found', 404));

  return app;
}
