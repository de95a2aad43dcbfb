/**
 * Clients (applications), resource servers (APIs) and client grants. A client PATCH is partial at the top level
 * and replaces every array it carries whole — the reason `callbacks` edits are read-modify-write and lose updates
 * when two run at once (reference §8). `client_metadata` merges, with null removing a key.
 */
import { conflict, missing } from '../errors.js';
import { newId } from '../ids.js';
import {
  tables,
  type ClientGrantRecord,
  type ClientRecord,
  type Json,
  type ResourceServerRecord,
} from '../model.js';
import { boolParam, listResponse } from '../pagination.js';
import { projector, withoutUndefined } from '../projection.js';
import { created, noContent, ok, type ManagementRouter } from '../router.js';
import type { TenantData } from '../state/store.js';
import type { TenantRuntime } from '../tenant-runtime.js';

const GRANT_TYPES: Record<string, string[]> = {
  spa: ['authorization_code', 'implicit', 'refresh_token'],
  native: ['authorization_code', 'implicit', 'refresh_token'],
  non_interactive: ['client_credentials'],
  regular_web: ['authorization_code', 'implicit', 'refresh_token', 'client_credentials'],
};

/** A new client as Auth0 returns it: the request plus the server's defaults. */
export function newClient(tenant: TenantRuntime, input: Json & { name: string }): ClientRecord {
  const appType = input['app_type'] as string | undefined;
  return withoutUndefined({
    tenant: tenant.name,
    global: false,
    is_token_endpoint_ip_header_trusted: false,
    is_first_party: true,
    oidc_conformant: true,
    sso_disabled: false,
    cross_origin_authentication: false,
    custom_login_page_on: true,
    callbacks: [],
    allowed_origins: [],
    web_origins: [],
    allowed_logout_urls: [],
    allowed_clients: [],
    client_aliases: [],
    grant_types: GRANT_TYPES[appType ?? 'regular_web'] ?? GRANT_TYPES['regular_web'],
    jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 36000, secret_encoded: false },
    token_endpoint_auth_method: appType === 'spa' || appType === 'native' ? 'none' : 'client_secret_post',
    refresh_token: {
      expiration_type: 'non-expiring',
      leeway: 0,
      infinite_token_lifetime: true,
      infinite_idle_token_lifetime: true,
      token_lifetime: 31557600,
      idle_token_lifetime: 2592000,
      rotation_type: 'non-rotating',
    },
    callback_url_template: false,
    ...input,
    client_id: newId.clientId(),
    client_secret: newId.clientSecret(),
  });
}

function findClient(t: TenantData, id: string): ClientRecord {
  const client = tables.clients(t).get(id);
  if (!client) throw missing.client();
  return client;
}

