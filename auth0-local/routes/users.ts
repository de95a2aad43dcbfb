/**
 * Users in database connections (with the connection's password policy), users-by-email, tenant-level role
 * assignments, and the password-change and email-verification tickets used to onboard an organization's first
 * administrator. The user helpers are shared with the sign-in pages, which create users and check passwords too.
 */
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

import { Auth0HttpError, badRequest, conflict, missing } from '../errors.js';
import { newId } from '../ids.js';
import { tables, type ConnectionRecord, type Json, type UserRecord } from '../model.js';
import { listResponse } from '../pagination.js';
import { created, noContent, ok, type ManagementRouter } from '../router.js';
import { withoutUndefined } from '../projection.js';
import type { TenantData } from '../state/store.js';
import type { Table } from '../state/table.js';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, length: number) => Promise<Buffer>;

/** The connection's password policy; "good" is the default of a new database connection. */
export function passwordPolicyOf(connection: ConnectionRecord): string {
  const policy = connection.options['passwordPolicy'];
  return typeof policy === 'string' ? policy : 'good';
}

/** Auth0's password policies (docs: password-strength). */
export function passwordAcceptable(policy: string, password: string): boolean {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(password)).length;
  switch (policy) {
    case 'none':
      return password.length >= 1;
    case 'low':
      return password.length >= 6;
    case 'fair':
      return (
        password.length >= 8 && /[a-z]/.test(password) && /[A-Z]/.test(password) && /[0-9]/.test(password)
      );
    case 'excellent':
      return password.length >= 10 && classes >= 3 && !/(.)\1\1/.test(password);
    default:
      return password.length >= 8 && classes >= 3;
  }
}

/** What the sign-up and reset pages show when a password breaks the policy (Auth0 lists the rules it broke). */
export function passwordPolicyText(policy: string): string {
  switch (policy) {
    case 'none':
      return 'Your password must not be empty.';
    case 'low':
      return 'Your password must be at least 6 characters long.';
    case 'fair':
      return 'Your password must be at least 8 characters long and contain lower case (a-z), upper case (A-Z) letters and numbers (0-9).';
    case 'excellent':
      return 'Your password must be at least 10 characters long, contain at least 3 of: lower case (a-z), upper case (A-Z), numbers (0-9), special characters, and no more than 2 identical characters in a row.';
    default:
      return 'Your password must be at least 8 characters long and contain at least 3 of: lower case (a-z), upper case (A-Z), numbers (0-9), special characters.';
  }
}

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64')}$${scryptSync(password, salt, 32).toString('base64')}`;
}

/** Checks a password against a stored hash in constant time; async so a login does not block the event loop. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  const [scheme, salt, expected] = hash.split('$');
  if (scheme !== 'scrypt' || !salt || !expected) return false;
  const wanted = Buffer.from(expected, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), wanted.length);
  return actual.length === wanted.length && timingSafeEqual(actual, wanted);
}

function findUser(t: TenantData, id: string): UserRecord {
  const user = tables.users(t).get(id);
  if (!user) throw missing.user();
  return user;
}

export function userInConnection(t: TenantData, connection: string, email: string): UserRecord | undefined {
  const wanted = email.toLowerCase();
  for (const user of tables.users(t).values()) {
    if (
      user.email?.toLowerCase() === wanted &&
      user.identities.some((identity) => identity.connection === connection)
    ) {
      return user;
    }
  }
  return undefined;
}

/** Creates a user in a database connection, as `POST /users` does; throws Auth0's 400/409 when it cannot. */
export function createDatabaseUser(
  t: TenantData,
  connection: ConnectionRecord,
  input: Json & { email?: string; password?: string; user_id?: string },
  now: number,
): UserRecord {
  if (connection.strategy !== 'auth0') {
    throw badRequest('Users can only be created in database connections.', 'operation_not_supported');
  }
  if (!input.email) throw badRequest("Payload validation error: 'Missing required property: email'.");
  if (!input.password) throw badRequest("Payload validation error: 'Missing required property: password'.");
  if (!passwordAcceptable(passwordPolicyOf(connection), input.password)) {
    throw new Auth0HttpError(400, 'PasswordStrengthError: Password is too weak');
  }
  if (userInConnection(t, connection.name, input.email)) {
    throw conflict('The user already exists.', 'auth0_idp_error');
  }
  const localId = input.user_id ?? newId.userId();
  const timestamp = new Date(now).toISOString();
  const { password, connection: _connection, verify_email: _verify, ...profile } = input;
  const user: UserRecord = withoutUndefined({
    ...profile,
    user_id: `auth0|${localId}`,
    email: input.email.toLowerCase(),
    email_verified: input['email_verified'] ?? false,
    name: input['name'] ?? input.email,
    nickname: input['nickname'] ?? input.email.split('@')[0],
    picture:
      input['picture'] ?? 'https://s.gravatar.com/avatar/00000000000000000000000000000000?s=480&r=pg&d=mp',
    identities: [{ connection: connection.name, user_id: localId, provider: 'auth0', isSocial: false }],
    created_at: timestamp,
    updated_at: timestamp,
  });
  tables.users(t).put(user.user_id, user);
  tables.credentials(t).put(user.user_id, { user_id: user.user_id, hash: hashPassword(password) });
  return user;
}

