/**
 * Access tokens as Auth0 issues them for the client-credentials grant: RS256 JWTs with `iss`, `sub`
 * (`<client_id>@clients`), `aud`, `scope`, `gty` and `azp`, signed by a per-tenant key published as JWKS.
 * Verified tokens are cached until they expire, so the check costs one map lookup on the hot path.
 * The sign-in side signs ID tokens and user access tokens with the same key (`sign`) and reads them back
 * (`inspect`) for `/userinfo` and logout hints.
 */
import {
  compactVerify,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

import { Auth0HttpError } from './errors.js';
import { alphanumeric } from './ids.js';
import type { TenantMeta } from './state/store.js';

export const TOKEN_LIFETIME_SECONDS = 86_400;

export interface AccessClaims {
  sub: string;
  azp: string;
  scopes: ReadonlySet<string>;
  exp: number;
}

export async function newSigningKey(): Promise<TenantMeta['signingKey']> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = alphanumeric(22);
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
}

export class TokenService {
  private privateKey: Promise<CryptoKey | Uint8Array> | undefined;
  private publicKey: Promise<CryptoKey | Uint8Array> | undefined;
  private readonly verified = new Map<string, AccessClaims>();

  constructor(
    private readonly signingKey: TenantMeta['signingKey'],
    private readonly issuer: string,
    readonly audience: string,
  ) {}

  jwks(): { keys: Record<string, unknown>[] } {
    return { keys: [this.signingKey.publicJwk] };
  }

  /** Signs a complete claim set (the caller sets `iss`, `aud`, `iat`, `exp`). */
  async sign(claims: JWTPayload): Promise<string> {
    this.privateKey ??= importJWK(this.signingKey.privateJwk as JWK, 'RS256');
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.signingKey.kid })
      .sign(await this.privateKey);
  }

  /**
   * The payload of a token this tenant signed, or undefined when the signature, issuer or (unless `allowExpired`,
   * as for an `id_token_hint`) the expiry does not hold.
   */
  async inspect(
    token: string,
    nowSeconds: number,
    options: { allowExpired?: boolean } = {},
  ): Promise<JWTPayload | undefined> {
    this.publicKey ??= importJWK(this.signingKey.publicJwk as JWK, 'RS256');
    let payload: JWTPayload;
    try {
      const verified = await compactVerify(token, await this.publicKey, { algorithms: ['RS256'] });
      payload = JSON.parse(new TextDecoder().decode(verified.payload)) as JWTPayload;
    } catch {
      return undefined;
    }
    if (payload.iss !== this.issuer) return undefined;
    if (!options.allowExpired && (typeof payload.exp !== 'number' || payload.exp <= nowSeconds))
      return undefined;
    return payload;
  }

  async issue(
    clientId: string,
    scopes: string[],
    audience: string,
    nowSeconds: number,
    lifetimeSeconds = TOKEN_LIFETIME_SECONDS,
  ): Promise<string> {
    this.privateKey ??= importJWK(this.signingKey.privateJwk as JWK, 'RS256');
    return new SignJWT({ scope: scopes.join(' '), gty: 'client-credentials', azp: clientId })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.signingKey.kid })
      .setIssuer(this.issuer)
      .setSubject(`${clientId}@clients`)
      .setAudience(audience)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + lifetimeSeconds)
      .sign(await this.privateKey);
  }

  /** Verifies a bearer token for the Management API; throws Auth0's 401 otherwise. */
  async verify(token: string, nowSeconds: number): Promise<AccessClaims> {
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.exp > nowSeconds) return cached;
      this.verified.delete(token);
      throw new Auth0HttpError(401, 'Expired token received for JSON Web Token validation');
    }
    this.publicKey ??= importJWK(this.signingKey.publicJwk as JWK, 'RS256');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, await this.publicKey, {
        issuer: this.issuer,
        algorithms: ['RS256'],
        currentDate: new Date(nowSeconds * 1000),
      }));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED')
        throw new Auth0HttpError(401, 'Expired token received for JSON Web Token validation');
      throw new Auth0HttpError(401, 'Invalid token');
    }
    const audiences = Array.isArray(payload['aud']) ? payload['aud'] : [payload['aud']];
    if (!audiences.includes(this.audience))
      throw new Auth0HttpError(401, 'Bad audience: ' + audiences.join(' '));
    const claims: AccessClaims = {
      sub: String(payload['sub']),
      azp: typeof payload['azp'] === 'string' ? payload['azp'] : '',
      scopes: new Set(typeof payload['scope'] === 'string' ? payload['scope'].split(' ') : []),
      exp: Number(payload['exp']),
    };
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(token, claims);
    return claims;
  }
}
