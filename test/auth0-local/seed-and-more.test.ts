/**
 * The `--seed` file, and the smaller endpoint families: users-by-email and the password policy, email verification
 * tickets, self-service profiles with SSO tickets, resource servers and client grants.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { failure, managementClient, useAuth0Local } from '../helpers/auth0-local.js';

const local = useAuth0Local(() => {
  const seedFile = join(mkdtempSync(join(tmpdir(), 'auth0-local-seed-')), 'seed.yaml');
  writeFileSync(
    seedFile,
    [
      'clients:',
      '  - name: Portal',
      '    app_type: regular_web',
      '    initiate_login_uri: https://portal.example.com/login',
      'connections:',
      '  - name: acme-db',
      '    strategy: auth0',
      '    enabled_clients: [Portal]',
      'roles:',
      '  - name: admin',
      '    description: Administrator',
      'organizations:',
      '  - name: acme',
      '    display_name: Acme',
      '    connections:',
      '      - name: acme-db',
      '        assign_membership_on_login: true',
      'users:',
      '  - email: ada@acme.com',
      '    password: Str0ng-Passw0rd',
      '    connection: acme-db',
      '    organizations: [acme]',
      '',
    ].join('\n'),
  );
  return { seed: seedFile };
});

describe('seed file', () => {
  it('creates clients, connections with enabled clients, roles, organizations and members', async () => {
    const api = managementClient(local);
    const org = await api.organizations.getByName('acme');
    expect(org.display_name).toBe('Acme');
    const connections = await api.organizations.enabledConnections.list(org.id!);
    expect(connections.data.map((c) => c.connection?.name)).toEqual(['acme-db']);
    const members = await api.organizations.members.list(org.id!);
    expect(members.data.map((m) => m.email)).toEqual(['ada@acme.com']);
    const portal = (await api.clients.list()).data.find((c) => c.name === 'Portal');
    const dbConnection = (await api.connections.list({ name: 'acme-db', take: 1 })).data[0]!;
    expect((await api.connections.clients.get(dbConnection.id!)).data.map((c) => c.client_id)).toEqual([
      portal?.client_id,
    ]);
    expect((await api.roles.list()).data.map((r) => r.name)).toEqual(['admin']);
  });
});

describe('users and tickets', () => {
  it('enforces the connection password policy and finds users by email', async () => {
    const api = managementClient(local);
    expect(
      await failure(api.users.create({ connection: 'acme-db', email: 'weak@acme.com', password: 'weak' })),
    ).toEqual({
      statusCode: 400,
      body: { statusCode: 400, error: 'Bad Request', message: 'PasswordStrengthError: Password is too weak' },
    });
    expect(
      (
        await failure(
          api.users.create({ connection: 'acme-db', email: 'ADA@acme.com', password: 'An0ther-Strong' }),
        )
      ).body,
    ).toMatchObject({ statusCode: 409, message: 'The user already exists.', errorCode: 'auth0_idp_error' });
    const found = await api.users.listUsersByEmail({ email: 'ada@acme.com' });
    expect(found.map((user) => user.email)).toEqual(['ada@acme.com']);
    const ticket = await api.tickets.verifyEmail({ user_id: found[0]!.user_id! });
    expect(ticket.ticket).toMatch(
      new RegExp(`^https://${local.domain}/u/email-verification\\?ticket=\\w+#$`),
    );
  });
});

describe('self-service SSO', () => {
  it('creates a profile, issues an SSO ticket and revokes it (202 even when unknown)', async () => {
    const api = managementClient(local);
    const profile = await api.selfServiceProfiles.create({
      name: 'Acme IT',
      allowed_strategies: ['samlp', 'oidc'],
    });
    expect(profile.id).toMatch(/^ssp_/);
    const ticket = await api.selfServiceProfiles.ssoTicket.create(profile.id!, {
      connection_config: { name: 'acme-sso' },
      ttl_sec: 3600,
    });
    expect(ticket.ticket).toMatch(
      new RegExp(`^https://${local.domain}/self-service/connections-flow\\?ticket=\\w+$`),
    );
    const ticketId = new URL(ticket.ticket!).searchParams.get('ticket')!;
    const revoked = await api.selfServiceProfiles.ssoTicket.revoke(profile.id!, ticketId).withRawResponse();
    expect(revoked.rawResponse.status).toBe(202);
    const unknown = await api.selfServiceProfiles.ssoTicket.revoke(profile.id!, 'nope').withRawResponse();
    expect(unknown.rawResponse.status).toBe(202);
    expect((await failure(api.selfServiceProfiles.get('ssp_missing'))).body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Profile with ID: ssp_missing not found',
    });
  });
});

describe('resource servers and client grants', () => {
  it('creates an API and grants a client access to it; the grant lets the client get a token for it', async () => {
    const api = managementClient(local);
    const server = await api.resourceServers.create({
      identifier: 'https://api.acme.example',
      name: 'Acme API',
    });
    const worker = await api.clients.create({ name: 'acme-worker', app_type: 'non_interactive' });
    const tokenFor = (audience: string): Promise<Response> =>
      fetch(`https://${local.domain}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: worker.client_id!,
          client_secret: worker.client_secret!,
          audience,
        }),
      });
    const denied = await tokenFor(server.identifier!);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: string }).error).toBe('access_denied');
    await api.clientGrants.create({ client_id: worker.client_id!, audience: server.identifier!, scope: [] });
    expect((await tokenFor(server.identifier!)).status).toBe(200);
    const unknownApi = await tokenFor('https://nowhere.example');
    expect(await unknownApi.json()).toEqual({
      error: 'access_denied',
      error_description: 'Service not enabled within domain: https://nowhere.example',
    });
  });
});
