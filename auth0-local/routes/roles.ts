/**
 * Roles, their permissions and their users. Note Auth0's codes: POST /roles answers 200, DELETE /roles/{id} answers
 * 200 `{}`, and POST /roles/{id}/users answers 200 `{}` (recorded).
 */
import { conflict, missing } from '../errors.js';
import { newId } from '../ids.js';
import { tables, type Json, type RoleRecord } from '../model.js';
import { listResponse } from '../pagination.js';
import { withoutUndefined } from '../projection.js';
import { created, noContent, ok, type ManagementRouter } from '../router.js';
import type { TenantData } from '../state/store.js';
import type { Table } from '../state/table.js';
import { assignRoles } from './users.js';

function findRole(t: TenantData, id: string): RoleRecord {
  const role = tables.roles(t).get(id);
  if (!role) throw missing.role();
  return role;
}

interface PermissionInput {
  resource_server_identifier: string;
  permission_name: string;
}

export function registerRoleRoutes(r: ManagementRouter): void {
  const scopes = (verb: string): { scopes: string[] } => ({ scopes: [`${verb}:roles`] });
  r.get('/roles', ({ tenant, query }) => {
    const nameFilter = query.get('name_filter')?.toLowerCase();
    const table = tables.roles(tenant.data);
    const rows = nameFilter
      ? [...table.values()].filter((role) => role.name.toLowerCase().includes(nameFilter))
      : table;
    return ok(listResponse(query, 'roles', rows, { checkpoint: false, offset: true }));
  });
  r.post('/roles', ({ tenant, body }) => {
    const input = body as { name: string; description?: string };
    if (tables.roles(tenant.data).getBy('name', input.name)) throw conflict('Role name already exists');
    const role: RoleRecord = withoutUndefined({
      id: newId.role(),
      name: input.name,
      description: input.description,
    });
    tables.roles(tenant.data).put(role.id, role);
    return ok(role);
  });
  r.get('/roles/{id}', ({ tenant, params }) => ok(findRole(tenant.data, params['id'] ?? '')), scopes('read'));
  r.patch(
    '/roles/{id}',
    ({ tenant, params, body }) => {
      const current = findRole(tenant.data, params['id'] ?? '');
      const input = body as Json;
      const holder =
        typeof input['name'] === 'string'
          ? tables.roles(tenant.data).getBy('name', input['name'])
          : undefined;
      if (holder && holder.id !== current.id) throw conflict('Role name already exists');
      const next = { ...current, ...input, id: current.id } as RoleRecord;
      tables.roles(tenant.data).put(current.id, next);
      return ok(next);
    },
    scopes('update'),
  );
  r.delete(
    '/roles/{id}',
    ({ tenant, params }) => {
      const t = tenant.data;
      const role = findRole(t, params['id'] ?? '');
      tables.roles(t).delete(role.id);
      t.dropTable(`role/${role.id}/permissions`);
      const holders = t.tables.get(`role/${role.id}/users`) as Table<{ user_id: string }> | undefined;
      for (const row of holders?.values() ?? []) t.tables.get(`user/${row.user_id}/roles`)?.delete(role.id);
      t.dropTable(`role/${role.id}/users`);
      return ok({});
    },
    scopes('delete'),
  );
  r.get(
    '/roles/{id}/users',
    ({ tenant, params, query }) => {
      const t = tenant.data;
      const role = findRole(t, params['id'] ?? '');
      return ok(
        listResponse(query, 'users', tables.roleUsers(t, role.id), {
          checkpoint: true,
          offset: true,
          project: (row) => {
            const user = tables.users(t).get(row.user_id);
            return withoutUndefined({
              user_id: row.user_id,
              email: user?.email,
              picture: user?.['picture'] as string | undefined,
              name: user?.['name'] as string | undefined,
            });
          },
        }),
      );
    },
    { scopes: ['read:users', 'read:roles', 'read:role_members'] },
  );
  r.post(
    '/roles/{id}/users',
    ({ tenant, params, body }) => {
      const t = tenant.data;
      const role = findRole(t, params['id'] ?? '');
      const { users } = body as { users: string[] };
      for (const userId of users) if (!tables.users(t).has(userId)) throw missing.user();
      for (const userId of users) assignRoles(t, userId, [role.id]);
      return ok({});
    },
    { scopes: ['update:roles', 'create:role_members'] },
  );
  r.get(
    '/roles/{id}/permissions',
    ({ tenant, params, query }) => {
      const role = findRole(tenant.data, params['id'] ?? '');
      return ok(
        listResponse(query, 'permissions', tables.rolePermissions(tenant.data, role.id), {
          checkpoint: false,
          offset: true,
        }),
      );
    },
    scopes('read'),
  );
  r.post(
    '/roles/{id}/permissions',
    ({ tenant, params, body }) => {
      const t = tenant.data;
      const role = findRole(t, params['id'] ?? '');
      const { permissions } = body as { permissions: PermissionInput[] };
      for (const permission of permissions) {
        const server = tables.resourceServers(t).getBy('identifier', permission.resource_server_identifier);
        if (!server) throw missing.resourceServer();
        tables
          .rolePermissions(t, role.id)
          .put(`${permission.resource_server_identifier}|${permission.permission_name}`, {
            permission_name: permission.permission_name,
            resource_server_identifier: permission.resource_server_identifier,
            resource_server_name: server.name,
            description:
              server.scopes.find((scope) => scope.value === permission.permission_name)?.description ?? '',
          });
      }
      return created(undefined);
    },
    scopes('update'),
  );
  r.delete(
    '/roles/{id}/permissions',
    ({ tenant, params, body }) => {
      const role = findRole(tenant.data, params['id'] ?? '');
      const { permissions } = body as { permissions: PermissionInput[] };
      for (const permission of permissions) {
        tables
          .rolePermissions(tenant.data, role.id)
          .delete(`${permission.resource_server_identifier}|${permission.permission_name}`);
      }
      return noContent();
    },
    scopes('update'),
  );
}
