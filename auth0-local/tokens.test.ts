import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';

import { newSigningKey, TOKEN_LIFETIME_SECONDS, TokenService } from './tokens.js';

describe('TokenService', () => {
  it('issues Auth0-shaped client-credentials tokens and verifies them', async () => {
    const key = await newSigningKey();
    const tokens = new TokenService(key, 'https://127.0.0.1:4443/', 'https://127.0.0.1:4443/api/v2/');
    const token = await tokens.issue('client123', ['read:organizations'], tokens.audience, 1_000_000);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT', kid: key.kid });
    expect(decodeJwt(token)).toEqual({
      iss: 'https://127.0.0.1:4443/',
      sub: 'client123@clients',
      aud: 'https://127.0.0.1:4443/api/v2/',
      iat: 1_000_000,
      exp: 1_000_000 + TOKEN_LIFETIME_SECONDS,
      scope: 'read:organizations',
      gty: 'client-credentials',
      azp: 'client123',
    });
    const claims = await tokens.verify(token, 1_000_001);
    expect([...claims.scopes]).toEqual(['read:organizations']);
  });

  it('answers 401 for an expired token, another tenant’s token and a wrong audience', async () => {
    const tokens = new TokenService(await newSigningKey(), 'https://a/', 'https://a/api/v2/');
    const expired = await tokens.issue('c', [], tokens.audience, 1_000);
    await expect(tokens.verify(expired, 1_000 + TOKEN_LIFETIME_SECONDS + 1)).rejects.toMatchObject({
      statusCode: 401,
      message: 'Expired token received for JSON Web Token validation',
    });
    const other = new TokenService(await newSigningKey(), 'https://a/', 'https://a/api/v2/');
    await expect(
      other.verify(await tokens.issue('c', [], tokens.audience, 1_000), 1_001),
    ).rejects.toMatchObject({
      statusCode: 401,
      message: 'Invalid token',
    });
    const wrongAudience = await tokens.issue('c', [], 'https://elsewhere/', 1_000);
    await expect(tokens.verify(wrongAudience, 1_001)).rejects.toMatchObject({ statusCode: 401 });
  });
});
