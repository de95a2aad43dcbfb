/**
 * Request validation with Auth0's own messages. Auth0's Management API words its 400s exactly as the z-schema
 * validator does ("Payload validation error: 'String is too long (51 chars), maximum 50' on property name (The name
 * of this organization)."), so we validate with z-schema against the request-body schemas of the OpenAPI extract
 * (`contract/management-api-extract.json`) plus the limits the extract leaves in `$ref`s.
 */
import { readFileSync } from 'node:fs';

import ZSchema from 'z-schema';

import { badRequest } from './errors.js';

type JsonSchema = Record<string, unknown>;

interface ExtractEndpoint {
  scopes: string[];
  body?: JsonSchema & { properties: Record<string, JsonSchema> };
}

const extract = JSON.parse(
  readFileSync(new URL('./contract/management-api-extract.json', import.meta.url), 'utf8'),
) as { endpoints: Record<string, ExtractEndpoint> };

const URL_LIST = { type: 'array', maxItems: 100, items: { type: 'string', format: 'url-with-placeholders' } };
const HTML_COLOR = { type: 'string', pattern: '^#[0-9a-fA-F]{6}$|^#[0-9a-fA-F]{3}$' };
const ORG_BRANDING = {
  type: 'object',
  additionalProperties: false,
  properties: {
    logo_url: { type: 'string', format: 'https-uri', description: 'URL of logo to display on login page.' },
    colors: {
      type: 'object',
      additionalProperties: false,
      required: ['primary', 'page_background'],
      properties: { primary: HTML_COLOR, page_background: HTML_COLOR },
    },
  },
};
const ORG_METADATA = {
  type: ['object', 'null'],
  maxProperties: 25,
  additionalProperties: { type: ['string', 'null'], maxLength: 255 },
  description:
    'Metadata associated with the organization, in the form of an object with string values (max 255 chars).  Maximum of 25 metadata properties allowed.',
};
const ORG_CONNECTION = {
  type: 'object',
  additionalProperties: false,
  required: ['connection_id'],
  properties: {
    connection_id: { type: 'string' },
    assign_membership_on_login: { type: 'boolean' },
    is_signup_enabled: { type: 'boolean' },
    show_as_button: { type: 'boolean' },
  },
};

/** Corrections for properties the extract only names by `$ref` (their limits live in the referenced schemas). */
const OVERRIDES: Record<string, Record<string, JsonSchema>> = {
  'POST /organizations': {
    branding: ORG_BRANDING,
    metadata: ORG_METADATA,
    enabled_connections: { type: 'array', maxItems: 10, items: ORG_CONNECTION },
  },
  'PATCH /organizations/{id}': { branding: ORG_BRANDING, metadata: ORG_METADATA },
  'POST /clients': {
    callbacks: URL_LIST,
    allowed_origins: URL_LIST,
    web_origins: URL_LIST,
    allowed_logout_urls: URL_LIST,
  },
  'PATCH /clients/{id}': {
    callbacks: URL_LIST,
    allowed_origins: URL_LIST,
    web_origins: URL_LIST,
    allowed_logout_urls: URL_LIST,
  },
  'POST /connections': { strategy: { type: 'string', minLength: 1 }, options: { type: 'object' } },
  'PATCH /connections/{id}': { options: { type: ['object', 'null'] } },
};

const ROLE_IDS = {
  type: 'object',
  additionalProperties: false,
  required: ['roles'],
  properties: {
    roles: {
      type: 'array',
      minItems: 1,
      items: { type: 'string' },
      description: 'List of roles IDs to associated with the user.',
    },
  },
};

