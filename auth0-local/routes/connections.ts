/**
 * Connections: create with the defaults Auth0's servers fill in per strategy, `options` replaced whole on PATCH,
 * DELETE answering 202 `{deleted_at}` and then 204, and enabled clients both through the delta endpoint
 * (`PATCH /connections/{id}/clients`) and through the legacy `enabled_clients` field, which a tenant flag removes
 * as Auth0 does for tenants created after January 2026.
 */
import { createHash, X509Certificate } from 'node:crypto';

import { badRequest, conflict, missing } from '../errors.js';
import { newId } from '../ids.js';
import { tables, type ConnectionRecord, type Json } from '../model.js';
import { listResponse } from '../pagination.js';
import { projector, withoutUndefined } from '../projection.js';
import { created, noContent, ok, type ManagementRouter } from '../router.js';
import type { TenantData } from '../state/store.js';
import type { TenantRuntime } from '../tenant-runtime.js';

const FIRST_MATCH = (xml: string, pattern: RegExp): string | undefined => pattern.exec(xml)?.[1];

/** What Auth0 derives from a signing certificate (base64 DER or PEM). */
function certificateFacts(cert: string): Json {
  try {
    const pem = cert.includes('BEGIN CERTIFICATE')
      ? cert
      : `-----BEGIN CERTIFICATE-----\n${cert.replace(/\s+/g, '')}\n-----END CERTIFICATE-----\n`;
    const parsed = new X509Certificate(pem);
    return {
      cert: pem,
      thumbprints: [createHash('sha1').update(parsed.raw).digest('hex')],
      expires: new Date(parsed.validTo).toISOString(),
      subject: parsed.subject.replace(/\n/g, ', '),
    };
  } catch {
    return { thumbprints: [] };
  }
}

/** Extracts what Auth0 keeps from SAML metadata XML (it does not keep the XML itself). */
function fromSamlMetadata(xml: string): Json {
  const signInEndpoint = FIRST_MATCH(xml, /SingleSignOnService[^>]*Location="([^"]+)"/);
  const signOutEndpoint = FIRST_MATCH(xml, /SingleLogoutService[^>]*Location="([^"]+)"/);
  const cert = FIRST_MATCH(xml, /<(?:\w+:)?X509Certificate>([^<]+)</);
  if (!signInEndpoint || !cert) {
    throw badRequest(
      'The metadata XML does not contain a SingleSignOnService location and a signing certificate.',
    );
  }
  return withoutUndefined({ signInEndpoint, signOutEndpoint, signingCert: cert.replace(/\s+/g, '') });
}

function strategyDefaults(
  tenant: TenantRuntime,
  strategy: string,
  name: string,
  options: Json,
): { options: Json; top: Json } {
  switch (strategy) {
    case 'auth0':
      return {
        options: {
          mfa: { active: true, return_enroll_settings: true },
          passwordPolicy: 'good',
          strategy_version: 2,
          authentication_methods: { password: { enabled: true }, passkey: { enabled: false } },
          passkey_options: {
            challenge_ui: 'both',
            local_enrollment_enabled: true,
            progressive_enrollment_enabled: true,
          },
          brute_force_protection: true,
          ...options,
        },
        top: {},
      };
    case 'samlp': {
      const { metadataXml, ...rest } = options as Json & { metadataXml?: string };
      const fromXml = typeof metadataXml === 'string' ? fromSamlMetadata(metadataXml) : {};
      const merged: Json = { ...rest, ...fromXml };
      const signingCert = merged['signingCert'];
      return {
        options: {
          ...merged,
          ...(typeof signingCert === 'string' ? certificateFacts(signingCert) : {}),
          tenant_domain: merged['tenant_domain'],
        },
        top: { provisioning_ticket_url: `https://${tenant.domain}/samlp/${name}` },
      };
    }
    case 'oidc':
      return {
        options: {
          type: 'front_channel',
          scope: 'openid',
          schema_version: 'oidc-V4',
          attribute_map: { mapping_mode: 'bind_all' },
          connection_settings: { pkce: 'auto' },
          ...options,
        },
        top: {},
      };
    case 'waad':
      return {
        options: {
          identity_api: 'microsoft-identity-platform-v2.0',
          waad_protocol: 'openid-connect',
          thumbprints: [],
          app_domain: tenant.domain,
          ...options,
        },
        top: { provisioning_ticket_url: `https://${tenant.domain}/p/waad/${newId.ticket().slice(0, 8)}` },
      };
    case 'okta':
      return { options: { scope: 'openid profile email', ...options }, top: {} };
    case 'google-apps':
      return {
        options: {
          email: true,
          profile: true,
          scope: ['email', 'profile'],
          map_user_id_to_id: false,
          handle_login_from_social: true,
          ...options,
        },
        top: {},
      };
    case 'adfs': {
      const xml = options['fedMetadataXml'];
      const derived = typeof xml === 'string' ? fromSamlMetadata(xml) : {};
      const signingCert = derived['signingCert'];
      return {
        options: {
          should_trust_email_verified_connection: 'never_set_emails_as_verified',
          ...options,
          ...(derived['signInEndpoint'] ? { signInEndpoint: derived['signInEndpoint'] } : {}),
          ...(typeof signingCert === 'string'
            ? { thumbprints: certificateFacts(signingCert)['thumbprints'] }
            : {}),
        },
        top: {},
      };
    }
    default:
      return { options, top: {} };
  }
}

