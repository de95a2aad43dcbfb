/**
 * What the sign-in side asks of a tenant's directory: which database connections a login may use (enabled for the
 * client and, with an organization, for the organization too), password checks, organization membership (with
 * Auth0's "assign membership on login"), accepting an invitation, and the role names the roles claim carries.
 */
import {
  tables,
  type ClientRecord,
  type ConnectionRecord,
  type InvitationRecord,
  type Json,
  type OrgConnectionRecord,
  type OrgRecord,
  type UserRecord,
} from '../model.js';
import { verifyPassword } from '../routes/users.js';
import type { TenantData } from '../state/store.js';
import type { Table } from '../state/table.js';

/** A table if it exists; reads through `tables.*` would create empty child tables that then show in dumps. */
function peek<T extends object>(t: TenantData, name: string): Table<T> | undefined {
  return t.tables.get(name) as Table<T> | undefined;
}

export function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** An organization by id (`org_…`) or by name, as `/authorize` accepts either. */
export function findOrganization(t: TenantData, idOrName: string): OrgRecord | undefined {
  const orgs = tables.organizations(t);
  return idOrName.startsWith('org_') ? orgs.get(idOrName) : orgs.getBy('name', idOrName);
}

/**
 * Whether `candidate` is one of the allowed URLs: exact match, a `*` wildcard as the leftmost host label, or the
 * `{organization_name}` placeholder, which only stands for something when the transaction has an organization.
 */
export function urlAllowed(patterns: readonly string[], candidate: string, orgName?: string): boolean {
  return patterns.some((pattern) => {
    if (pattern.includes('{organization_name}')) {
      return orgName !== undefined && pattern.split('{organization_name}').join(orgName) === candidate;
    }
    const wildcard = /^([a-z][a-z0-9+.-]*:\/\/)\*\.(.+)$/i.exec(pattern);
    if (!wildcard) return pattern === candidate;
    const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const [, scheme = '', rest = ''] = wildcard;
    return new RegExp(`^${escape(scheme)}[^./:?#@]+\\.${escape(rest)}$`, 'i').test(candidate);
  });
}

export interface LoginConnection {
  connection: ConnectionRecord;
  /** The organization's settings for the connection, when the login is for an organization. */
  orgConnection?: OrgConnectionRecord;
}

/** Database connections a login may use, in the tenant's connection order. */
export function databaseConnections(
  t: TenantData,
  clientId: string,
  orgId: string | undefined,
  only?: string,
): LoginConnection[] {
  const out: LoginConnection[] = [];
  for (const connection of tables.connections(t).values()) {
    if (connection.strategy !== 'auth0') continue;
    if (only !== undefined && connection.name !== only) continue;
    if (!peek<{ client_id: string }>(t, `connection/${connection.id}/clients`)?.has(clientId)) continue;
    if (orgId === undefined) {
      out.push({ connection });
      continue;
    }
    const orgConnection = peek<OrgConnectionRecord>(t, `org/${orgId}/connections`)?.get(connection.id);
    if (orgConnection && orgConnection.is_enabled !== false) out.push({ connection, orgConnection });
  }
  return out;
}

/** The user whose email and password match in one of the connections, with the connection that matched. */
export async function authenticate(
  t: TenantData,
  candidates: readonly LoginConnection[],
  email: string,
  password: string,
): Promise<{ user: UserRecord; via: LoginConnection } | undefined> {
  const wanted = email.trim().toLowerCase();
  if (wanted === '' || password === '') return undefined;
  for (const via of candidates) {
    for (const user of tables.users(t).values()) {
      if (user.email?.toLowerCase() !== wanted) continue;
      if (!user.identities.some((identity) => identity.connection === via.connection.name)) continue;
      const credential = tables.credentials(t).get(user.user_id);
      if (credential && (await verifyPassword(credential.hash, password))) return { user, via };
    }
  }
  return undefined;
}

export function userConnectionName(user: UserRecord): string | undefined {
  return user.identities.find((identity) => identity.provider === 'auth0')?.connection;
}

export function isMember(t: TenantData, orgId: string, userId: string): boolean {
  return peek<{ user_id: string }>(t, `org/${orgId}/members`)?.has(userId) ?? false;
}

/**
 * Lets a user into an organization: members pass, and a connection with `assign_membership_on_login` makes the user
 * a member on the way in (a journaled write, as in Auth0). False when the user may not log in to it.
 */
