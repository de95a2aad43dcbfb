/**
 * What a new tenant starts with — the M2M client holding every Management API scope, "Default App", the
 * `Username-Password-Authentication` database connection enabled for both — and the optional `--seed` file.
 * Seed objects are created through the tenant's own Management API (in process), so they pass the same validation
 * and get the same server defaults as objects created by a client.
 */
import { readFileSync } from 'node:fs';

import type { Hono } from 'hono';
import { parse as parseYaml } from 'yaml';

import { newId } from './ids.js';
import { MANAGEMENT_SCOPES, tables } from './model.js';
import { newClient } from './routes/clients.js';
import type { TenantRuntime } from './tenant-runtime.js';

export interface SeedSpec {
  clients?: Record<string, unknown>[];
  connections?: (Record<string, unknown> & { enabled_clients?: string[] })[];
  roles?: Record<string, unknown>[];
  organizations?: (Record<string, unknown> & {
    connections?: (Record<string, unknown> & { name: string })[];
  })[];
  users?: (Record<string, unknown> & { organizations?: string[] })[];
}

export function readSeedFile(path: string): SeedSpec {
  const parsed = parseYaml(readFileSync(path, 'utf8')) as unknown;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(
      `seed file ${path}: expected a mapping with clients/connections/roles/organizations/users`,
    );
  }
  return parsed;
}

/** Creates the objects every new tenant has. Writes tables directly: the API needs the M2M client to exist first. */
export function seedDefaults(tenant: TenantRuntime): void {
  const t = tenant.data;
  const apiId = newId.resourceServer();
  tables.resourceServers(t).put(apiId, {
    id: apiId,
    name: 'Auth0 Management API',
    identifier: tenant.audience,
    is_system: true,
    allow_offline_access: false,
    skip_consent_for_verifiable_first_party_clients: false,
    token_lifetime: 86400,
    token_lifetime_for_web: 7200,
    signing_alg: 'RS256',
    scopes: MANAGEMENT_SCOPES.map((value) => ({ value, description: value })),
  });
  const management = {
    ...newClient(tenant, {
      name: 'orgadmin (auth0-local)',
      app_type: 'non_interactive',
      is_first_party: true,
    }),
    client_id: t.meta.managementClientId,
    client_secret: t.meta.managementClientSecret,
  };
  tables.clients(t).put(management.client_id, management);
  const grantId = newId.clientGrant();
  tables.clientGrants(t).put(grantId, {
    id: grantId,
    client_id: management.client_id,
    audience: tenant.audience,
    scope: [...MANAGEMENT_SCOPES],
  });
  const defaultApp = newClient(tenant, { name: 'Default App', app_type: 'regular_web' });
  tables.clients(t).put(defaultApp.client_id, defaultApp);
  const connectionId = newId.connection();
  tables.connections(t).put(connectionId, {
    id: connectionId,
    options: {
      mfa: { active: true, return_enroll_settings: true },
      passwordPolicy: 'good',
      strategy_version: 2,
      authentication_methods: { password: { enabled: true }, passkey: { enabled: false } },
      brute_force_protection: true,
    },
    strategy: 'auth0',
    name: 'Username-Password-Authentication',
    is_domain_connection: false,
    realms: ['Username-Password-Authentication'],
  });
  for (const clientId of [management.client_id, defaultApp.client_id]) {
    tables.connectionClients(t, connectionId).put(clientId, { client_id: clientId });
  }
}

/** Applies a seed spec through the tenant's Management API; throws with the API's message on the first failure. */
export async function applySeed(app: Hono, tenant: TenantRuntime, spec: SeedSpec): Promise<void> {
  const token = await tenant.tokens.issue(
    tenant.data.meta.managementClientId,
    [...MANAGEMENT_SCOPES],
    tenant.audience,
    Math.floor(Date.now() / 1000),
  );
  const call = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    let response: Response;
    for (let attempt = 1; ; attempt += 1) {
      response = await app.request(`https://${tenant.domain}/api/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      // A seed goes through the tenant's rate limits like any client: a large one waits for its bucket to refill.
      if (response.status !== 429 || attempt >= 1000) break;
      const reset = Number(response.headers.get('x-ratelimit-reset'));
      const waitMs = Number.isFinite(reset) && reset > 0 ? Math.max(50, reset * 1000 - Date.now()) : 200;
      await response.text();
      await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, 5000)));
    }
    const text = await response.text();
    if (!response.ok) throw new Error(`seed: ${method} ${path} answered ${response.status}: ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
  const clientIds = new Map<string, string>();
  for (const client of tables.clients(tenant.data).values()) clientIds.set(client.name, client.client_id);
  for (const client of spec.clients ?? []) {
    const createdClient = await call('POST', '/clients', client);
    clientIds.set(String(createdClient['name']), String(createdClient['client_id']));
  }
  const connectionIds = new Map<string, string>();
  for (const connection of tables.connections(tenant.data).values())
    connectionIds.set(connection.name, connection.id);
  for (const { enabled_clients: enabled, ...connection } of spec.connections ?? []) {
    const createdConnection = await call('POST', '/connections', connection);
    const id = String(createdConnection['id']);
    connectionIds.set(String(createdConnection['name']), id);
    const changes = (enabled ?? []).map((name) => ({ client_id: clientIds.get(name) ?? name, status: true }));
    if (changes.length > 0) await call('PATCH', `/connections/${id}/clients`, changes);
  }
  for (const role of spec.roles ?? []) await call('POST', '/roles', role);
  const orgIds = new Map<string, string>();
  for (const { connections, ...org } of spec.organizations ?? []) {
    const createdOrg = await call('POST', '/organizations', org);
    const id = String(createdOrg['id']);
    orgIds.set(String(createdOrg['name']), id);
    for (const { name, ...settings } of connections ?? []) {
      await call('POST', `/organizations/${id}/enabled_connections`, {
        ...settings,
        connection_id: connectionIds.get(name) ?? name,
      });
    }
  }
  for (const { organizations, ...user } of spec.users ?? []) {
    const createdUser = await call('POST', '/users', {
      connection: 'Username-Password-Authentication',
      ...user,
    });
    for (const orgName of organizations ?? []) {
      await call('POST', `/organizations/${orgIds.get(orgName) ?? orgName}/members`, {
        members: [createdUser['user_id']],
      });
    }
  }
}
