/**
 * Users in database connections (with the connection's password policy), users-by-email, and the password-change
 * and email-verification tickets used to onboard an organization's first administrator.
 */
import { randomBytes, scryptSync } from 'node:crypto';

import { Auth0HttpError, badRequest, conflict, missing } from '../errors.js';
import { newId } from '../ids.js';
import { tables, type Json, type UserRecord } from '../model.js';
import { created, noContent, ok, type ManagementRouter } from '../router.js';
import { withoutUndefined } from '../projection.js';
import type { TenantData } from '../state/store.js';

/** Auth0's password policies (docs: password-strength); "good" is the default of a new database connection. */
function passwordAcceptable(policy: string, password: string): boolean {
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

export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64')}$${scryptSync(password, salt, 32).toString('base64')}`;
}

function findUser(t: TenantData, id: string): UserRecord {
  const user = tables.users(t).get(id);
  if (!user) throw missing.user();
  return user;
}

function userInConnection(t: TenantData, connection: string, email: string): UserRecord | undefined {
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

export function registerUserRoutes(r: ManagementRouter): void {
  r.post('/users', ({ tenant, body, now }) => {
    const t = tenant.data;
    const input = body as Json & { connection: string; email?: string; password?: string; user_id?: string };
    const connection = tables.connections(t).getBy('name', input.connection);
    if (!connection) throw badRequest('The connection does not exist.', 'inexistent_connection');
    if (connection.strategy !== 'auth0') {
      throw badRequest('Users can only be created in database connections.', 'operation_not_supported');
    }
    if (!input.email) throw badRequest("Payload validation error: 'Missing required property: email'.");
    if (!input.password) throw badRequest("Payload validation error: 'Missing required property: password'.");
    const policy =
      typeof connection.options['passwordPolicy'] === 'string'
        ? connection.options['passwordPolicy']
        : 'good';
    if (!passwordAcceptable(policy, input.password)) {
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
    return created(user);
  });
  r.get('/users/{id}', ({ tenant, params }) => ok(findUser(tenant.data, params['id'] ?? '')), {
    scopes: ['read:users'],
  });
  r.patch(
    '/users/{id}',
    ({ tenant, params, body, now }) => {
      const current = findUser(tenant.data, params['id'] ?? '');
      const { password, ...changes } = (body ?? {}) as Json & { password?: string };
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

  r.post('/tickets/password-change', ({ tenant, body, now }) => {
    const t = tenant.data;
    const input = body as Json & {
      user_id?: string;
      connection_id?: string;
      email?: string;
      ttl_sec?: number;
    };
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
    tables.tickets(t).put(id, {
      id,
      type: 'password-change',
      user_id: userId,
      client_id: input['client_id'],
      organization_id: input['organization_id'],
      expires_at: new Date(now + ttl * 1000).toISOString(),
    });
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
