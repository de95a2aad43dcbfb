/**
 * The HTTP application of one tenant: the sign-in side (`signin/`: discovery, /authorize and its pages, /oauth/token,
 * /userinfo, logout), the Management API under `/api/v2` (authentication, rate limiting, then the resource routes)
 * and the admin API under `/__admin`.
 * Cross-cutting order per request: request log → fault injection → handler → journal flush → response, so a
 * response is only sent once its changes are durable, and an injected fault is logged like any other answer.
 */
import { Hono, type Context } from 'hono';

import { Auth0HttpError } from './errors.js';
import type { FaultInjector, RequestLog } from './faults.js';
import type { AppEnv } from './router.js';
import { ManagementRouter } from './router.js';
import { registerActionRoutes } from './routes/actions.js';
import { registerClientRoutes } from './routes/clients.js';
import { registerConnectionRoutes } from './routes/connections.js';
import { registerOrganizationRoutes } from './routes/organizations.js';
import { registerRoleRoutes } from './routes/roles.js';
import { registerSelfServiceRoutes } from './routes/self-service-profiles.js';
import { registerUserRoutes } from './routes/users.js';
import { registerSignInRoutes } from './signin/index.js';
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

  registerSignInRoutes(app, tenant);

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
