/**
 * The sign-in side of Auth0 (the Authentication API) for one tenant: discovery and JWKS, `/authorize` with the login,
 * sign-up and invitation pages, `/oauth/token` and `/oauth/revoke`, `/userinfo`, logout, and the password-change
 * ticket page. Registered after the request log and fault middleware, outside `/api/v2` and so outside its rate
 * limits.
 */
import type { Hono } from 'hono';

import type { AppEnv } from '../router.js';
import type { TenantRuntime } from '../tenant-runtime.js';
import { registerLoginRoutes } from './login.js';
import { registerPasswordResetRoutes } from './password-reset.js';
import { registerSessionRoutes } from './session-endpoints.js';
import { registerTokenRoutes } from './token-endpoint.js';

/** The discovery document, listing what this implementation supports (a subset of Auth0's). */
export function discoveryDocument(tenant: TenantRuntime): Record<string, unknown> {
  const base = tenant.issuer;
  return {
    issuer: base,
    authorization_endpoint: `${base}authorize`,
    token_endpoint: `${base}oauth/token`,
    userinfo_endpoint: `${base}userinfo`,
    jwks_uri: `${base}.well-known/jwks.json`,
    revocation_endpoint: `${base}oauth/revoke`,
    end_session_endpoint: `${base}oidc/logout`,
    scopes_supported: [
      'openid',
      'profile',
      'offline_access',
      'name',
      'given_name',
      'family_name',
      'nickname',
      'email',
      'email_verified',
      'picture',
      'created_at',
      'identities',
      'phone',
      'address',
    ],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    code_challenge_methods_supported: ['S256', 'plain'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    claims_supported: [
      'aud',
      'auth_time',
      'created_at',
      'email',
      'email_verified',
      'exp',
      'family_name',
      'given_name',
      'iat',
      'identities',
      'iss',
      'name',
      'nickname',
      'phone_number',
      'picture',
      'sub',
      'sid',
      'nonce',
      'org_id',
      'org_name',
    ],
    request_uri_parameter_supported: false,
    request_parameter_supported: false,
  };
}

export function registerSignInRoutes(app: Hono<AppEnv>, tenant: TenantRuntime): void {
  app.get('/.well-known/jwks.json', (c) => c.json(tenant.tokens.jwks()));
  app.get('/.well-known/openid-configuration', (c) => c.json(discoveryDocument(tenant)));
  registerTokenRoutes(app, tenant);
  registerLoginRoutes(app, tenant);
  registerSessionRoutes(app, tenant);
  registerPasswordResetRoutes(app, tenant);
}
