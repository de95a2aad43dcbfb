/**
 * Acceptance 1: the official `auth0` SDK (v7, unmodified, trusting auth0-local's CA through NODE_EXTRA_CA_CERTS)
 * runs the whole provisioning sequence against auth0-local, and gets Auth0's status codes and bodies for errors.
 */
import { describe, expect, it } from 'vitest';

import { failure, managementClient, useAuth0Local, type TestAuth0Local } from '../helpers/auth0-local.js';

const local = useAuth0Local();

describe('the auth0 SDK against auth0-local', () => {
  it('trusts the CA only through NODE_EXTRA_CA_CERTS', () => {
    expect(process.env['NODE_EXTRA_CA_CERTS']).toBe(local.caCertPath);
  });

  it('runs the whole provisioning sequence and cleans up', async () => {
    const api = managementClient(local);

    const { data: clients } = await api.clients.list({ per_page: 100 });
    const app = clients.find((client) => client.name === 'Default App');
    expect(app?.client_id).toBeTruthy();
    const appId = app!.client_id!;

    const connection = await api.connections.create({ name: 'acme-users', strategy: 'auth0' });
    expect(connection.id).toMatch(/^con_[A-Za-z0-9]{16}$/);
    expect(connection.options).toMatchObject({ passwordPolicy: 'good', brute_force_protection: true });

    await api.connections.clients.update(connection.id!, [{ client_id: appId, status: true }]);
    const enabled = await api.connections.clients.get(connection.id!);
    expect(enabled.data.map((c) => c.client_id)).toEqual([appId]);

    const org = await api.organizations.create({ name: 'acme', display_name: 'Acme Corporation' });
    expect(org.id).toMatch(/^org_[A-Za-z0-9]{16}$/);
    expect(org).toMatchObject({ name: 'acme', display_name: 'Acme Corporation' });

    const orgConnection = await api.organizations.enabledConnections.add(org.id!, {
      connection_id: connection.id!,
      assign_membership_on_login: true,
    });
    expect(orgConnection).toMatchObject({
      connection_id: connection.id,
      assign_membership_on_login: true,
      show_as_button: true,
      connection: { name: 'acme-users', strategy: 'auth0' },
    });

    const user = await api.users.create({
      connection: 'acme-users',
      email: 'Ada@Acme.com',
      password: 'Correct-Horse-9',
      email_verified: true,
    });
    expect(user.user_id).toMatch(/^auth0\|[0-9a-f]{24}$/);
    expect(user.identities?.[0]).toMatchObject({
      connection: 'acme-users',
      provider: 'auth0',
      isSocial: false,
    });

    await api.organizations.members.create(org.id!, { members: [user.user_id!] });
    const role = await api.roles.create({ name: 'org-admin', description: 'Organization administrator' });
    expect(role.id).toMatch(/^rol_/);
    await api.organizations.members.roles.assign(org.id!, user.user_id!, { roles: [role.id!] });
    const memberRoles = await api.organizations.members.roles.list(org.id!, user.user_id!);
    expect(memberRoles.data.map((r) => r.name)).toEqual(['org-admin']);

    const members = await api.organizations.members.list(org.id!, { fields: 'user_id,email' });
    expect(members.data).toEqual([{ user_id: user.user_id, email: 'ada@acme.com' }]);

    const ticket = await api.tickets.changePassword({
      user_id: user.user_id!,
      organization_id: org.id!,
      client_id: appId,
    });
    expect(ticket.ticket).toMatch(new RegExp(`^https://${local.domain}/u/reset-password\\?ticket=\\w+#$`));

    // An invitation needs the client's default login route.
    await api.clients.update(appId, { initiate_login_uri: 'https://app.acme.example/login' });
    const invitation = await api.organizations.invitations.create(org.id!, {
      inviter: { name: 'Ops' },
      invitee: { email: 'second@acme.com' },
      client_id: appId,
      connection_id: connection.id!,
      roles: [role.id!],
    });
    expect(invitation.id).toMatch(/^uinv_/);
    expect(invitation.invitation_url).toContain('https://app.acme.example/login?invitation=');
    expect(invitation.invitation_url).toContain(`organization=${org.id}`);

    // Callback URL added the only way the API allows: read the whole list, write it back.
    const before = await api.clients.get(appId);
    await api.clients.update(appId, {
      callbacks: [...(before.callbacks ?? []), 'https://acme.example.com/callback'],
    });
    expect((await api.clients.get(appId)).callbacks).toEqual(['https://acme.example.com/callback']);

    // Clean up in reverse and prove it is gone.
    await api.organizations.invitations.delete(org.id!, invitation.id!);
    await api.organizations.members.delete(org.id!, { members: [user.user_id!] });
    await api.users.delete(user.user_id!);
    await api.roles.delete(role.id!);
    await api.organizations.enabledConnections.delete(org.id!, connection.id!);
    await api.organizations.delete(org.id!);
    await api.connections.delete(connection.id!);
    expect((await failure(api.organizations.get(org.id!))).statusCode).toBe(404);
    expect((await failure(api.connections.get(connection.id!))).statusCode).toBe(404);
    expect((await failure(api.users.get(user.user_id!))).statusCode).toBe(404);
  });

  it('pages through 250 organizations by checkpoint', async () => {
    const api = managementClient(local);
    const names = Array.from({ length: 250 }, (_, i) => `page-org-${String(i).padStart(3, '0')}`);
    for (const name of names) await api.organizations.create({ name });
    const seen: string[] = [];
    let pages = 0;
    let page = await api.organizations.list({ take: 100 });
    for (;;) {
      pages += 1;
      seen.push(...page.data.map((org) => org.name!));
      if (!page.hasNextPage()) break;
      page = await page.getNextPage();
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(names);
    for (const org of (await api.organizations.list({ take: 100 })).data)
      await api.organizations.delete(org.id!);
  });
});

describe('Auth0 error statuses and bodies', () => {
  it('answers 400 invalid_body with the payload validation message', async () => {
    const api = managementClient(local);
    const bad = await failure(api.organizations.create({ name: 'Not Valid!' }));
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message:
        "Payload validation error: 'Object didn't pass validation for format organization-name: Not Valid!' on property name (The name of this organization.).",
      errorCode: 'invalid_body',
    });
    const extra = await failure(
      api.organizations.create({ name: 'fine', colour: 'blue' } as unknown as { name: string }),
    );
    expect(extra.body).toMatchObject({
      statusCode: 400,
      message: "Payload validation error: 'Additional properties not allowed: colour'.",
    });
    const metadata = Object.fromEntries(Array.from({ length: 26 }, (_, i) => [`k${i}`, 'v']));
    const tooMany = await failure(api.organizations.create({ name: 'fine', metadata }));
    expect((tooMany.body as { message: string }).message).toContain(
      "'Too many properties defined (26), maximum 25' on property metadata",
    );
  });

  it('answers 401 without or with a bad token', async () => {
    const response = await fetch(`https://${local.domain}/api/v2/organizations`);
    expect(response.status).toBe(401);
    const forged = await fetch(`https://${local.domain}/api/v2/organizations`, {
      headers: { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl' },
    });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Invalid token',
      attributes: { error: 'Invalid token' },
    });
  });

  it('answers 403 insufficient_scope naming the scopes expected', async () => {
    const { access_token: token, expires_in: expiresIn } = await issueToken(local, 'read:users');
    expect(expiresIn).toBe(86400);
    const response = await fetch(`https://${local.domain}/api/v2/organizations`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'Insufficient scope, expected any of: read:organizations,read:organizations_summary',
      errorCode: 'insufficient_scope',
    });
  });

  it('answers 404 with the per-resource bodies', async () => {
    const api = managementClient(local);
    expect(await failure(api.organizations.get('org_doesnotexist0000'))).toEqual({
      statusCode: 404,
      body: { statusCode: 404, error: 'Not Found', message: 'No organization found by that id or name' },
    });
    expect((await failure(api.connections.get('con_doesnotexist0000'))).body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'The connection does not exist',
      errorCode: 'inexistent_connection',
    });
    expect((await failure(api.roles.get('rol_doesnotexist0000'))).body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'The role does not exist.',
    });
  });

  it('answers 409 on duplicate names', async () => {
    const api = managementClient(local);
    await api.organizations.create({ name: 'dupe' });
    expect(await failure(api.organizations.create({ name: 'dupe' }))).toEqual({
      statusCode: 409,
      body: { statusCode: 409, error: 'Conflict', message: 'An organization with this name already exists.' },
    });
    await api.connections.create({ name: 'dupe-conn', strategy: 'auth0' });
    expect((await failure(api.connections.create({ name: 'dupe-conn', strategy: 'auth0' }))).body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: 'A connection with the same name already exists',
      errorCode: 'connection_conflict',
    });
  });

  it('keeps DELETE semantics: 204 then 404 for organizations, 202 then 204 for connections, 200 {} for roles', async () => {
    const api = managementClient(local);
    const org = await api.organizations.create({ name: 'short-lived' });
    const deleted = await api.organizations.delete(org.id!).withRawResponse();
    expect(deleted.rawResponse.status).toBe(204);
    expect((await failure(api.organizations.delete(org.id!))).statusCode).toBe(404);
    const connection = await api.connections.create({ name: 'short-lived', strategy: 'auth0' });
    const first = await api.connections.delete(connection.id!).withRawResponse();
    expect(first.rawResponse.status).toBe(202);
    const second = await api.connections.delete(connection.id!).withRawResponse();
    expect(second.rawResponse.status).toBe(204);
    const role = await api.roles.create({ name: 'short-lived' }).withRawResponse();
    expect(role.rawResponse.status).toBe(200);
    const roleDelete = await fetch(`https://${local.domain}/api/v2/roles/${role.data.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${(await issueToken(local)).access_token}` },
    });
    expect(roleDelete.status).toBe(200);
    expect(await roleDelete.json()).toEqual({});
  });
});

async function issueToken(
  l: TestAuth0Local,
  scope?: string,
): Promise<{ access_token: string; expires_in: number }> {
  const response = await fetch(`https://${l.domain}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: l.clientId,
      client_secret: l.clientSecret,
      audience: l.audience,
      ...(scope ? { scope } : {}),
    }),
  });
  return (await response.json()) as { access_token: string; expires_in: number };
}
