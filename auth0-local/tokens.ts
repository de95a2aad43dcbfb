/**
 * Access tokens as Auth0 issues them for the client-credentials grant: RS256 JWTs with `iss`, `sub`
 * (`<client_id>@clients`), `aud`, `scope`, `gty` and `azp`, signed by a per-tenant key published as JWKS.
 * Verified tokens are cached until they expire, so the check costs one map lookup on the hot path.
 */
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';

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

  async issue(clientId: string, scopes: string[], audience: string, nowSeconds: number): Promise<string> {
    this.privateKey ??= importJWK(this.signingKey.privateJwk as JWK, 'RS256');
    return new SignJWT({ scope: scopes.join(' '), gty: 'client-credentials', azp: clientId })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.signingKey.kid })
      .setIssuer(this.issuer)
      .setSubject(`${clientId}@clients`)
      .setAudience(audience)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + TOKEN_LIFETIME_SECONDS)
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
