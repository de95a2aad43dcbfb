/**
 * API routes as data: each route declares its method, path, the permission it needs, and zod schemas for its
 * parameters, query, body and responses. From this one table the server validates requests, checks permissions
 * (and CSRF for browser sessions) and generates the OpenAPI 3.1 document, so the document cannot drift from the
 * routes.
 *
 * Why not @hono/zod-openapi: its converter (@asteasolutions/zod-to-openapi) overflows the stack on the recursive
 * `z.json()` of the spec's `app` field; zod 4's own `z.toJSONSchema` handles it and emits JSON Schema 2020-12, the
 * dialect OpenAPI 3.1 uses natively.
 */
import type { Context } from 'hono';
import { z } from 'zod';

import { OrgadminError } from '../domain/errors.js';
import type { Permission } from '../domain/roles.js';
import { formatPath, invalid, zodIssues } from '../domain/spec-document.js';
import type { Principal } from './principal.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
}

export interface RouteInput<P, Q, B> {
  c: Context;
  principal: Principal;
  params: P;
  query: Q;
  body: B;
}

export interface RouteDefinition {
  method: Method;
  /** OpenAPI style, relative to /api/v1: `/organizations/{name}`. */
  path: string;
  /** `public` routes need no caller at all. */
  permission: Permission | 'public';
  /** Needs a recent interactive sign-in (browser sessions). */
  freshSignIn?: boolean;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, ResponseSpec>;
  /** Parses the request with the schemas, then runs the handler. */
  handle(c: Context, principal: Principal | undefined): Promise<Response>;
}

/** Declares a route; the handler gets the parsed (typed) parameters, query and body. */
export function defineRoute<
  P extends z.ZodObject = z.ZodObject<Record<string, never>>,
  Q extends z.ZodObject = z.ZodObject<Record<string, never>>,
  B extends z.ZodType = z.ZodUndefined,
>(
  route: Omit<RouteDefinition, 'handle' | 'params' | 'query' | 'body'> & {
    params?: P;
    query?: Q;
    body?: B;
    handler: (input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>) => Promise<Response> | Response;
  },
): RouteDefinition {
  const { handler, ...rest } = route;
  return {
    ...rest,
    async handle(c, principal) {
      const params = parse(route.params, c.req.param(), 'path');
      const query = parse(route.query, c.req.query(), 'query');
      let body: unknown;
      if (route.body) {
        let raw: unknown;
        try {
          raw = await c.req.json();
        } catch {
          throw new OrgadminError('request.invalid', 'The request body must be JSON.', {
            issues: [{ path: 'body', message: 'must be a JSON document' }],
          });
        }
        body = parse(route.body, raw, 'body');
      }
      return handler({
        c,
        // `public` routes may run without a caller; every other route is only reached with one.
        principal: principal as Principal,
        params: params as z.output<P>,
        query: query as z.output<Q>,
        body: body as z.output<B>,
      });
    },
  };
}

function parse(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) return {};
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalid(
    'request.invalid',
    'request',
    zodIssues(result.error, (path) => `${where}${path.length > 0 ? `.${formatPath(path)}` : ''}`),
  );
}

/** `/organizations/{name}` → `/organizations/:name` (Hono's syntax). */
export const honoPath = (path: string): string => path.replace(/\{([^}]+)\}/g, ':$1');

type JsonSchema = Record<string, unknown>;

/**
 * Converts a zod schema to JSON Schema for the document; nested `$defs` move to `components.schemas` under a
 * prefixed name, since a `$ref` inside an OpenAPI document resolves against the document's root.
 */
function toSchema(
  schema: z.ZodType,
  io: 'input' | 'output',
  components: Record<string, JsonSchema>,
  prefix: string,
): JsonSchema {
  const converted = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  const { $schema: _dialect, $defs, ...rest } = converted;
  const rename = (name: string): string => `${prefix}_${name.replace(/[^A-Za-z0-9_.-]/g, '')}`;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) =>
        key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/')
          ? [key, `#/components/schemas/${rename(inner.slice('#/$defs/'.length))}`]
          : [key, rewrite(inner)],
      ),
    );
  };
  for (const [name, def] of Object.entries(($defs ?? {}) as Record<string, unknown>))
    components[rename(name)] = rewrite(def) as JsonSchema;
  return rewrite(rest) as JsonSchema;
}

export function openApiDocument(
  routes: RouteDefinition[],
  info: { title: string; version: string; description: string; serverUrl: string },
): JsonSchema {
  const components: Record<string, JsonSchema> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [
      ...Object.entries(route.params?.shape ?? {}).map(([name, schema]) => ({
        name,
        in: 'path',
        required: true,
        schema: toSchema(schema as z.ZodType, 'input', components, route.operationId),
      })),
      ...Object.entries(route.query?.shape ?? {}).map(([name, schema]) => ({
        name,
        in: 'query',
        required: !(schema as z.ZodType).safeParse(undefined).success,
        schema: toSchema(schema as z.ZodType, 'input', components, route.operationId),
      })),
    ];
    const responses = Object.fromEntries(
      Object.entries(route.responses).map(([status, response]) => [
        status,
        {
          description: response.description,
          ...(response.schema
            ? {
                content: {
                  [response.contentType ?? 'application/json']: {
                    schema: toSchema(response.schema, 'output', components, `${route.operationId}_${status}`),
                  },
                },
              }
            : {}),
        },
      ]),
    );
    const errors = {
      ...(route.permission === 'public'
        ? {}
        : {
            '401': { $ref: '#/components/responses/Unauthenticated' },
            '403': { $ref: '#/components/responses/Forbidden' },
          }),
      ...(route.params || route.query || route.body
        ? { '400': { $ref: '#/components/responses/Invalid' } }
        : {}),
    };
    (paths[route.path] ??= {})[route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: route.tags,
      'x-orgadmin-permission': route.permission,
      ...(route.freshSignIn ? { 'x-orgadmin-fresh-sign-in': true } : {}),
      ...(route.permission === 'public' ? { security: [] } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: toSchema(route.body, 'input', components, `${route.operationId}_body`),
                },
              },
            },
          }
        : {}),
      responses: { ...responses, ...errors },
    };
  }
  const errorResponse = (description: string): Record<string, unknown> => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, description: info.description },
    servers: [{ url: info.serverUrl }],
    security: [{ session: [] }, { bearer: [] }],
    paths,
    components: {
      schemas: {
        ...components,
        Error: {
          type: 'object',
          required: ['code', 'message', 'details'],
          properties: {
            code: { type: 'string', description: 'Stable machine code, e.g. spec.invalid, org.not_found.' },
            message: { type: 'string' },
            details: {
              type: 'object',
              description:
                '`issues: [{path, message}]` for validation errors; `loginUrl` for re-authentication.',
            },
          },
        },
      },
      responses: {
        Unauthenticated: errorResponse(
          'No valid session or Bearer token (auth.required, auth.reauthentication_required).',
        ),
        Forbidden: errorResponse('The role does not allow this, or a browser request lacked its CSRF token.'),
        Invalid: errorResponse('The request failed validation; details.issues names each field and rule.'),
      },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: '__Host-orgadmin_session' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      },
    },
  };
}