/** Removes tenant-level role assignments in both directions (`user/<id>/roles` and `role/<id>/users`). */
function unassignRoles(t: TenantData, userId: string, roleIds: string[]): void {
  for (const roleId of roleIds) {
    tables.userRoles(t, userId).delete(roleId);
    tables.roleUsers(t, roleId).delete(userId);
  }
}

/** Tenant-level role assignment, kept in both directions so either side lists in O(page). */
export function assignRoles(t: TenantData, userId: string, roleIds: string[]): void {
  for (const roleId of roleIds) {
    if (!tables.userRoles(t, userId).has(roleId))
      tables.userRoles(t, userId).put(roleId, { role_id: roleId });
    if (!tables.roleUsers(t, roleId).has(userId))
      tables.roleUsers(t, roleId).put(userId, { user_id: userId });
  }
}

export function registerUserRoutes(r: ManagementRouter): void {
  r.post('/users', ({ tenant, body, now }) => {
    const t = tenant.data;
    const input = body as Json & { connection: string; email?: string; password?: string; user_id?: string };
    const connection = tables.connections(t).getBy('name', input.connection);
    if (!connection) throw badRequest('The connection does not exist.', 'inexistent_connection');
    return created(createDatabaseUser(t, connection, input, now));
  });
  r.get('/users/{id}', ({ tenant, params }) => ok(findUser(tenant.data, params['id'] ?? '')), {
    scopes: ['read:users'],
  });
  r.patch(
    '/users/{id}',
    ({ tenant, params, body, now }) => {
      const current = findUser(tenant.data, params['id'] ?? '');
      // `connection` only says which identity to change, and the verify_* flags are instructions: none is stored.
      const {
        password,
        connection: _connection,
        verify_email: _verifyEmail,
        verify_password: _verifyPassword,
        ...changes
      } = (body ?? {}) as Json & { password?: string };
      const next = {
        ...current,
        ...changes,
        user_id: current.user_id,
        updated_at: new Date(now).toISOString(),
      };
      tables.users(tenant.data).put(current.user_id, next);
      if (typeof password === 'string') {
        tables
          .credentials(tenant.data)
          .put(current.user_id, { user_id: current.user_id, hash: hashPassword(password) });
      }
      return ok(next);
    },
    { scopes: ['update:users'] },
  );
  r.delete(
    '/users/{id}',
    ({ tenant, params }) => {
      const t = tenant.data;
      const id = params['id'] ?? '';
      tables.users(t).delete(id);
      tables.credentials(t).delete(id);
      const roleRows = t.tables.get(`user/${id}/roles`) as Table<{ role_id: string }> | undefined;
      unassignRoles(t, id, roleRows ? [...roleRows.values()].map((row) => row.role_id) : []);
      t.dropTable(`user/${id}/roles`);
      for (const org of tables.organizations(t).values()) {
        t.tables.get(`org/${org.id}/members`)?.delete(id);
        t.tables.get(`org/${org.id}/member-roles`)?.delete(id);
      }
      return noContent();
    },
    { scopes: ['delete:users'] },
  );
  r.get('/users-by-email', ({ tenant, query }) => {
    const email = (query.get('email') ?? '').toLowerCase();
    return ok([...tables.users(tenant.data).values()].filter((user) => user.email?.toLowerCase() === email));
  });

  // Tenant-level roles of a user (recorded: POST and DELETE answer 204, GET pages by offset).
  r.get(
    '/users/{id}/roles',
    ({ tenant, params, query }) => {
      const user = findUser(tenant.data, params['id'] ?? '');
      const roles = [...tables.userRoles(tenant.data, user.user_id).values()]
        .map((row) => tables.roles(tenant.data).get(row.role_id))
        .filter((role) => role !== undefined);
      return ok(listResponse(query, 'roles', roles, { checkpoint: false, offset: true }));
    },
    { scopes: ['read:users', 'read:roles', 'read:role_members'] },
  );
  r.post(
    '/users/{id}/roles',
    ({ tenant, params, body }) => {
      const user = findUser(tenant.data, params['id'] ?? '');
      const { roles } = body as { roles: string[] };
      for (const roleId of roles) if (!tables.roles(tenant.data).has(roleId)) throw missing.role();
      assignRoles(tenant.data, user.user_id, roles);
      return noContent();
    },
    { scopes: ['update:users', 'create:role_members'] },
  );
  r.delete(
    '/users/{id}/roles',
    ({ tenant, params, body }) => {
      const user = findUser(tenant.data, params['id'] ?? '');
      unassignRoles(tenant.data, user.user_id, (body as { roles: string[] }).roles);
      return noContent();
    },
    { scopes: ['update:users', 'delete:role_members'] },
  );

  r.post('/tickets/password-change', ({ tenant, body, now }) => {
    const t = tenant.data;
    const input = body as Json & {
      user_id?: string;
      connection_id?: string;
      email?: string;
      ttl_sec?: number;
      result_url?: string;
    };
    if (input.result_url !== undefined && (input['client_id'] || input['organization_id'])) {
      // The classic experience's redirect cannot be combined with the application-aware one (OAS description).
      throw badRequest('The result_url parameter cannot be used together with client_id or organization_id.');
    }
    let userId = input.user_id;
    if (!userId) {
      const connection = tables.connections(t).get(input.connection_id ?? '');
      if (!connection || !input.email)
        throw badRequest('Either user_id or connection_id and email are required.');
      userId = userInConnection(t, connection.name, input.email)?.user_id;
    }
    findUser(t, userId ?? '');
    const id = newId.ticket();
    const ttl = input.ttl_sec && input.ttl_sec > 0 ? input.ttl_sec : 432_000;
    tables.tickets(t).put(
      id,
      withoutUndefined({
        id,
        type: 'password-change',
        user_id: userId,
        client_id: input['client_id'],
        organization_id: input['organization_id'],
        result_url: input.result_url,
        mark_email_as_verified: input['mark_email_as_verified'] === true,
        include_email_in_redirect: input['includeEmailInRedirect'] === true,
        expires_at: new Date(now + ttl * 1000).toISOString(),
      }),
    );
    return created({ ticket: `https://${tenant.domain}/u/reset-password?ticket=${id}#` });
  });
  r.post(
    '/tickets/email-verification',
    ({ tenant, body, now }) => {
      const input = body as Json & { user_id?: string };
      findUser(tenant.data, input.user_id ?? '');
      const id = newId.ticket();
      tables.tickets(tenant.data).put(id, {
        id,
        type: 'email-verification',
        user_id: input.user_id,
        expires_at: new Date(now + 432_000_000).toISOString(),
      });
      return created({ ticket: `https://${tenant.domain}/u/email-verification?ticket=${id}#` });
    },
    { scopes: ['create:user_tickets'] },
  );
}
