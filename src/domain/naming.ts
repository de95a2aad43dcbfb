/**
 * Names of the Auth0 objects orgadmin creates for an organization, derived deterministically from the organization's
 * name so a crashed run finds its own objects again by name (the natural key), and two organizations never derive the
 * same name.
 *
 * Auth0 connection names must match `^[a-zA-Z0-9](-[a-zA-Z0-9]|[a-zA-Z0-9])*$` (≤ 128): no `_`, no `--`, no leading
 * or trailing `-`. Organization names allow `_` and any `-`, so the slug rewrites them; when it had to, a short hash
 * of the original name keeps `a_b` and `a-b` apart. The derived name is always `<slug>-<kind>`, and no kind contains
 * `-`, so the split back into (slug, kind) is unique.
 */
import type { ConnectionKind } from './org-spec.js';
import { sha256Hex } from './sha256.js';

export const CONNECTION_NAME_PATTERN = /^[a-zA-Z0-9](-[a-zA-Z0-9]|[a-zA-Z0-9])*$/;

const KIND_SUFFIX: Record<Exclude<ConnectionKind, 'shared'>, string> = {
  database: 'db',
  saml: 'saml',
  oidc: 'oidc',
  azureAd: 'azure',
  okta: 'okta',
  googleWorkspace: 'google',
  adfs: 'adfs',
};

/** The organization name made safe for Auth0 connection names. */
export function slugOf(organizationName: string): string {
  const cleaned = organizationName
    .replace(/_/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  if (cleaned === organizationName) return cleaned;
  const suffix = sha256Hex(organizationName).slice(0, 6);
  return cleaned === '' ? `org-${suffix}` : `${cleaned}-${suffix}`;
}

/** The name of the connection orgadmin creates for `kind` in this organization, e.g. `acme-saml`. */
export function connectionNameFor(organizationName: string, kind: Exclude<ConnectionKind, 'shared'>): string {
  return `${slugOf(organizationName)}-${KIND_SUFFIX[kind]}`;
}

/** Auth0 strategy of each connection kind. */
export const STRATEGY_OF: Record<Exclude<ConnectionKind, 'shared'>, string> = {
  database: 'auth0',
  saml: 'samlp',
  oidc: 'oidc',
  azureAd: 'waad',
  okta: 'okta',
  googleWorkspace: 'google-apps',
  adfs: 'adfs',
};

/** The tenant role given to every organization's first administrator; created once per tenant. */
export const ORG_ADMIN_ROLE = 'org-admin';
