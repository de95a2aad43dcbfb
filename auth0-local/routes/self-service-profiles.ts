/** Self-service SSO profiles and their SSO tickets (reference §10). Revoking answers 202 even for unknown tickets. */
import { missing } from '../errors.js';
import { newId } from '../ids.js';
import { tables, type Json } from '../model.js';
import { listResponse } from '../pagination.js';
import { created, noContent, ok, type ManagementRouter } from '../router.js';
import type { TenantData } from '../state/store.js';

function findProfile(t: TenantData, id: string): Json & { id: string } {
  const profile = tables.selfServiceProfiles(t).get(id);
  if (!profile) throw missing.selfServiceProfile(id);
  return profile;
}

export function registerSelfServiceRoutes(r: ManagementRouter): void {
  const scopes = (verb: string): { scopes: string[] } => ({ scopes: [`${verb}:self_service_profiles`] });
  r.get(
    '/self-service-profiles',
    ({ tenant, query }) =>
      ok(
        listResponse(query, 'self_service_profiles', tables.selfServiceProfiles(tenant.data), {
          checkpoint: false,
          offset: true,
        }),
      ),
    scopes('read'),
  );
  r.post('/self-service-profiles', ({ tenant, body, now }) => {
    const timestamp = new Date(now).toISOString();
    const profile = {
      user_attributes: [],
      allowed_strategies: [],
      ...(body as Json),
      id: newId.selfServiceProfile(),
      created_at: timestamp,
      updated_at: timestamp,
    };
    tables.selfServiceProfiles(tenant.data).put(profile.id, profile);
    return created(profile);
  });
  r.get(
    '/self-service-profiles/{id}',
    ({ tenant, params }) => ok(findProfile(tenant.data, params['id'] ?? '')),
    scopes('read'),
  );
  r.patch(
    '/self-service-profiles/{id}',
    ({ tenant, params, body, now }) => {
      const current = findProfile(tenant.data, params['id'] ?? '');
      const next = { ...current, ...(body as Json), id: current.id, updated_at: new Date(now).toISOString() };
      tables.selfServiceProfiles(tenant.data).put(current.id, next);
      return ok(next);
    },
    scopes('update'),
  );
  r.delete(
    '/self-service-profiles/{id}',
    ({ tenant, params }) => {
      const current = findProfile(tenant.data, params['id'] ?? '');
      tables.selfServiceProfiles(tenant.data).delete(current.id);
      return noContent();
    },
    scopes('delete'),
  );
  r.post('/self-service-profiles/{id}/sso-ticket', ({ tenant, params, body, now }) => {
    const profile = findProfile(tenant.data, params['id'] ?? '');
    const input = body as Json & { ttl_sec?: number };
    const id = newId.ticket();
    const ttl = input.ttl_sec && input.ttl_sec > 0 ? input.ttl_sec : 432_000;
    tables.tickets(tenant.data).put(id, {
      id,
      type: 'sso',
      profile_id: profile.id,
      request: input,
      expires_at: new Date(now + ttl * 1000).toISOString(),
    });
    return created({ ticket: `https://${tenant.domain}/self-service/connections-flow?ticket=${id}` });
  });
  r.post('/self-service-profiles/{profileId}/sso-ticket/{id}/revoke', ({ tenant, params }) => {
    const ticket = tables.tickets(tenant.data).get(params['id'] ?? '');
    if (ticket?.type === 'sso') tables.tickets(tenant.data).delete(ticket.id);
    return { status: 202 };
  });
}
