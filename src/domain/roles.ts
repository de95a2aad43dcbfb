/**
 * Operator roles and what each may do. Roles are cumulative (an admin is also an operator and a viewer), so every
 * route names the one permission it needs and the check is a lookup, never a list of roles repeated per route.
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  /** Read organizations, runs, audit events, the catalog. */
  read: 'viewer',
  /** Create and modify organizations, plan, retry and cancel runs. */
  write: 'operator',
  /** Remove organizations, manage the tenant registry and settings. */
  administer: 'admin',
} as const satisfies Record<string, Role>;
export type Permission = keyof typeof PERMISSIONS;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when one of `roles` is at least the role the permission needs. */
export function allows(roles: readonly Role[], permission: Permission): boolean {
  const needed = ROLES.indexOf(PERMISSIONS[permission]);
  return roles.some((role) => ROLES.indexOf(role) >= needed);
}
