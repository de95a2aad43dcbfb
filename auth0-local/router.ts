/**
 * The small routing layer every Management API resource file uses: a route is declared with the path as Auth0's
 * OpenAPI spells it (`/organizations/{id}`), which is also the key for its scopes and its body schema, so the
 * scope check and body validation happen before the handler runs and cannot be forgotten.
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context, Hono } from 'hono';

import { Auth0HttpError, badRequest } from './errors.js';
import type { TenantRuntime } from './tenant-runtime.js';
import { scopesFor, validateBody } from './validation.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface Reply {
  status: number;
  body?: unknown;
}

export interface RouteContext {
  tenant: TenantRuntime;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The validated JSON body (undefined for a request without one). */
  body: unknown;
  now: number;
}

export type Handler = (ctx: RouteContext) => Promise<Reply> | Reply;

export interface RouteOptions {
  /** Scopes accepted ("expected any of"), when the OpenAPI extract does not list the route. */
  scopes?: string[];
}

export type AppEnv = { Variables: { scopes: ReadonlySet<string> }; Bindings: HttpBindings };

export class ManagementRouter {
  constructor(
    private readonly app: Hono<AppEnv>,
    private readonly tenant: TenantRuntime,
  ) {}

  get(path: string, handler: Handler, options?: RouteOptions): void {
    this.add('GET', path, handler, options);
  }
  post(path: string, handler: Handler, options?: RouteOptions): void {
    this.add('POST', path, handler, options);
  }
  patch(path: string, handler: Handler, options?: RouteOptions): void {
    this.add('PATCH', path, handler, options);
  }
  put(path: string, handler: Handler, options?: RouteOptions): void {
    this.add('PUT', path, handler, options);
  }
  delete(path: string, handler: Handler, options?: RouteOptions): void {
    this.add('DELETE', path, handler, options);
  }

  private add(method: Method, path: string, handler: Handler, options?: RouteOptions): void {
    const route = `${method} ${path}`;
    const scopes = options?.scopes ?? scopesFor(route);
    if (!scopes) throw new Error(`no scopes known for ${route}`);
    const honoPath = `/api/v2${path.replace(/\{(\w+)\}/g, ':$1')}`;
    this.app.on(method, honoPath, async (c: Context<AppEnv>) => {
      const granted = c.get('scopes');
      if (!scopes.some((scope) => granted.has(scope))) {
        throw new Auth0HttpError(
          403,
          `Insufficient scope, expected any of: ${scopes.join(',')}`,
          'insufficient_scope',
        );
      }
      const body = await readBody(c, method);
      if (body !== undefined || method === 'POST' || method === 'PATCH' || method === 'PUT') {
        validateBody(route, body ?? {});
      }
      const reply = await handler({
        tenant: this.tenant,
        params: c.req.param(),
        query: new URL(c.req.url).searchParams,
        body,
        now: Date.now(),
      });
      if (reply.body === undefined) return c.body(null, reply.status as 204);
      return c.json(reply.body as object, reply.status as 200);
    });
  }
}

async function readBody(c: Context, method: Method): Promise<unknown> {
  if (method === 'GET') return undefined;
  const text = await c.req.text();
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('Invalid request payload JSON format', 'invalid_body');
  }
}

export const ok = (body: unknown): Reply => ({ status: 200, body });
export const created = (body: unknown): Reply => ({ status: 201, body });
export const noContent = (): Reply => ({ status: 204 });
