/**
 * Organizations and everything hanging off them: enabled connections (classic and `/connections`), members and
 * their roles, invitations, client grants, discovery domains and the organization's clients.
 * Shapes and status codes follow the recordings in the reference (§3–§6), where they differ from the OpenAPI text.
 */
import { badRequest, conflict, missing } from '../errors.js';
import { newId } from '../ids.js';
import {
  ORG_CHILD_TABLES,
  tables,
  type ConnectionRecord,
  type InvitationRecord,
  type Json,
  type OrgConnectionRecord,
  type OrgRecord,
} from '../model.js';
import { listResponse } from '../pagination.js';
import { withoutUndefined } from '../projection.js';
import { created, noContent, ok, type ManagementRouter, type RouteContext } from '../router.js';
import type { TenantData } from '../state/store.js';

const MAX_ORG_CONNECTIONS = 10;
const DEFAULT_INVITATION_TTL = 604_800;

function findOrg(t: TenantData, id: string): OrgRecord {
  const org = tables.organizations(t).get(id);
  if (!org) throw missing.organization();
  return org;
}

/** Merges metadata the way Auth0 PATCHes do: a null value removes its key. */
function mergeMetadata(current: Json | undefined, patch: Json | null | undefined): Json | undefined {
  if (patch === undefined) return current;
  if (patch === null) return undefined;
  const merged: Json = { ...(current ?? {}) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

function connectionSummary(t: TenantData, connectionId: string): { name: string; strategy: string } {
  const connection = tables.connections(t).get(connectionId);
  return { name: connection?.name ?? '', strategy: connection?.strategy ?? '' };
}

/** The classic `enabled_connections` item. */
function classicItem(t: TenantData, row: OrgConnectionRecord): Json {
  return {
    connection_id: row.connection_id,
    assign_membership_on_login: row.assign_membership_on_login,
    show_as_button: row.show_as_button,
    is_signup_enabled: row.is_signup_enabled,
    connection: connectionSummary(t, row.connection_id),
  };
}

/** The newer `/organizations/{id}/connections` item. */
function connectionItem(t: TenantData, row: OrgConnectionRecord): Json {
  return withoutUndefined({
    connection_id: row.connection_id,
    organization_connection_name: row.organization_connection_name,
    is_signup_enabled: row.is_signup_enabled,
    assign_membership_on_login: row.assign_membership_on_login,
    show_as_button: row.show_as_button,
    is_enabled: row.is_enabled,
    organization_access_level: row.organization_access_level,
    connection: connectionSummary(t, row.connection_id),
  });
}

interface OrgConnectionInput {
  connection_id?: string;
  assign_membership_on_login?: boolean;
  is_signup_enabled?: boolean;
  show_as_button?: boolean;
  is_enabled?: boolean;
  organization_access_level?: string;
  organization_connection_name?: string;
}

function checkSignup(row: OrgConnectionRecord, connection: ConnectionRecord): void {
  if (row.is_signup_enabled && (!row.assign_membership_on_login || connection.strategy !== 'auth0')) {
    throw badRequest(
      'Only database connections with assign_membership_on_login = true support is_signup_enabled = true.',
    );
  }
}

/** Adds a connection to an organization (both endpoint generations share this). */
function enableConnection(t: TenantData, orgId: string, input: OrgConnectionInput): OrgConnectionRecord {
  const connectionId = input.connection_id ?? '';
  const connection = tables.connections(t).get(connectionId);
  if (!connection) throw missing.connection();
  const orgConnections = tables.orgConnections(t, orgId);
  if (orgConnections.has(connectionId)) throw conflict('The organization connection already exists.');
  if (orgConnections.size >= MAX_ORG_CONNECTIONS) {
    throw badRequest(`An organization can have at most ${MAX_ORG_CONNECTIONS} enabled connections.`);
  }
  const row: OrgConnectionRecord = withoutUndefined({
    connection_id: connectionId,
    assign_membership_on_login: input.assign_membership_on_login ?? false,
    is_signup_enabled: input.is_signup_enabled ?? false,
    show_as_button: input.show_as_button ?? true,
    is_enabled: input.is_enabled ?? true,
    organization_access_level: input.organization_access_level ?? 'none',
    organization_connection_name: input.organization_connection_name,
  });
  checkSignup(row, connection);
  orgConnections.put(connectionId, row);
  return row;
}

function updateConnection(
  t: TenantData,
  orgId: string,
  connectionId: string,
  input: OrgConnectionInput,
): OrgConnectionRecord {
  const orgConnections = tables.orgConnections(t, orgId);
  const current = orgConnections.get(connectionId);
  if (!current) throw missing.orgConnection();
  const row = withoutUndefined({ ...current, ...input, connection_id: connectionId }) as OrgConnectionRecord;
  const connection = tables.connections(t).get(connectionId);
  if (connection) checkSignup(row, connection);
  orgConnections.put(connectionId, row);
  return row;
}

function requireUser(t: TenantData, userId: string): void {
  if (!tables.users(t).has(userId)) throw missing.user();
}

function memberView(t: TenantData, orgId: string, userId: string, fields: Set<string> | undefined): Json {
  const user = tables.users(t).get(userId);
  const view: Json = withoutUndefined({
    user_id: userId,
    email: user?.['email'],
    picture: user?.['picture'] as string | undefined,
    name: user?.['name'] as string | undefined,
  });
  if (fields?.has('roles')) {
    const roleIds = tables.orgMemberRoles(t, orgId).get(userId)?.roles ?? [];
    view['roles'] = roleIds.map((id) => {
      const role = tables.roles(t).get(id);
      return { id, name: role?.name ?? '' };
    });
  }
  if (!fields) return view;
  return Object.fromEntries(Object.entries(view).filter(([key]) => fields.has(key)));
}

function createOrganization({ tenant, body }: RouteContext): OrgRecord & Json {
  const t = tenant.data;
  const input = body as Json & { name: string; enabled_connections?: OrgConnectionInput[] };
  const orgs = tables.organizations(t);
  if (orgs.getBy('name', input.name)) throw conflict('An organization with this name already exists.');
  for (const item of input.enabled_connections ?? []) {
    if (!tables.connections(t).has(item.connection_id ?? '')) throw missing.connection();
  }
  const org: OrgRecord = withoutUndefined({
    id: newId.organization(),
    name: input.name,
    display_name: input['display_name'] as string | undefined,
    branding: input['branding'] as Json | undefined,
    metadata: input['metadata'] as Record<string, string> | undefined,
    token_quota: input['token_quota'],
  });
  orgs.put(org.id, org);
  const response: OrgRecord & Json = { ...org };
  if (input.enabled_connections) {
    response['enabled_connections'] = input.enabled_connections.map((item) =>
      classicItem(t, enableConnection(t, org.id, item)),
    );
  }
  return response;
}

function deleteOrganization(t: TenantData, id: string): void {
  findOrg(t, id);
  tables.organizations(t).delete(id);
  for (const child of ORG_CHILD_TABLES) t.dropTable(`org/${id}/${child}`);
}

function createInvitation({ tenant, params, body, now }: RouteContext): InvitationRecord {
  const t = tenant.data;
  const org = findOrg(t, params['id'] ?? '');
  const input = body as Json & {
    client_id: string;
    connection_id?: string;
    ttl_sec?: number;
    roles?: string[];
  };
  const client = tables.clients(t).get(input.client_id);
  if (!client) throw missing.client();
  if (!client.initiate_login_uri) {
    throw badRequest(
      'A default login route is required to generate the invitation url. For more information, see https://auth0.com/docs/universal-login/configure-default-login-routes',
    );
  }
  if (input.connection_id !== undefined && !tables.orgConnections(t, org.id).has(input.connection_id)) {
    throw missing.orgConnection();
  }
  for (const roleId of input.roles ?? []) if (!tables.roles(t).has(roleId)) throw missing.role();
  const ticketId = newId.ticket();
  const ttl = input.ttl_sec && input.ttl_sec > 0 ? input.ttl_sec : DEFAULT_INVITATION_TTL;
  const url = new URL(client.initiate_login_uri);
  url.searchParams.set('invitation', ticketId);
  url.searchParams.set('organization', org.id);
  url.searchParams.set('organization_name', org.name);
  const invitation: InvitationRecord = withoutUndefined({
    id: newId.invitation(),
    organization_id: org.id,
    inviter: input['inviter'],
    invitee: input['invitee'],
    app_metadata: input['app_metadata'] ?? {},
    user_metadata: input['user_metadata'] ?? {},
    invitation_url: url.toString(),
    created_at: new Date(now).toISOString(),
    expires_at: new Date(now + ttl * 1000).toISOString(),
    client_id: input.client_id,
    connection_id: input.connection_id,
    roles: input.roles,
    ticket_id: ticketId,
  });
  tables.orgInvitations(t, org.id).put(invitation.id, invitation);
  tables.tickets(t).put(ticketId, {
    id: ticketId,
    type: 'invitation',
    organization_id: org.id,
    invitation_id: invitation.id,
  });
  return invitation;
}

function registerOrgConnectionRoutes(
  r: ManagementRouter,
  collection: 'enabled_connections' | 'connections',
  idParam: string,
  project: (t: TenantData, row: OrgConnectionRecord) => Json,
  newer: boolean,
): void {
  const base = `/organizations/{id}/${collection}`;
  const item = `${base}/{${idParam}}`;
  // The extract lists scopes for the classic item routes only.
  const scopes = (verb: string): { scopes: string[] } | undefined =>
    newer ? { scopes: [`${verb}:organization_connections`] } : undefined;
  r.get(base, ({ tenant, params, query }) => {
    const org = findOrg(tenant.data, params['id'] ?? '');
    const isEnabled = newer ? query.get('is_enabled') : null;
    const table = tables.orgConnections(tenant.data, org.id);
    const rows =
      isEnabled === 'true' || isEnabled === 'false'
        ? [...table.values()].filter((row) => row.is_enabled === (isEnabled === 'true'))
        : table;
    return ok(
      listResponse(query, collection, rows, {
        checkpoint: false,
        offset: true,
        project: (row) => project(tenant.data, row),
      }),
    );
  });
  r.post(base, ({ tenant, params, body }) => {
    const org = findOrg(tenant.data, params['id'] ?? '');
    return created(project(tenant.data, enableConnection(tenant.data, org.id, body as OrgConnectionInput)));
  });
  r.get(
    item,
    ({ tenant, params }) => {
      const org = findOrg(tenant.data, params['id'] ?? '');
      const row = tables.orgConnections(tenant.data, org.id).get(params[idParam] ?? '');
      if (!row) throw missing.orgConnection();
      return ok(project(tenant.data, row));
    },
    scopes('read'),
  );
  r.patch(
    item,
    ({ tenant, params, body }) => {
      const org = findOrg(tenant.data, params['id'] ?? '');
      const row = updateConnection(tenant.data, org.id, params[idParam] ?? '', body as OrgConnectionInput);
      return ok(project(tenant.data, row));
    },
    scopes('update'),
  );
  r.delete(
    item,
    ({ tenant, params }) => {
      const org = findOrg(tenant.data, params['id'] ?? '');
      if (!tables.orgConnections(tenant.data, org.id).delete(params[idParam] ?? ''))
        throw missing.orgConnection();
      return noContent();
    },
    scopes('delete'),
  );
}

export function registerOrganizationRoutes(r: ManagementRouter): void {
  r.get('/organizations', ({ tenant, query }) =>
    ok(
      listResponse(query, 'organizations', tables.organizations(tenant.data), {
        checkpoint: true,
        offset: true,
      }),
    ),
  );
  r.post('/organizations', (ctx) => created(createOrganization(ctx)));
  r.get('/organizations/name/{name}', ({ tenant, params }) => {
    const org = tables.organizations(tenant.data).getBy('name', params['name'] ?? '');
    if (!org) throw missing.organization();
    return ok(org);
  });
  r.get('/organizations/{id}', ({ tenant, params }) => ok(findOrg(tenant.data, params['id'] ?? '')));
  r.patch('/organizations/{id}', ({ tenant, params, body }) => {
    const t = tenant.data;
    const current = findOrg(t, params['id'] ?? '');
    const input = body as Json;
    const name = (input['name'] as string | undefined) ?? current.name;
    const holder = tables.organizations(t).getBy('name', name);
    if (holder && holder.id !== current.id) throw conflict('An organization with this name already exists.');
    const next = withoutUndefined({
      ...current,
      ...input,
      name,
      metadata: mergeMetadata(current.metadata, input['metadata'] as Json | null | undefined),
    }) as OrgRecord;
    tables.organizations(t).put(current.id, next);
    return ok(next);
  });
  r.delete('/organizations/{id}', ({ tenant, params }) => {
    deleteOrganization(tenant.data, params['id'] ?? '');
    return noContent();
  });

  // Both generations of the organization-connection endpoints share one store and differ in item shape; the newer
  // one (used by deploy-cli ≥ 8.40) adds `is_enabled` filtering and is missing from the OpenAPI extract's scopes.
  registerOrgConnectionRoutes(r, 'enabled_connections', 'connectionId', classicItem, false);
  registerOrgConnectionRoutes(r, 'connections', 'connectionId', connectionItem, true);

  // Members and member roles.
  r.get('/organizations/{id}/members', ({ tenant, params, query }) => {
    const org = findOrg(tenant.data, params['id'] ?? '');
    const fieldsParam = query.get('fields');
    const fields = fieldsParam ? new Set(fieldsParam.split(',').map((f) => f.trim())) : undefined;
    if (fields?.has('roles') && !fields.has('user_id')) fields.add('user_id');
    return ok(
      listResponse(query, 'members', tables.orgMembers(tenant.data, org.id), {
        checkpoint: true,
        offset: true,
        project: (row) => memberView(tenant.data, org.id, row.user_id, fields),
      }),
    );
  });
  r.post('/organizations/{id}/members', ({ tenant, params, body }) => {
    const org = findOrg(tenant.data, params['id'] ?? '');
    const { members } = body as { members: string[] };
    for (const userId of members) requireUser(tenant.data, userId);
    const table = tables.orgMembers(tenant.data, org.id);
    for (const userId of members) if (!table.has(userId)) table.put(userId, { user_id: userId });
    return noContent();
  });
  r.delete('/organizations/{id}/members', ({ tenant, params, body }) => {
    const org = findOrg(tenant.data, params['id'] ?? '');
    const { members } = body as { members: string[] };
    for (const userId of members) {
      tables.orgMembers(tenant.data, org.id).delete(userId);
      tables.orgMemberRoles(tenant.data, org.id).delete(userId);
    }
    return noContent();
  });
  r.get('/organizations/{id}/members/{user_id}/roles', ({ tenant, params, query }) => {
    const org = findOrg(tenant.data, params['id'] ?? '');
    const roleIds = tables.orgMemberRoles(tenant.data, org.id).get(params['user_id'] ?? '')?.roles ?? [];
    const roles = roleIds.map((id) => tables.roles(tenant.data).get(id)).filter((role) => role !== undefined);
    return ok(listResponse(query, 'roles', roles, { checkpoint: false, offset: true }));
  });
  r.post('/organizations/{id}/members/{user_id}/roles', ({ tenant, params, body }) => {
    const org = findOrg(tenant.data, params['id'] ?? '');
    const userId = params['user_id'] ?? '';
    requireUser(tenant.data, userId);
    const { roles } = body as { roles: string[] };
    for (const roleId of roles) if (!tables.roles(tenant.data).has(roleId)) throw missing.role();
    const table = tables.orgMemberRoles(tenant.data, org.id);
    const current = table.get(userId)?.roles ?? [];
    const next = [...new Set([...current, ...roles])];
    if (next.length > 50) throw conflict('No more roles can be assigned to this organization member.');
    table.put(userId, { user_id: userId, roles: next });
    return noContent();
  });
  r.delete('/organizations/{id}/members/{user_id}/roles', ({ tenant, params, body }) => {
    const org = findOrg(tenant.data, params['id'] ?? '');
    const userId = params['user_id'] ?? '';
    const { roles } = body as { roles: string[] };
    const table = tables.orgMemberRoles(tenant.data, org.id);
    const current = table.get(userId)?.roles ?? [];
    table.put(userId, { user_id: userId, roles: current.filter((id) => !roles.includes(id)) });
    return noContent();
  });

  // Invitations.
  r.post('/organizations/{id}/invitations', (ctx) => created(createInvitation(ctx)));
  r.get('/organizations/{id}/invitations', ({ tenant, params, query }) => {
    const org = findOrg(tenant.data, params['id'] ?? '');
    return ok(
      listResponse(query, 'invitations', tables.orgInvitations(tenant.data, org.id), {
        checkpoint: false,
        offset: true,
        withoutTotal: true,
      }),
    );
  });
  r.get('/organizations/{id}/invitations/{invitation_id}', ({ tenant, params }) => {
    const org = findOrg(tenant.data, params['id'] ?? '');
    const invitation = tables.orgInvitations(tenant.data, org.id).get(params['invitation_id'] ?? '');
    if (!invitation) throw missing.invitation();
    return ok(invitation);
  });
  r.delete('/organizations/{id}/invitations/{invitation_id}', ({ tenant, params }) => {
    const org = findOrg(tenant.data, params['id'] ?? '');
    const invitation = tables.orgInvitations(tenant.data, org.id).get(params['invitation_id'] ?? '');
    if (!invitation) throw missing.invitation();
    tables.orgInvitations(tenant.data, org.id).delete(invitation.id);
    tables.tickets(tenant.data).delete(invitation.ticket_id);
    return noContent();
  });

  // Organization client grants, discovery domains and clients: what deploy-cli reads per organization.
  r.get(
    '/organizations/{id}/client-grants',
    ({ tenant, params, query }) => {
      const org = findOrg(tenant.data, params['id'] ?? '');
      const grants = [...tables.orgClientGrants(tenant.data, org.id).values()]
        .map((row) => tables.clientGrants(tenant.data).get(row.grant_id))
        .filter((grant) => grant !== undefined);
      return ok(listResponse(query, 'client_grants', grants, { checkpoint: false, offset: true }));
    },
    { scopes: ['read:organization_client_grants'] },
  );
  r.post(
    '/organizations/{id}/client-grants',
    ({ tenant, params, body }) => {
      const org = findOrg(tenant.data, params['id'] ?? '');
      const grantId = (body as { grant_id?: string }).grant_id ?? '';
      const grant = tables.clientGrants(tenant.data).get(grantId);
      if (!grant) throw missing.clientGrant();
      tables.orgClientGrants(tenant.data, org.id).put(grantId, { grant_id: grantId });
      return created(grant);
    },
    { scopes: ['create:organization_client_grants'] },
  );
  r.delete(
    '/organizations/{id}/client-grants/{grant_id}',
    ({ tenant, params }) => {
      const org = findOrg(tenant.data, params['id'] ?? '');
      tables.orgClientGrants(tenant.data, org.id).delete(params['grant_id'] ?? '');
      return noContent();
    },
    { scopes: ['delete:organization_client_grants'] },
  );
  r.get(
    '/organizations/{id}/discovery-domains',
    ({ tenant, params, query }) => {
      const org = findOrg(tenant.data, params['id'] ?? '');
      return ok(
        listResponse(query, 'domains', tables.orgDiscoveryDomains(tenant.data, org.id), {
          checkpoint: true,
          offset: false,
        }),
      );
    },
    { scopes: ['read:organization_discovery_domains'] },
  );
  r.post(
    '/organizations/{id}/discovery-domains',
    ({ tenant, params, body }) => {
      const org = findOrg(tenant.data, params['id'] ?? '');
      const input = body as { domain?: string; status?: string; use_for_organization_discovery?: boolean };
      if (!input.domain) throw badRequest("Payload validation error: 'Missing required property: domain'.");
      const table = tables.orgDiscoveryDomains(tenant.data, org.id);
      if ([...table.values()].some((row) => row.domain === input.domain)) {
        throw conflict('The discovery domain already exists for this organization.');
      }
      const id = newId.discoveryDomain();
      const row = {
        id,
        domain: input.domain,
        status: input.status ?? 'pending',
        use_for_organization_discovery: input.use_for_organization_discovery ?? false,
        verification_host: `_auth0-challenge.${input.domain}`,
        verification_txt: `auth0-domain-verification=${newId.ticket()}`,
      };
      table.put(id, row);
      return created(row);
    },
    { scopes: ['create:organization_discovery_domains'] },
  );
  r.patch(
    '/organizations/{id}/discovery-domains/{domain_id}',
    ({ tenant, params, body }) => {
      const org = findOrg(tenant.data, params['id'] ?? '');
      const table = tables.orgDiscoveryDomains(tenant.data, org.id);
      const current = table.get(params['domain_id'] ?? '');
      if (!current) throw missing.discoveryDomain();
      const next = { ...current, ...(body as Json), id: current.id, domain: current.domain };
      table.put(current.id, next);
      return ok(next);
    },
    { scopes: ['update:organization_discovery_domains'] },
  );
  r.delete(
    '/organizations/{id}/discovery-domains/{domain_id}',
    ({ tenant, params }) => {
      const org = findOrg(tenant.data, params['id'] ?? '');
      if (!tables.orgDiscoveryDomains(tenant.data, org.id).delete(params['domain_id'] ?? '')) {
        throw missing.discoveryDomain();
      }
      return noContent();
    },
    { scopes: ['delete:organization_discovery_domains'] },
  );
  r.get(
    '/organizations/{id}/clients',
    ({ tenant, params, query }) => {
      findOrg(tenant.data, params['id'] ?? '');
      return ok(listResponse(query, 'clients', [], { checkpoint: true, offset: false }));
    },
    { scopes: ['read:organizations'] },
  );
}
