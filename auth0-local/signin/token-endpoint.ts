/**
 * `POST /oauth/token` (client credentials, authorization code with PKCE, refresh token with optional rotation) and
 * `POST /oauth/revoke`, answering as Auth0 does: `{access_token, id_token?, refresh_token?, scope, expires_in,
 * token_type}` or `{error, error_description}` with 400, 401 or 403. ID and access tokens are RS256 JWTs signed with
 * the tenant key; the roles claim, when the tenant has one, is what the usual post-login Action would add.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import type { Context, Hono } from 'hono';
import type { JWTPayload } from 'jose';

import { tables, type ClientRecord, type RefreshTokenRecord, type UserRecord } from '../model.js';
import { withoutUndefined } from '../projection.js';
import type { AppEnv } from '../router.js';
import type { TenantData } from '../state/store.js';
import type { TenantRuntime } from '../tenant-runtime.js';
import { grantTypes, isMember, notAMember, roleNames } from './identity.js';
import { readParams } from './http.js';
import { secret } from './state.js';

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'address', 'phone', 'offline_access']);
const DEFAULT_ACCESS_LIFETIME = 86_400;
const DEFAULT_ID_TOKEN_LIFETIME = 36_000;

class OAuthError extends Error {
  constructor(
    readonly status: 400 | 401 | 403,
    readonly error: string,
    description: string,
  ) {
    super(description);
  }
}

const unauthorized = (): OAuthError => new OAuthError(401, 'access_denied', 'Unauthorized');
const invalidRefreshToken = (): OAuthError =>
  new OAuthError(403, 'invalid_grant', 'Unknown or invalid refresh token.');

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

/** Everything a set of tokens is minted from, whether it comes from a code or a refresh token. */
export interface Grant {
  client: ClientRecord;
  user: UserRecord;
  organizationId: string | undefined;
  scope: string[];
  audience: string | undefined;
  authTime: number;
  sid: string;
  nonce?: string | undefined;
}

/**
 * Client authentication: `client_secret_basic` (already folded into the parameters) or `client_secret_post`, or none
 * for a public client (`token_endpoint_auth_method: none`), which must then prove itself with PKCE.
 */
function authenticateClient(
  t: TenantData,
  params: Record<string, string | undefined>,
): { client: ClientRecord; authenticated: boolean } {
  const client = tables.clients(t).get(params['client_id'] ?? '');
  if (!client) throw unauthorized();
  const presented = params['client_secret'];
  if (presented !== undefined && presented !== '') {
    if (!sameSecret(presented, client.client_secret)) throw unauthorized();
    return { client, authenticated: true };
  }
  if (client['token_endpoint_auth_method'] === 'none') return { client, authenticated: false };
  throw unauthorized();
}

function requireGrantType(client: ClientRecord, grantType: string): void {
  if (!grantTypes(client).includes(grantType)) {
    throw new OAuthError(403, 'unauthorized_client', `Grant type '${grantType}' not allowed for the client.`);
  }
}

export class TokenMinter {
  constructor(private readonly tenant: TenantRuntime) {}

  private get userinfoAudience(): string {
    return `${this.tenant.issuer}userinfo`;
  }

  /** The scopes a grant ends up with: OpenID scopes, and of the API's, those it defines. */
  grantedScopes(requested: readonly string[], audience: string | undefined, client: ClientRecord): string[] {
    const t = this.tenant.data;
    const api = audience ? tables.resourceServers(t).getBy('identifier', audience) : undefined;
    const offline =
      grantTypes(client).includes('refresh_token') &&
      (api === undefined || api['allow_offline_access'] === true);
    return [...new Set(requested)].filter((scope) => {
      if (scope === 'offline_access') return offline;
      if (OIDC_SCOPES.has(scope)) return true;
      if (!api) return false;
      // A user token for the Management API only ever gets the current-user scopes.
      if (api.identifier === this.tenant.audience) return /^[a-z]+:current_user/.test(scope);
      return api.scopes.some((defined) => defined.value === scope);
    });
  }

