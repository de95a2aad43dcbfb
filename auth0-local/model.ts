/**
 * Record shapes kept per tenant and the tables that hold them. Top-level records are stored in the shape the
 * Management API returns, so reads need no mapping; relations live in child tables named after their owner
 * (`org/<id>/members`), which a delete of the owner drops whole.
 */
import type { TenantData } from './state/store.js';
import type { Table } from './state/table.js';

export type Json = Record<string, unknown>;

export interface OrgRecord extends Json {
  id: string;
  name: string;
  display_name?: string;
  branding?: Json;
  metadata?: Record<string, string | null>;
}

export interface OrgConnectionRecord extends Json {
  connection_id: string;
  assign_membership_on_login: boolean;
  is_signup_enabled: boolean;
  show_as_button: boolean;
  is_enabled: boolean;
  organization_access_level: string;
  organization_connection_name?: string;
}

export interface ConnectionRecord extends Json {
  id: string;
  name: string;
  strategy: string;
  options: Json;
}

export interface ClientRecord extends Json {
  client_id: string;
  client_secret: string;
  name: string;
  initiate_login_uri?: string;
}

export interface UserRecord extends Json {
  user_id: string;
  email?: string;
  identities: { connection: string; user_id: string; provider: string; isSocial: boolean }[];
}

export interface RoleRecord extends Json {
  id: string;
  name: string;
  description?: string;
}

export interface ResourceServerRecord extends Json {
  id: string;
  identifier: string;
  name: string;
  scopes: { value: string; description?: string }[];
}

export interface ClientGrantRecord extends Json {
  id: string;
  client_id: string;
  audience: string;
  scope: string[];
}

export interface InvitationRecord extends Json {
  id: string;
  organization_id: string;
  client_id: string;
  invitation_url: string;
  ticket_id: string;
}

export interface RefreshTokenRecord extends Json {
  id: string;
  /** Rotation family: every token that descends from one login; reuse of a rotated-out token revokes it all. */
  family: string;
  /** The token this one replaced, deleted when this one is exchanged in turn (a family keeps at most two). */
  previous?: string;
  client_id: string;
  user_id: string;
  organization_id?: string;
  scope: string;
  audience?: string;
  auth_time: number;
  sid: string;
  created_at: string;
  /** Set when a rotating client exchanged this token; a later use counts as reuse. */
  rotated_at?: string;
}

export const tables = {
  organizations: (t: TenantData): Table<OrgRecord> => t.table('organizations'),
  connections: (t: TenantData): Table<ConnectionRecord> => t.table('connections'),
  clients: (t: TenantData): Table<ClientRecord> => t.table('clients'),
  users: (t: TenantData): Table<UserRecord> => t.table('users'),
  /** Password hashes, kept apart so a user record can be returned as it is. */
  credentials: (t: TenantData): Table<{ user_id: string; hash: string }> => t.table('user-credentials'),
  roles: (t: TenantData): Table<RoleRecord> => t.table('roles'),
  resourceServers: (t: TenantData): Table<ResourceServerRecord> => t.table('resource-servers'),
  clientGrants: (t: TenantData): Table<ClientGrantRecord> => t.table('client-grants'),
  selfServiceProfiles: (t: TenantData): Table<Json & { id: string }> => t.table('self-service-profiles'),
  tickets: (t: TenantData): Table<Json & { id: string; type: string }> => t.table('tickets'),
  rolePermissions: (t: TenantData, roleId: string): Table<Json> => t.table(`role/${roleId}/permissions`),
  /** Tenant-level role assignments, kept in both directions (`role/<id>/users` mirrors `user/<id>/roles`). */
  userRoles: (t: TenantData, userId: string): Table<{ role_id: string }> => t.table(`user/${userId}/roles`),
  roleUsers: (t: TenantData, roleId: string): Table<{ user_id: string }> => t.table(`role/${roleId}/users`),
  /** Refresh tokens, keyed by the SHA-256 of the token so the state file never holds a usable one. */
  refreshTokens: (t: TenantData): Table<RefreshTokenRecord> => t.table('refresh-tokens'),
  connectionClients: (t: TenantData, connectionId: string): Table<{ client_id: string }> =>
    t.table(`connection/${connectionId}/clients`),
  orgConnections: (t: TenantData, orgId: string): Table<OrgConnectionRecord> =>
    t.table(`org/${orgId}/connections`),
  orgMembers: (t: TenantData, orgId: string): Table<{ user_id: string }> => t.table(`org/${orgId}/members`),
  orgMemberRoles: (t: TenantData, orgId: string): Table<{ user_id: string; roles: string[] }> =>
    t.table(`org/${orgId}/member-roles`),
  orgInvitations: (t: TenantData, orgId: string): Table<InvitationRecord> =>
    t.table(`org/${orgId}/invitations`),
  orgClientGrants: (t: TenantData, orgId: string): Table<{ grant_id: string }> =>
    t.table(`org/${orgId}/client-grants`),
  orgDiscoveryDomains: (t: TenantData, orgId: string): Table<Json & { id: string; domain: string }> =>
    t.table(`org/${orgId}/discovery-domains`),
};

/** Child-table prefixes owned by an organization, dropped with it. */
export const ORG_CHILD_TABLES = [
  'connections',
  'members',
  'member-roles',
  'invitations',
  'client-grants',
  'discovery-domains',
];

/** Every scope of the Management API the seeded M2M client is granted (the extract's scopes plus deploy-cli's). */
export const MANAGEMENT_SCOPES = [
  'read:client_grants',
  'create:client_grants',
  'delete:client_grants',
  'update:client_grants',
  'read:users',
  'update:users',
  'delete:users',
  'create:users',
  'read:users_app_metadata',
  'update:users_app_metadata',
  'delete:users_app_metadata',
  'create:users_app_metadata',
  'create:user_tickets',
  'read:clients',
  'update:clients',
  'delete:clients',
  'create:clients',
  'read:client_keys',
  'update:client_keys',
  'read:client_credentials',
  'update:client_credentials',
  'create:client_credentials',
  'delete:client_credentials',
  'read:client_summary',
  'read:connections',
  'update:connections',
  'delete:connections',
  'create:connections',
  'read:resource_servers',
  'update:resource_servers',
  'delete:resource_servers',
  'create:resource_servers',
  'read:roles',
  'create:roles',
  'delete:roles',
  'update:roles',
  'read:role_members',
  'create:role_members',
  'delete:role_members',
  'read:organizations',
  'read:organizations_summary',
  'create:organizations',
  'update:organizations',
  'delete:organizations',
  'read:organization_members',
  'create:organization_members',
  'delete:organization_members',
  'read:organization_connections',
  'create:organization_connections',
  'update:organization_connections',
  'delete:organization_connections',
  'read:organization_member_roles',
  'create:organization_member_roles',
  'delete:organization_member_roles',
  'read:organization_invitations',
  'create:organization_invitations',
  'delete:organization_invitations',
  'read:organization_client_grants',
  'create:organization_client_grants',
  'delete:organization_client_grants',
  'read:organization_discovery_domains',
  'create:organization_discovery_domains',
  'update:organization_discovery_domains',
  'delete:organization_discovery_domains',
  'read:self_service_profiles',
  'create:self_service_profiles',
  'update:self_service_profiles',
  'delete:self_service_profiles',
  'read:self_service_profile_custom_texts',
  'update:self_service_profile_custom_texts',
  'create:sso_access_tickets',
  'delete:sso_access_tickets',
  'read:actions',
];