export function admitToOrganization(
  t: TenantData,
  orgId: string,
  userId: string,
  orgConnection: OrgConnectionRecord | undefined,
): boolean {
  if (isMember(t, orgId, userId)) return true;
  if (!orgConnection?.assign_membership_on_login) return false;
  tables.orgMembers(t, orgId).put(userId, { user_id: userId });
  return true;
}

/** Auth0's wording for a login refused because the user is not a member. */
export function notAMember(userId: string, orgId: string): string {
  return `user ${userId} is not part of the ${orgId} organization`;
}

/** The live invitation behind an invitation ticket, or undefined (unknown, used, revoked, expired or another org). */
export function findInvitation(
  t: TenantData,
  ticketId: string,
  orgId: string | undefined,
  now: number,
): InvitationRecord | undefined {
  const ticket = tables.tickets(t).get(ticketId);
  if (ticket?.type !== 'invitation') return undefined;
  const ticketOrg = ticket['organization_id'];
  if (typeof ticketOrg !== 'string' || (orgId !== undefined && ticketOrg !== orgId)) return undefined;
  const invitation = peek<InvitationRecord>(t, `org/${ticketOrg}/invitations`)?.get(
    String(ticket['invitation_id']),
  );
  if (!invitation) return undefined;
  const expires = invitation['expires_at'];
  const expiresAt = typeof expires === 'string' ? Date.parse(expires) : Number.NaN;
  return Number.isFinite(expiresAt) && expiresAt <= now ? undefined : invitation;
}

export function inviteeEmail(invitation: InvitationRecord): string {
  const invitee = invitation['invitee'] as { email?: unknown } | undefined;
  return typeof invitee?.email === 'string' ? invitee.email.toLowerCase() : '';
}

/**
 * Accepts an invitation for a user: membership, the invitation's roles in the organization, its metadata on the user,
 * and the invitation and its ticket gone, so the link works once.
 */
export function acceptInvitation(
  t: TenantData,
  invitation: InvitationRecord,
  user: UserRecord,
  now: number,
): void {
  const orgId = invitation.organization_id;
  if (!isMember(t, orgId, user.user_id))
    tables.orgMembers(t, orgId).put(user.user_id, { user_id: user.user_id });
  const roles = stringList(invitation['roles']).filter((id) => tables.roles(t).has(id));
  if (roles.length > 0) {
    const memberRoles = tables.orgMemberRoles(t, orgId);
    const current = memberRoles.get(user.user_id)?.roles ?? [];
    memberRoles.put(user.user_id, { user_id: user.user_id, roles: [...new Set([...current, ...roles])] });
  }
  const merge = (current: unknown, extra: unknown): Json | undefined => {
    if (!extra || typeof extra !== 'object' || Object.keys(extra).length === 0) return undefined;
    return { ...((current as Json | undefined) ?? {}), ...(extra as Json) };
  };
  const appMetadata = merge(user['app_metadata'], invitation['app_metadata']);
  const userMetadata = merge(user['user_metadata'], invitation['user_metadata']);
  if (appMetadata || userMetadata) {
    tables.users(t).put(user.user_id, {
      ...user,
      ...(appMetadata ? { app_metadata: appMetadata } : {}),
      ...(userMetadata ? { user_metadata: userMetadata } : {}),
      updated_at: new Date(now).toISOString(),
    });
  }
  tables.orgInvitations(t, orgId).delete(invitation.id);
  tables.tickets(t).delete(invitation.ticket_id);
}

/** Auth0 counts logins on the user record (`logins_count`, `last_login`). */
export function recordLogin(t: TenantData, userId: string, now: number): void {
  const user = tables.users(t).get(userId);
  if (!user) return;
  const count = typeof user['logins_count'] === 'number' ? user['logins_count'] : 0;
  tables.users(t).put(userId, { ...user, logins_count: count + 1, last_login: new Date(now).toISOString() });
}

/** Role names for the roles claim: the user's roles in the organization, else the tenant-level ones. */
export function roleNames(t: TenantData, userId: string, orgId: string | undefined): string[] {
  const ids =
    orgId !== undefined
      ? (peek<{ user_id: string; roles: string[] }>(t, `org/${orgId}/member-roles`)?.get(userId)?.roles ?? [])
      : [...(peek<{ role_id: string }>(t, `user/${userId}/roles`)?.values() ?? [])].map((row) => row.role_id);
  return ids.map((id) => tables.roles(t).get(id)?.name).filter((name): name is string => name !== undefined);
}

export function grantTypes(client: ClientRecord): string[] {
  return stringList(client['grant_types']);
}

export function displayName(org: OrgRecord): string {
  return org.display_name ?? org.name;
}
