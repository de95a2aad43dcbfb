/**
 * Connections with the server-side defaults Auth0 fills in per strategy, `options` replaced whole on PATCH, enabled
 * clients through the delta endpoint and the legacy field (and a tenant without it), and the pagination styles.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, inject, it } from 'vitest';

import { failure, managementClient, useAuth0Local } from '../helpers/auth0-local.js';

const local = useAuth0Local();

interface Credentials {
  domain: string;
  clientId: string;
  clientSecret: string;
  audience: string;
}

async function raw(
  method: string,
  path: string,
  body?: unknown,
  tenant: Credentials = local,
): Promise<{ status: number; json: unknown }> {
  const tokenResponse = await fetch(`https://${tenant.domain}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'client_credentials',
      client_id: tenant.clientId,
      client_secret: tenant.clientSecret,
      audience: tenant.audience,
    }),
  });
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  const response = await fetch(`https://${tenant.domain}/api/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

describe('connections', () => {
  it('creates a SAML connection from metadata XML, keeping what Auth0 keeps', async () => {
    const pem = readFileSync(join(inject('auth0LocalTlsDir'), 'ca.pem'), 'utf8');
    const certBody = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const metadataXml = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.acme.com">
      <IDPSSODescriptor><KeyDescriptor use="signing"><KeyInfo><X509Data><X509Certificate>${certBody}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
      <SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.acme.com/slo"/>
      <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.acme.com/sso"/>
      </IDPSSODescriptor></EntityDescriptor>`;
    const api = managementClient(local);
    const connection = await api.connections.create({
      name: 'acme-saml',
      strategy: 'samlp',
      options: { metadataXml },
    });
    expect(connection.options).toMatchObject({
      signInEndpoint: 'https://idp.acme.com/sso',
      signOutEndpoint: 'https://idp.acme.com/slo',
      signingCert: certBody,
    });
    expect(connection.options).not.toHaveProperty('metadataXml');
    const options = connection.options as { thumbprints: string[]; expires: string; subject: string };
    expect(options.thumbprints[0]).toMatch(/^[0-9a-f]{40}$/);
    expect(options.subject).toContain('orgadmin auth0-local CA');
    expect(connection).toMatchObject({ strategy: 'samlp', show_as_button: false, realms: ['acme-saml'] });
  });

  it('fills OIDC defaults and replaces options whole on PATCH; name and strategy cannot be patched', async () => {
    const api = managementClient(local);
    const created = await api.connections.create({
      name: 'acme-oidc',
      strategy: 'oidc',
      options: { client_id: 'abc', discovery_url: 'https://idp.acme.com/.well-known/openid-configuration' },
    });
    expect(created.options).toMatchObject({
      client_id: 'abc',
      type: 'front_channel',
      schema_version: 'oidc-V4',
    });
    expect(created.display_name).toBe('acme-oidc');
    const patched = await api.connections.update(created.id!, { options: { client_id: 'xyz' } });
    expect((patched.options as { discovery_url?: string }).discovery_url).toBeUndefined();
    expect((patched.options as { client_id: string }).client_id).toBe('xyz');
    const renamed = await raw('PATCH', `/connections/${created.id}`, { name: 'other' });
    expect(renamed).toEqual({
      status: 400,
      json: {
        statusCode: 400,
        error: 'Bad Request',
        message: "Payload validation error: 'Additional properties not allowed: name'.",
        errorCode: 'invalid_body',
      },
    });
  });

  it('filters the list by repeatable strategy and by name, offset and checkpoint', async () => {
    const api = managementClient(local);
    await api.connections.create({
      name: 'acme-google',
      strategy: 'google-apps',
      options: { domain: 'acme.com' },
    });
    await api.connections.create({
      name: 'acme-azure',
      strategy: 'waad',
      options: { domain: 'acme.onmicrosoft.com' },
    });
    const both = await raw('GET', '/connections?strategy=google-apps&strategy=waad&include_totals=true');
    expect(both.json).toMatchObject({ total: 2, start: 0 });
    expect((both.json as { connections: { name: string }[] }).connections.map((c) => c.name)).toEqual([
      'acme-google',
      'acme-azure',
    ]);
    const byName = await raw('GET', '/connections?name=acme-azure&take=1');
    expect((byName.json as { connections: { name: string }[] }).connections.map((c) => c.name)).toEqual([
      'acme-azure',
    ]);
    expect(byName.json).not.toHaveProperty('next');
  });

  it('keeps enabled clients through the delta endpoint and the legacy field', async () => {
    const api = managementClient(local);
    const app = await api.clients.create({ name: 'second-app' });
    const connection = await api.connections.create({
      name: 'legacy-db',
      strategy: 'auth0',
      enabled_clients: [app.client_id!],
    });
    expect(connection.enabled_clients).toEqual([app.client_id]);
    await api.connections.clients.update(connection.id!, [{ client_id: app.client_id!, status: false }]);
    expect((await api.connections.get(connection.id!)).enabled_clients).toEqual([]);
    const tooMany = Array.from({ length: 51 }, () => ({ client_id: app.client_id!, status: true }));
    expect((await failure(api.connections.clients.update(connection.id!, tooMany))).statusCode).toBe(400);
  });

  it('drops the legacy enabled_clients field on a tenant created after January 2026', async () => {
    const modern = await local.createTenant({ name: 'modern', legacyEnabledClients: false });
    const api = managementClient(modern);
    const connection = await api.connections.create({ name: 'modern-db', strategy: 'auth0' });
    expect(connection).not.toHaveProperty('enabled_clients');
    const rejected = await raw(
      'POST',
      '/connections',
      { name: 'x', strategy: 'auth0', enabled_clients: [] },
      modern,
    );
    expect(rejected.status).toBe(400);
    expect((rejected.json as { message: string }).message).toBe(
      "Payload validation error: 'Additional properties not allowed: enabled_clients'.",
    );
  });
});

describe('organization paging', () => {
  it('answers offset pages as bare arrays or with totals, and lets take win over per_page', async () => {
    const api = managementClient(local);
    for (let i = 0; i < 5; i++) await api.organizations.create({ name: `paged-${i}` });
    const bare = await raw('GET', '/organizations?per_page=2&page=1');
    expect((bare.json as { name: string }[]).map((org) => org.name)).toEqual(['paged-2', 'paged-3']);
    const totals = await raw('GET', '/organizations?per_page=2&page=2&include_totals=true');
    expect(totals.json).toMatchObject({ start: 4, limit: 2, total: 5 });
    const checkpoint = await raw('GET', '/organizations?include_totals=true&per_page=50&take=2');
    const first = checkpoint.json as { organizations: { name: string }[]; next: string };
    expect(first.organizations.map((org) => org.name)).toEqual(['paged-0', 'paged-1']);
    expect(first).not.toHaveProperty('total');
    const rest = await raw('GET', `/organizations?take=50&from=${first.next}`);
    expect((rest.json as { organizations: unknown[]; next?: string }).organizations).toHaveLength(3);
    expect(rest.json).not.toHaveProperty('next');
    expect((await raw('GET', '/organizations?per_page=101')).json).toMatchObject({
      statusCode: 400,
      errorCode: 'invalid_query_string',
    });
  });
});