  async mint(grant: Grant, refreshToken: string | undefined): Promise<Record<string, unknown>> {
    const t = this.tenant.data;
    const now = Math.floor(Date.now() / 1000);
    const { client, user, scope } = grant;
    const org = grant.organizationId ? tables.organizations(t).get(grant.organizationId) : undefined;
    const api = grant.audience ? tables.resourceServers(t).getBy('identifier', grant.audience) : undefined;
    const rolesClaim = t.meta.rolesClaim;
    const roles: JWTPayload = rolesClaim
      ? { [rolesClaim]: roleNames(t, user.user_id, grant.organizationId) }
      : {};
    const openid = scope.includes('openid');
    const audience = api
      ? openid
        ? [api.identifier, this.userinfoAudience]
        : api.identifier
      : this.userinfoAudience;
    const accessLifetime =
      typeof api?.['token_lifetime'] === 'number' ? api['token_lifetime'] : DEFAULT_ACCESS_LIFETIME;
    const accessToken = await this.tenant.tokens.sign({
      iss: this.tenant.issuer,
      sub: user.user_id,
      aud: audience,
      iat: now,
      exp: now + accessLifetime,
      scope: scope.join(' '),
      azp: client.client_id,
      ...(org ? { org_id: org.id } : {}),
      ...roles,
    });
    const body: Record<string, unknown> = { access_token: accessToken };
    if (openid) {
      const jwtConfiguration = client['jwt_configuration'] as { lifetime_in_seconds?: unknown } | undefined;
      const idLifetime =
        typeof jwtConfiguration?.lifetime_in_seconds === 'number'
          ? jwtConfiguration.lifetime_in_seconds
          : DEFAULT_ID_TOKEN_LIFETIME;
      body['id_token'] = await this.tenant.tokens.sign(
        withoutUndefined({
          iss: this.tenant.issuer,
          sub: user.user_id,
          aud: client.client_id,
          iat: now,
          exp: now + idLifetime,
          auth_time: grant.authTime,
          sid: grant.sid,
          nonce: grant.nonce,
          ...(org ? { org_id: org.id, org_name: org.name } : {}),
          ...profileClaims(user, scope),
          ...roles,
        }),
      );
    }
    if (refreshToken !== undefined) body['refresh_token'] = refreshToken;
    return { ...body, scope: scope.join(' '), expires_in: accessLifetime, token_type: 'Bearer' };
  }

  /** Stores a new refresh token of a family and returns it; only its hash is kept. */
  issueRefreshToken(grant: Grant, family: string | undefined, previous: string | undefined): string {
    const token = `v1.${secret()}${secret()}`;
    const id = sha256(token);
    const record: RefreshTokenRecord = withoutUndefined({
      id,
      family: family ?? id,
      previous,
      client_id: grant.client.client_id,
      user_id: grant.user.user_id,
      organization_id: grant.organizationId,
      scope: grant.scope.join(' '),
      audience: grant.audience,
      auth_time: grant.authTime,
      sid: grant.sid,
      created_at: new Date().toISOString(),
    });
    tables.refreshTokens(this.tenant.data).put(id, record);
    return token;
  }
}

/** Standard claims by scope, as Auth0 puts them in ID tokens and /userinfo answers. */
export function profileClaims(user: UserRecord, scope: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scope.includes('profile')) {
    for (const key of ['name', 'nickname', 'picture', 'given_name', 'family_name', 'updated_at']) {
      if (user[key] !== undefined) claims[key] = user[key];
    }
  }
  if (scope.includes('email')) {
    if (user.email !== undefined) claims['email'] = user.email;
    claims['email_verified'] = user['email_verified'] === true;
  }
  return claims;
}

function revokeFamily(t: TenantData, family: string): void {
  const table = tables.refreshTokens(t);
  for (const record of [...table.values()]) if (record.family === family) table.delete(record.id);
}