const ENTERPRISE = new Set(['samlp', 'oidc', 'waad', 'okta', 'google-apps', 'adfs', 'ad', 'pingfederate']);

function findConnection(t: TenantData, id: string): ConnectionRecord {
  const connection = tables.connections(t).get(id);
  if (!connection) throw missing.connection();
  return connection;
}

function enabledClientIds(t: TenantData, connectionId: string): string[] {
  return [...tables.connectionClients(t, connectionId).values()].map((row) => row.client_id);
}

function view(tenant: TenantRuntime, connection: ConnectionRecord): Json {
  if (!tenant.data.meta.legacyEnabledClients) return connection;
  return { ...connection, enabled_clients: enabledClientIds(tenant.data, connection.id) };
}

function rejectLegacyField(tenant: TenantRuntime, body: Json): void {
  if (!tenant.data.meta.legacyEnabledClients && 'enabled_clients' in body) {
    throw badRequest("Payload validation error: 'Additional properties not allowed: enabled_clients'.");
  }
}

function setEnabledClients(t: TenantData, connectionId: string, clientIds: string[]): void {
  for (const clientId of clientIds) if (!tables.clients(t).has(clientId)) throw missing.client();
  const table = tables.connectionClients(t, connectionId);
  for (const existing of enabledClientIds(t, connectionId))
    if (!clientIds.includes(existing)) table.delete(existing);
  for (const clientId of clientIds) if (!table.has(clientId)) table.put(clientId, { client_id: clientId });
}