/** Bodies the extract lacks, written from the reference (§5–§10) and deploy-cli's usage. */
const EXTRA_BODIES: Record<string, JsonSchema> = {
  'PATCH /connections/{id}/clients': {
    type: 'array',
    minItems: 1,
    maxItems: 50,
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['client_id', 'status'],
      properties: { client_id: { type: 'string', minLength: 1 }, status: { type: 'boolean' } },
    },
  },
  'PATCH /roles/{id}': {
    type: 'object',
    additionalProperties: false,
    properties: { name: { type: 'string', minLength: 1 }, description: { type: 'string' } },
  },
  'POST /users/{id}/roles': ROLE_IDS,
  'DELETE /users/{id}/roles': ROLE_IDS,
  'POST /roles/{id}/users': {
    type: 'object',
    additionalProperties: false,
    required: ['users'],
    properties: {
      users: {
        type: 'array',
        minItems: 1,
        items: { type: 'string' },
        description: "user_id's of the users to assign the role to.",
      },
    },
  },
  'POST /roles/{id}/permissions': {
    type: 'object',
    additionalProperties: false,
    required: ['permissions'],
    properties: {
      permissions: {
        type: 'array',
        items: {
          type: 'object',
          required: ['resource_server_identifier', 'permission_name'],
          properties: { resource_server_identifier: { type: 'string' }, permission_name: { type: 'string' } },
        },
      },
    },
  },
};

const validator = new ZSchema({ breakOnFirstError: true, ignoreUnknownFormats: true });

const FORMATS: Record<string, (value: unknown) => boolean> = {
  'https-uri': (value) => typeof value !== 'string' || /^https:\/\/[^\s]+$/.test(value),
  'absolute-https-uri-with-placeholders-or-empty': (value) =>
    typeof value !== 'string' || value === '' || /^https:\/\/[^\s]+$/.test(value),
  'absolute-uri-or-empty': (value) =>
    typeof value !== 'string' || value === '' || /^[a-z][a-z0-9+.-]*:\S+$/i.test(value),
  'url-with-placeholders': (value) => typeof value !== 'string' || /^\S+$/.test(value),
  'callback-url': (value) => typeof value !== 'string' || /^\S+$/.test(value),
  'organization-name': (value) => typeof value !== 'string' || /^[a-z0-9_-]+$/.test(value),
};
for (const [name, check] of Object.entries(FORMATS)) ZSchema.registerFormat(name, check);

const schemas = new Map<string, JsonSchema>();
for (const [route, endpoint] of Object.entries(extract.endpoints)) {
  if (!endpoint.body) continue;
  const properties = { ...endpoint.body.properties, ...(OVERRIDES[route] ?? {}) };
  schemas.set(route, { ...endpoint.body, properties });
}
for (const [route, schema] of Object.entries(EXTRA_BODIES)) schemas.set(route, schema);

/** Scopes accepted by an endpoint ("expected any of"), from the extract; undefined when the extract lacks it. */
export function scopesFor(route: string): string[] | undefined {
  return extract.endpoints[route]?.scopes;
}

/** Renders z-schema's first error the way Auth0 does. */
function describe(error: ZSchema.SchemaErrorDetail, schema: JsonSchema): string {
  const path = error.path.replace(/^#\/?/, '').split('/').filter(Boolean);
  const where = path.length === 0 ? '' : ` on property ${path.join('.')}`;
  let node: JsonSchema | undefined = schema;
  for (const segment of path) {
    const properties = node?.['properties'] as Record<string, JsonSchema> | undefined;
    node = properties?.[segment] ?? (node?.['items'] as JsonSchema | undefined);
  }
  const description =
    path.length > 0 && typeof node?.['description'] === 'string' ? ` (${node['description']})` : '';
  return `Payload validation error: '${error.message}'${where}${description}.`;
}

/** Validates a request body against the schema for `route` ("POST /organizations"); throws Auth0's 400. */
export function validateBody(route: string, body: unknown): void {
  const schema = schemas.get(route);
  if (!schema) return;
  if (validator.validate(body, schema)) return;
  const [first] = validator.getLastErrors() ?? [];
  if (!first) throw badRequest('Payload validation error');
  throw badRequest(describe(first, schema));
}