function mergeMetadata(current: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object') return patch;
  const merged: Json = { ...((current as Json | undefined) ?? {}) };
  for (const [key, value] of Object.entries(patch as Json)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

function deleteClient(t: TenantData, clientId: string): void {
  tables.clients(t).delete(clientId);
  for (const connection of tables.connections(t).values()) {
    t.tables.get(`connection/${connection.id}/clients`)?.delete(clientId);
  }
  for (const grant of [...tables.clientGrants(t).values()]) {
    if (grant.client_id === clientId) tables.clientGrants(t).delete(grant.id);
  }
}

export function registerClientRoutes(r: ManagementRouter): void {
  r.get('/clients', ({ tenant, query }) => {
    const isGlobal = boolParam(query, 'is_global');
    const isFirstParty = boolParam(query, 'is_first_party');
    const appTypes = query.get('app_type')?.split(',');
    const project = projector(query);
    const table = tables.clients(tenant.data);
    const filtered = isGlobal !== undefined || isFirstParty !== undefined || appTypes !== undefined;
    const rows = filtered
      ? [...table.values()].filter(
          (client) =>
            (isGlobal === undefined || client['global'] === isGlobal) &&
            (isFirstParty === undefined || client['is_first_party'] === isFirstParty) &&
            (appTypes === undefined || appTypes.includes(String(client['app_type']))),
        )
      : table;
    return ok(listResponse(query, 'clients', rows, { checkpoint: true, offset: true, project }));
  });
  r.post('/clients', ({ tenant, body }) => {
    const client = newClient(tenant, body as Json & { name: string });
    tables.clients(tenant.data).put(client.client_id, client);
    return created(client);
  });
  r.get('/clients/{id}', ({ tenant, params, query }) =>
    ok(projector(query)(findClient(tenant.data, params['id'] ?? ''))),
  );
  r.patch('/clients/{id}', ({ tenant, params, body }) => {
    const current = findClient(tenant.data, params['id'] ?? '');
    const input = (body ?? {}) as Json;
    const next = withoutUndefined({
      ...current,
      ...input,
      ...('client_metadata' in input
        ? { client_metadata: mergeMetadata(current['client_metadata'], input['client_metadata']) }
        : {}),
    }) as ClientRecord;
    tables.clients(tenant.data).put(current.client_id, next);
    return ok(next);
  });
  r.delete('/clients/{id}', ({ tenant, params }) => {
    findClient(tenant.data, params['id'] ?? '');
    deleteClient(tenant.data, params['id'] ?? '');
    return noContent();
  });
  r.get(
    '/clients/{id}/credentials',
    ({ tenant, params }) => {
      findClient(tenant.data, params['id'] ?? '');
      return ok([]);
    },
    { scopes: ['read:client_credentials', 'read:client_keys'] },
  );
  r.get(
    '/clients/{id}/connections',
    ({ tenant, params, query }) => {
      const client = findClient(tenant.data, params['id'] ?? '');
      const connections = [...tables.connections(tenant.data).values()].filter((connection) =>
        tenant.data.tables.get(`connection/${connection.id}/clients`)?.has(client.client_id),
      );
      return ok(listResponse(query, 'connections', connections, { checkpoint: true, offset: false }));
    },
    { scopes: ['read:connections'] },
  );

  registerResourceServerRoutes(r);
  registerClientGrantRoutes(r);
}

function registerResourceServerRoutes(r: ManagementRouter): void {
  const scopes = (verb: string): { scopes: string[] } => ({ scopes: [`${verb}:resource_servers`] });
  const find = (t: TenantData, id: string): ResourceServerRecord => {
    const table = tables.resourceServers(t);
    const server = table.get(id) ?? table.getBy('identifier', id);
    if (!server) throw missing.resourceServer();
    return server;
  };
  r.get(
    '/resource-servers',
    ({ tenant, query }) =>
      ok(
        listResponse(query, 'resource_servers', tables.resourceServers(tenant.data), {
          checkpoint: true,
          offset: true,
        }),
      ),
    scopes('read'),
  );
  r.post(
    '/resource-servers',
    ({ tenant, body }) => {
      const input = body as Json & { identifier: string; name?: string };
      if (tables.resourceServers(tenant.data).getBy('identifier', input.identifier)) {
        throw conflict(
          'A resource server with the same identifier already exists',
          'resource_server_conflict',
        );
      }
      const server: ResourceServerRecord = withoutUndefined({
        id: newId.resourceServer(),
        name: input.name ?? input.identifier,
        scopes: [],
        signing_alg: 'RS256',
        allow_offline_access: false,
        skip_consent_for_verifiable_first_party_clients: true,
        token_lifetime: 86400,
        token_lifetime_for_web: 7200,
        ...input,
        identifier: input.identifier,
      });
      tables.resourceServers(tenant.data).put(server.id, server);
      return created(server);
    },
    scopes('create'),
  );
  r.get(
    '/resource-servers/{id}',
    ({ tenant, params }) => ok(find(tenant.data, params['id'] ?? '')),
    scopes('read'),
  );
  r.patch(
    '/resource-servers/{id}',
    ({ tenant, params, body }) => {
      const current = find(tenant.data, params['id'] ?? '');
      const next = { ...current, ...(body as Json), id: current.id, identifier: current.identifier };
      tables.resourceServers(tenant.data).put(current.id, next);
      return ok(next);
    },
    scopes('update'),
  );
  r.delete(
    '/resource-servers/{id}',
    ({ tenant, params }) => {
      const current = find(tenant.data, params['id'] ?? '');
      tables.resourceServers(tenant.data).delete(current.id);
      return noContent();
    },
    scopes('delete'),
  );
}

function registerClientGrantRoutes(r: ManagementRouter): void {
  const scopes = (verb: string): { scopes: string[] } => ({ scopes: [`${verb}:client_grants`] });
  const find = (t: TenantData, id: string): ClientGrantRecord => {
    const grant = tables.clientGrants(t).get(id);
    if (!grant) throw missing.clientGrant();
    return grant;
  };
  r.get(
    '/client-grants',
    ({ tenant, query }) => {
      const audience = query.get('audience');
      const clientId = query.get('client_id');
      const table = tables.clientGrants(tenant.data);
      const rows =
        audience || clientId
          ? [...table.values()].filter(
              (grant) =>
                (!audience || grant.audience === audience) && (!clientId || grant.client_id === clientId),
            )
          : table;
      return ok(listResponse(query, 'client_grants', rows, { checkpoint: true, offset: true }));
    },
    scopes('read'),
  );
  r.post(
    '/client-grants',
    ({ tenant, body }) => {
      const input = body as Json & { client_id: string; audience: string; scope?: string[] };
      findClientOrThrow(tenant.data, input.client_id);
      if (!tables.resourceServers(tenant.data).getBy('identifier', input.audience))
        throw missing.resourceServer();
      if (tables.clientGrants(tenant.data).getBy('pair', `${input.client_id}|${input.audience}`)) {
        throw conflict(
          'A client grant for this client and audience already exists.',
          'client_grant_conflict',
        );
      }
      const grant: ClientGrantRecord = { scope: [], ...input, id: newId.clientGrant() };
      tables.clientGrants(tenant.data).put(grant.id, grant);
      return created(grant);
    },
    scopes('create'),
  );
  r.patch(
    '/client-grants/{id}',
    ({ tenant, params, body }) => {
      const current = find(tenant.data, params['id'] ?? '');
      const next = { ...current, ...(body as Json), id: current.id };
      tables.clientGrants(tenant.data).put(current.id, next);
      return ok(next);
    },
    scopes('update'),
  );
  r.delete(
    '/client-grants/{id}',
    ({ tenant, params }) => {
      const current = find(tenant.data, params['id'] ?? '');
      tables.clientGrants(tenant.data).delete(current.id);
      return noContent();
    },
    scopes('delete'),
  );
}

function findClientOrThrow(t: TenantData, id: string): void {
  if (!tables.clients(t).has(id)) throw missing.client();
}
