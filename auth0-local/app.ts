/**
 * The HTTP application of one tenant: the client-credentials token endpoint, JWKS, the Management API under
 * `/api/v2` (authentication, rate limiting, then the resource routes) and the admin API under `/__admin`.
 * Cross-cutting order per request: request log → fault injection → handler → journal flush → response, so a
 * response is only sent once its changes are durable, and an injected fault is logged like any other answer.
 */
import { Hono, type Context } from 'hono';

import { Auth0HttpError } from './errors.js';
import type { FaultInjector, RequestLog } from './faults.js';
import { tables } from './model.js';
import type { AppEnv } from './router.js';
import { ManagementRouter } from './router.js';
import { registerActionRoutes } from './routes/actions.js';
import { registerClientRoutes } from './routes/clients.js';
import { registerConnectionRoutes } from './routes/connections.js';
import { registerOrganizationRoutes } from './routes/organizations.js';
import { registerRoleRoutes } from './routes/roles.js';
import { registerSelfServiceRoutes } from './routes/self-service-profiles.js';
import { registerUserRoutes } from './routes/users.js';
import type { Store } from './state/store.js';
import type { TenantRuntime } from './tenant-runtime.js';

export interface SharedContext {
  store: Store;
  faults: FaultInjector;
  requestLog: RequestLog;
  /** Handles `/__admin/*`; shared by all tenants' listeners. */
  admin: (c: Context) => Promise<Response>;
  log: (line: string) => void;
}

type Env = AppEnv;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function errorResponse(error: Auth0HttpError): Response {
  return new Response(JSON.stringify(error.body()), {
    status: error.statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...error.headers },
  });
}

export function createTenantApp(tenant: TenantRuntime, shared: SharedContext): Hono<Env> {
  const app = new Hono<Env>();

  app.onError((error, c) => {
    if (error instanceof Auth0HttpError) return errorResponse(error);
    shared.log(`auth0-local: ${c.req.method} ${c.req.path} failed: ${error.stack ?? String(error)}`);
    return errorResponse(new Auth0HttpError(500, 'Internal Server Error'));
  });
  app.notFound(() => errorResponse(new Auth0HttpError(404, 'Not Found')));

  app.all('/__admin/*', (c) => shared.admin(c));

  app.use('*', async (c, next) => {
    const started = performance.now();
    const path = c.req.path;
    const fault = shared.faults.match(tenant.name, c.req.method, path, Date.now());
    try {
      if (fault?.latencyMs) await sleep(fault.latencyMs);
      if (fault?.status) {
        const message =
          fault.message ?? (fault.status === 429 ? 'Global limit has been reached' : 'Injected fault');
        const errorCode = fault.status === 429 ? 'too_many_requests' : undefined;
        const headers: Record<string, string> =
          fault.status === 429
            ? {
                'x-ratelimit-limit': '1',
                'x-ratelimit-remaining': '0',
                'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 1),
              }
            : {};
        // Assigned rather than thrown so the request log below sees the injected status.
        c.res = errorResponse(new Auth0HttpError(fault.status, message, errorCode, headers));
        return;
      }
      await next();
      shared.store.flush();
      if (fault?.dropAfterApply) {
        // The change is applied and durable; the client never learns it. This is the ambiguous-outcome case.
        c.env.incoming.socket.destroy();
      }
      if (fault?.replyAfterMs) await sleep(fault.replyAfterMs);
    } finally {
      const url = new URL(c.req.url);
      shared.requestLog.push({
        time: new Date().toISOString(),
        tenant: tenant.name,
        method: c.req.method,
        path,
        query: url.search,
        status: fault?.dropAfterApply ? 0 : c.res.status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        ...(fault ? { fault: fault.id } : {}),
      });
    }
  });

  registerAuthenticationRoutes(app, tenant);

  app.use('/api/v2/*', async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    if (header === '') throw new Auth0HttpError(401, 'Missing authentication');
    const match = /^Bearer\s+([\w-]+\.[\w-]+\.[\w-]+)$/i.exec(header);
    if (!match?.[1]) throw new Auth0HttpError(400, 'Bad HTTP authentication header format', 'Bearer');
    const now = Date.now();
    const claims = await tenant.tokens.verify(match[1], Math.floor(now / 1000));
    const decision = tenant.limiter.admit(c.req.method, c.req.path.slice('/api/v2'.length), now);
    if (decision.limited) throw decision.limited;
    c.set('scopes', claims.scopes);
    await next();
    for (const [name, value] of Object.entries(decision.headers)) c.res.headers.set(name, value);
  });

  const router = new ManagementRouter(app, tenant);
  registerOrganizationRoutes(router);
  registerConnectionRoutes(router);
  registerClientRoutes(router);
  registerUserRoutes(router);
  registerRoleRoutes(router);
  registerSelfServiceRoutes(router);
  registerActionRoutes(router);
  return app;
}

/** `/oauth/token` (client credentials), JWKS and discovery: the part of the Authentication API the SDKs need. */
function registerAuthenticationRoutes(app: Hono<Env>, tenant: TenantRuntime): void {
  app.get('/.well-known/jwks.json', (c) => c.json(tenant.tokens.jwks()));
  app.get('/.well-known/openid-configuration', (c) =>
    c.json({
      issuer: tenant.issuer,
      token_endpoint: `${tenant.issuer}oauth/token`,
      jwks_uri: `${tenant.issuer}.well-known/jwks.json`,
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      id_token_signing_alg_values_supported: ['RS256'],
    }),
  );
  app.post('/oauth/token', async (c) => {
    const params = await readTokenRequest(c);
    const denied = (status: number, error: string, description: string): Response =>
      c.json({ error, error_description: description }, status as 401);
    const basic = /^Basic\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (basic) {
      const [id, secret] = Buffer.from(basic, 'base64').toString('utf8').split(':');
      params['client_id'] ??= decodeURIComponent(id ?? '');
      params['client_secret'] ??= decodeURIComponent(secret ?? '');
    }
    const grantType = params['grant_type'];
    if (grantType !== 'client_credentials') {
      return denied(400, 'unsupported_grant_type', `Unsupported grant type: ${grantType ?? ''}`);
    }
    const client = tables.clients(tenant.data).get(params['client_id'] ?? '');
    if (!client || client.client_secret !== params['client_secret']) {
      return denied(401, 'access_denied', 'Unauthorized');
    }
    const audience = params['audience'] ?? tenant.audience;
    const api = tables.resourceServers(tenant.data).getBy('identifier', audience);
    if (!api) return denied(403, 'access_denied', `Service not enabled within domain: ${audience}`);
    const grant = tables.clientGrants(tenant.data).getBy('pair', `${client.client_id}|${audience}`);
    if (!grant) {
      return denied(
        403,
        'access_denied',
        `Client is not authorized to access "${audience}". You need to create a "client-grant" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants`,
      );
    }
    const now = Math.floor(Date.now() / 1000);
    const scope = params['scope']
      ? params['scope'].split(' ').filter((s) => grant.scope.includes(s))
      : grant.scope;
    const accessToken = await tenant.tokens.issue(client.client_id, scope, audience, now);
    return c.json({
      access_token: accessToken,
      scope: scope.join(' '),
      expires_in: 86_400,
      token_type: 'Bearer',
    });
  });
}

async function readTokenRequest(c: Context): Promise<Record<string, string | undefined>> {
  const type = c.req.header('content-type') ?? '';
  const text = await c.req.text();
  if (type.includes('application/json')) {
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      return Object.fromEntries(
        Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]),
      );
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}