export function registerTokenRoutes(app: Hono<AppEnv>, tenant: TenantRuntime): void {
  const minter = new TokenMinter(tenant);
  const t = tenant.data;

  const clientCredentials = async (params: Record<string, string | undefined>): Promise<object> => {
    const { client, authenticated } = authenticateClient(t, params);
    if (!authenticated) throw unauthorized();
    requireGrantType(client, 'client_credentials');
    const audience = params['audience'] ?? tenant.audience;
    const api = tables.resourceServers(t).getBy('identifier', audience);
    if (!api) throw new OAuthError(403, 'access_denied', `Service not enabled within domain: ${audience}`);
    const grant = tables.clientGrants(t).getBy('pair', `${client.client_id}|${audience}`);
    if (!grant) {
      throw new OAuthError(
        403,
        'access_denied',
        `Client is not authorized to access "${audience}". You need to create a "client-grant" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants`,
      );
    }
    const now = Math.floor(Date.now() / 1000);
    const scope = params['scope']
      ? params['scope'].split(' ').filter((s) => grant.scope.includes(s))
      : grant.scope;
    const lifetime =
      typeof api['token_lifetime'] === 'number' ? api['token_lifetime'] : DEFAULT_ACCESS_LIFETIME;
    const accessToken = await tenant.tokens.issue(client.client_id, scope, audience, now, lifetime);
    return { access_token: accessToken, scope: scope.join(' '), expires_in: lifetime, token_type: 'Bearer' };
  };

  const authorizationCode = async (params: Record<string, string | undefined>): Promise<object> => {
    const { client, authenticated } = authenticateClient(t, params);
    requireGrantType(client, 'authorization_code');
    const code = params['code'];
    if (!code) throw new OAuthError(400, 'invalid_request', 'Missing required parameter: code');
    // Taken, not read: a code works once, even when the exchange then fails.
    const issued = tenant.signin.codes.take(code, Date.now());
    if (!issued || issued.request.clientId !== client.client_id) {
      throw new OAuthError(403, 'invalid_grant', 'Invalid authorization code');
    }
    const { request } = issued;
    if ((params['redirect_uri'] ?? '') !== request.redirectUri) {
      throw new OAuthError(
        403,
        'invalid_grant',
        'The redirect_uri does not match the one used in the authorization request.',
      );
    }
    const verifier = params['code_verifier'];
    if (request.codeChallenge !== undefined) {
      const computed =
        request.codeChallengeMethod === 'plain'
          ? (verifier ?? '')
          : createHash('sha256')
              .update(verifier ?? '')
              .digest('base64url');
      if (!verifier || !sameSecret(computed, request.codeChallenge)) {
        throw new OAuthError(403, 'invalid_grant', 'Failed to verify code verifier');
      }
    } else if (verifier !== undefined) {
      // A verifier for a request made without a challenge is a downgrade attempt (OAuth 2.1 §4.1.3).
      throw new OAuthError(403, 'invalid_grant', 'Failed to verify code verifier');
    } else if (!authenticated) {
      throw new OAuthError(400, 'invalid_request', 'Parameter code_verifier is required for public clients.');
    }
    const user = tables.users(t).get(issued.userId);
    if (!user) throw new OAuthError(403, 'invalid_grant', 'Invalid authorization code');
    const grant: Grant = {
      client,
      user,
      organizationId: request.organizationId,
      scope: minter.grantedScopes(request.scope, request.audience, client),
      audience: request.audience,
      authTime: issued.authTime,
      sid: issued.sid,
      nonce: request.nonce,
    };
    const refresh = grant.scope.includes('offline_access')
      ? minter.issueRefreshToken(grant, undefined, undefined)
      : undefined;
    return minter.mint(grant, refresh);
  };

  const refreshToken = async (params: Record<string, string | undefined>): Promise<object> => {
    const { client } = authenticateClient(t, params);
    requireGrantType(client, 'refresh_token');
    const presented = params['refresh_token'];
    if (!presented) throw new OAuthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
    const table = tables.refreshTokens(t);
    const record = table.get(sha256(presented));
    if (!record || record.client_id !== client.client_id) throw invalidRefreshToken();
    if (record.rotated_at !== undefined) {
      // Reuse of a rotated-out token: someone else may hold the family, so none of it stays valid.
      revokeFamily(t, record.family);
      throw invalidRefreshToken();
    }
    const user = tables.users(t).get(record.user_id);
    if (!user) throw invalidRefreshToken();
    const orgId = record.organization_id;
    if (orgId !== undefined && (!tables.organizations(t).has(orgId) || !isMember(t, orgId, user.user_id))) {
      throw new OAuthError(403, 'invalid_grant', notAMember(user.user_id, orgId));
    }
    const original = record.scope.split(' ').filter(Boolean);
    const asked = params['scope']?.split(' ').filter(Boolean);
    const grant: Grant = {
      client,
      user,
      organizationId: orgId,
      scope: asked ? original.filter((scope) => asked.includes(scope)) : original,
      audience: record.audience,
      authTime: record.auth_time,
      sid: record.sid,
    };
    const refreshConfig = client['refresh_token'] as { rotation_type?: unknown } | undefined;
    let next: string | undefined;
    if (refreshConfig?.rotation_type === 'rotating') {
      // Keep the token just exchanged (marked) to recognise its reuse; the one before it is no longer needed.
      if (record.previous !== undefined) table.delete(String(record.previous));
      table.put(record.id, { ...record, rotated_at: new Date().toISOString() });
      next = minter.issueRefreshToken({ ...grant, scope: original }, record.family, record.id);
    }
    return minter.mint(grant, next);
  };

  app.post('/oauth/token', async (c) => {
    const params = await clientParams(c);
    try {
      const grantType = params['grant_type'];
      let body: object;
      if (grantType === 'client_credentials') body = await clientCredentials(params);
      else if (grantType === 'authorization_code') body = await authorizationCode(params);
      else if (grantType === 'refresh_token') body = await refreshToken(params);
      else throw new OAuthError(400, 'unsupported_grant_type', `Unsupported grant type: ${grantType ?? ''}`);
      return c.json(body, 200, { 'cache-control': 'no-store', pragma: 'no-cache' });
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      return c.json({ error: error.error, error_description: error.message }, error.status);
    }
  });

  app.post('/oauth/revoke', async (c) => {
    const params = await clientParams(c);
    try {
      const { client } = authenticateClient(t, params);
      const token = params['token'];
      if (!token) throw new OAuthError(400, 'invalid_request', 'Missing required parameter: token');
      const record = tables.refreshTokens(t).get(sha256(token));
      if (record && record.client_id === client.client_id) revokeFamily(t, record.family);
      return c.body(null, 200);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      return c.json({ error: error.error, error_description: error.message }, error.status);
    }
  });
}

/** The body's parameters with HTTP Basic client credentials folded in (`client_secret_basic`). */
async function clientParams(c: Context): Promise<Record<string, string | undefined>> {
  const params = await readParams(c);
  const basic = /^Basic\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const id = colon < 0 ? decoded : decoded.slice(0, colon);
    const secretPart = colon < 0 ? '' : decoded.slice(colon + 1);
    // RFC 6749 §2.3.1: both halves are form-urlencoded before being joined.
    const decode = (text: string): string => decodeURIComponent(text.replace(/\+/g, ' '));
    params['client_id'] ??= decode(id);
    params['client_secret'] ??= decode(secretPart);
  }
  return params;
}
