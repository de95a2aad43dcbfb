/**
 * What `orgadmin start` sets up in its auth0-local tenant so operators can sign in to the portal — the same objects
 * an Auth0 administrator creates by hand in a real tenant (README, "Operator sign-in"): the portal's application
 * (regular web app, callback `<portal>/auth/callback`), the portal's API (for Bearer tokens, scopes
 * `orgadmin:<role>`), a database connection for operators, the three roles, and one operator per role. All through
 * the Management API with the official SDK, idempotently: a restart finds everything by name and only fills gaps.
 */
import { randomBytes } from 'node:crypto';

import type { ManagementClient } from 'auth0';

import { ROLES, type Role } from '../../domain/roles.js';

export const PORTAL_CLIENT_NAME = 'Org Admin Portal';
export const PORTAL_API_NAME = 'Org Admin Portal API';
export const OPERATORS_CONNECTION = 'orgadmin-operators';

export interface LocalOperator {
  role: Role;
  email: string;
  password: string;
}

export interface LocalPortalSetup {
  clientId: string;
  clientSecret: string;
  operators: LocalOperator[];
}

async function all<T>(page: Promise<AsyncIterable<T>>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of await page) items.push(item);
  return items;
}

/** A password auth0-local's "good" policy accepts (lower, upper, digit, 8+ characters). */
const newPassword = (): string => `Op-${randomBytes(12).toString('base64url')}-7a`;

export async function setUpLocalPortal(options: {
  api: ManagementClient;
  publicUrl: string;
  apiAudience: string;
  /** Passwords from an earlier start (kept in the state folder), so operators keep theirs across restarts. */
  knownPasswords: Partial<Record<string, string>>;
}): Promise<LocalPortalSetup> {
  const { api, publicUrl } = options;

  const servers = await all(api.resourceServers.list({ per_page: 100 }));
  if (!servers.some((server) => server.identifier === options.apiAudience)) {
    await api.resourceServers.create({
      name: PORTAL_API_NAME,
      identifier: options.apiAudience,
      signing_alg: 'RS256',
      scopes: ROLES.map((role) => ({ value: `orgadmin:${role}`, description: `Act as a portal ${role}` })),
    });
  }

  const portalSettings = {
    callbacks: [`${publicUrl}/auth/callback`],
    allowed_logout_urls: [`${publicUrl}/auth/signed-out`],
    web_origins: [publicUrl],
  };
  const clients = await all(api.clients.list({ per_page: 100 }));
  let portal = clients.find((client) => client.name === PORTAL_CLIENT_NAME);
  if (!portal) {
    portal = await api.clients.create({
      name: PORTAL_CLIENT_NAME,
      app_type: 'regular_web',
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code', 'refresh_token'],
      ...portalSettings,
    });
  } else {
    // The portal's URL may have changed (PORT, PORTAL_URL) since the last start.
    portal = await api.clients.update(portal.client_id!, portalSettings);
  }
  const clientId = portal.client_id!;
  const clientSecret = portal.client_secret!;

  const connections = await all(api.connections.list({ take: 100 }));
  let connection = connections.find((candidate) => candidate.name === OPERATORS_CONNECTION);
  connection ??= await api.connections.create({
    name: OPERATORS_CONNECTION,
    strategy: 'auth0',
    options: { passwordPolicy: 'good' },
  });
  await api.connections.clients.update(connection.id!, [{ client_id: clientId, status: true }]);

  const roles = await all(api.roles.list({ per_page: 100 }));
  const roleIds = new Map<string, string>();
  for (const role of ROLES) {
    const found = roles.find((candidate) => candidate.name === role);
    roleIds.set(
      role,
      found?.id ?? (await api.roles.create({ name: role, description: `Org Admin Portal ${role}` })).id!,
    );
  }

  const operators: LocalOperator[] = [];
  for (const role of ROLES) {
    const email = `${role}@orgadmin.local`;
    const [existing] = await api.users.listUsersByEmail({ email });
    let password = options.knownPasswords[email];
    let userId = existing?.user_id;
    if (!userId) {
      password = newPassword();
      userId = (
        await api.users.create({
          connection: OPERATORS_CONNECTION,
          email,
          password,
          name: `Local ${role}`,
          email_verified: true,
        })
      ).user_id;
    } else if (password === undefined) {
      // The password was lost with the state folder's file: set a new one.
      password = newPassword();
      await api.users.update(userId, { password, connection: OPERATORS_CONNECTION });
    }
    await api.users.roles.assign(userId!, { roles: [roleIds.get(role)!] });
    operators.push({ role, email, password });
  }
  return { clientId, clientSecret, operators };
}