export function registerConnectionRoutes(r: ManagementRouter): void {
  r.get('/connections', ({ tenant, query }) => {
    const strategies = query.getAll('strategy').flatMap((s) => s.split(','));
    const name = query.get('name');
    const table = tables.connections(tenant.data);
    const project = projector(query);
    const rows =
      strategies.length === 0 && !name
        ? table
        : [...table.values()].filter(
            (row) =>
              (strategies.length === 0 || strategies.includes(row.strategy)) && (!name || row.name === name),
          );
    return ok(
      listResponse(query, 'connections', rows, {
        checkpoint: true,
        offset: true,
        defaultPerPage: 100,
        project: (row) => project(view(tenant, row)),
      }),
    );
  });
  r.post('/connections', ({ tenant, body }) => {
    const t = tenant.data;
    const input = body as Json & {
      name: string;
      strategy: string;
      options?: Json;
      enabled_clients?: string[];
    };
    rejectLegacyField(tenant, input);
    if (tables.connections(t).getBy('name', input.name)) {
      throw conflict('A connection with the same name already exists', 'connection_conflict');
    }
    const { options, top } = strategyDefaults(tenant, input.strategy, input.name, input.options ?? {});
    const { enabled_clients: enabledClients, ...rest } = input;
    const connection: ConnectionRecord = withoutUndefined({
      id: newId.connection(),
      ...rest,
      options,
      strategy: input.strategy,
      name: input.name,
      is_domain_connection: input['is_domain_connection'] ?? false,
      realms: input['realms'] ?? [input.name],
      ...(ENTERPRISE.has(input.strategy) ? { show_as_button: input['show_as_button'] ?? false } : {}),
      ...(input.strategy === 'oidc' ? { display_name: input['display_name'] ?? input.name } : {}),
      ...top,
    });
    tables.connections(t).put(connection.id, connection);
    if (enabledClients) setEnabledClients(t, connection.id, enabledClients);
    return created({
      ...connection,
      ...(t.meta.legacyEnabledClients ? { enabled_clients: enabledClients ?? [] } : {}),
    });
  });
  r.get('/connections/{id}', ({ tenant, params, query }) =>
    ok(projector(query)(view(tenant, findConnection(tenant.data, params['id'] ?? '')))),
  );
  r.patch('/connections/{id}', ({ tenant, params, body }) => {
    const t = tenant.data;
    const current = findConnection(t, params['id'] ?? '');
    const input = (body ?? {}) as Json & { options?: Json | null; enabled_clients?: string[] | null };
    rejectLegacyField(tenant, input);
    const { enabled_clients: enabledClients, options, ...rest } = input;
    const next: ConnectionRecord = withoutUndefined({
      ...current,
      ...rest,
      // "If you use the options parameter, the entire options object is overridden."
      options:
        options === undefined
          ? current.options
          : strategyDefaults(tenant, current.strategy, current.name, options ?? {}).options,
      display_name: (rest['display_name'] as string | undefined) ?? current.name,
    });
    if (
      current['display_name'] === undefined &&
      rest['display_name'] === undefined &&
      current.strategy !== 'oidc'
    ) {
      delete next['display_name'];
    }
    tables.connections(t).put(current.id, next);
    if (Array.isArray(enabledClients)) setEnabledClients(t, current.id, enabledClients);
    return ok(view(tenant, next));
  });
  r.delete('/connections/{id}', ({ tenant, params, now }) => {
    const t = tenant.data;
    const id = params['id'] ?? '';
    if (!tables.connections(t).delete(id)) return noContent();
    t.dropTable(`connection/${id}/clients`);
    for (const org of tables.organizations(t).values()) {
      const orgConnections = t.tables.get(`org/${org.id}/connections`);
      if (orgConnections?.has(id)) orgConnections.delete(id);
    }
    return { status: 202, body: { deleted_at: new Date(now).toISOString() } };
  });
  // auth0-deploy-cli reads these on every run; auth0-local has no directory provisioning, so the list is empty.
  r.get(
    '/connections-directory-provisionings',
    ({ query }) =>
      ok(listResponse(query, 'directory_provisionings', [], { checkpoint: true, offset: false })),
    { scopes: ['read:connections'] },
  );
  r.get('/connections/{id}/clients', ({ tenant, params, query }) => {
    const connection = findConnection(tenant.data, params['id'] ?? '');
    return ok(
      listResponse(query, 'clients', tables.connectionClients(tenant.data, connection.id), {
        checkpoint: true,
        offset: false,
        maxTake: 1000,
      }),
    );
  });
  r.patch('/connections/{id}/clients', ({ tenant, params, body }) => {
    const t = tenant.data;
    const connection = findConnection(t, params['id'] ?? '');
    const changes = body as { client_id: string; status: boolean }[];
    for (const change of changes) if (!tables.clients(t).has(change.client_id)) throw missing.client();
    const table = tables.connectionClients(t, connection.id);
    for (const change of changes) {
      if (change.status && !table.has(change.client_id))
        table.put(change.client_id, { client_id: change.client_id });
      if (!change.status) table.delete(change.client_id);
    }
    return noContent();
  });
}
