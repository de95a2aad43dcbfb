/**
 * The admin API under `/__admin` (bearer `adminToken`): tenants and their sign-in settings (`PATCH
 * /__admin/tenants/{name}` with `rolesClaim`, `allowedLogoutUrls`), rate limits, fault rules, the request log, state
 * dumps and reset. It exists for tests and tooling in other processes; in-process callers can use the `Auth0Local`
 * handle directly.
 */
import type { Context } from 'hono';

import type { FaultRule } from './faults.js';
import type { Auth0Local, TenantOptions, TenantSettings } from './index.js';
import type { RateLimitSpec } from './rate-limits.js';

export function createAdminHandler(local: Auth0Local): (c: Context) => Promise<Response> {
  return async (c) => {
    if (c.req.header('authorization') !== `Bearer ${local.adminToken}`) {
      return c.json({ statusCode: 401, error: 'Unauthorized', message: 'Invalid admin token' }, 401);
    }
    const path = c.req.path.replace(/^\/__admin/, '');
    const method = c.req.method;
    const body = async <T>(): Promise<T> => {
      const text = await c.req.text();
      return (text ? JSON.parse(text) : {}) as T;
    };
    try {
      if (path === '/tenants' && method === 'GET') return c.json(local.tenants());
      if (path === '/tenants' && method === 'POST')
        return c.json(await local.createTenant(await body<TenantOptions>()), 201);
      const tenantMatch = /^\/tenants\/([^/]+)(\/rate-limits)?$/.exec(path);
      if (tenantMatch) {
        const name = decodeURIComponent(tenantMatch[1] ?? '');
        if (tenantMatch[2] && method === 'PUT')
          return c.json(local.setRateLimits(name, await body<Partial<RateLimitSpec>>()));
        if (!tenantMatch[2] && method === 'DELETE') {
          return (await local.deleteTenant(name))
            ? c.body(null, 204)
            : c.json({ message: 'no such tenant' }, 404);
        }
        if (!tenantMatch[2] && method === 'GET') {
          return c.json({ ...local.tenantInfo(name), ...local.tenantSettings(name) });
        }
        if (!tenantMatch[2] && method === 'PATCH') {
          const settings = local.updateTenantSettings(name, await body<TenantSettings>());
          return c.json({ ...local.tenantInfo(name), ...settings });
        }
      }
      if (path === '/faults' && method === 'GET') return c.json(local.faults.list());
      if (path === '/faults' && method === 'POST')
        return c.json(local.faults.add(await body<Omit<FaultRule, 'id'>>()), 201);
      if (path === '/faults' && method === 'DELETE') {
        local.faults.clear();
        return c.body(null, 204);
      }
      const faultMatch = /^\/faults\/([^/]+)$/.exec(path);
      if (faultMatch && method === 'DELETE') {
        return local.faults.remove(faultMatch[1] ?? '')
          ? c.body(null, 204)
          : c.json({ message: 'no such fault' }, 404);
      }
      if (path === '/requests' && method === 'GET') {
        return c.json(local.requestLog.list({ tenant: c.req.query('tenant'), since: c.req.query('since') }));
      }
      if (path === '/requests' && method === 'DELETE') {
        local.requestLog.clear();
        return c.body(null, 204);
      }
      if (path === '/state' && method === 'GET') return c.json(local.dump(c.req.query('tenant')));
      if (path === '/reset' && method === 'POST') {
        local.reset();
        return c.body(null, 204);
      }
      return c.json(
        { statusCode: 404, error: 'Not Found', message: `no admin route ${method} ${path}` },
        404,
      );
    } catch (error) {
      return c.json({ statusCode: 400, error: 'Bad Request', message: (error as Error).message }, 400);
    }
  };
}
