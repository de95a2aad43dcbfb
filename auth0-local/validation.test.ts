import { describe, expect, it } from 'vitest';

import { validateBody } from './validation.js';

const message = (route: string, body: unknown): string => {
  try {
    validateBody(route, body);
  } catch (error) {
    return (error as Error).message;
  }
  return 'valid';
};

describe('validateBody (Auth0 limits, z-schema messages)', () => {
  it('checks organization names, display names, metadata and the connection limit', () => {
    expect(message('POST /organizations', { name: 'acme_2-x' })).toBe('valid');
    expect(message('POST /organizations', { name: 'a'.repeat(51) })).toBe(
      "Payload validation error: 'String is too long (51 chars), maximum 50' on property name (The name of this organization.).",
    );
    expect(message('POST /organizations', { name: 'ok', display_name: 'x'.repeat(256) })).toMatch(
      /String is too long \(256 chars\), maximum 255' on property display_name/,
    );
    expect(message('POST /organizations', { name: 'ok', metadata: { k: 'v'.repeat(256) } })).toMatch(
      /String is too long \(256 chars\), maximum 255' on property metadata\.k/,
    );
    const eleven = Array.from({ length: 11 }, (_, i) => ({ connection_id: `con_${i}` }));
    expect(message('POST /organizations', { name: 'ok', enabled_connections: eleven })).toMatch(
      /Array is too long \(11\), maximum 10' on property enabled_connections/,
    );
    expect(message('POST /organizations', { name: 'ok', branding: { colors: { primary: '#fff' } } })).toMatch(
      /Missing required property: page_background' on property branding\.colors/,
    );
  });

  it('checks connection names and client URL lists', () => {
    expect(message('POST /connections', { name: '-bad', strategy: 'auth0' })).toMatch(
      /String does not match pattern/,
    );
    expect(message('POST /connections', { name: 'c'.repeat(129), strategy: 'auth0' })).toMatch(/maximum 128/);
    const urls = (n: number): string[] => Array.from({ length: n }, (_, i) => `https://x.example/${i}`);
    expect(message('PATCH /clients/{id}', { web_origins: urls(100) })).toBe('valid');
    expect(message('PATCH /clients/{id}', { allowed_logout_urls: urls(101) })).toMatch(
      /Array is too long \(101\), maximum 100' on property allowed_logout_urls/,
    );
  });

  it('rejects unknown properties with invalid_body', () => {
    try {
      validateBody('PATCH /organizations/{id}', { colour: 'blue' });
      expect.unreachable();
    } catch (error) {
      expect((error as { body(): unknown }).body()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: "Payload validation error: 'Additional properties not allowed: colour'.",
        errorCode: 'invalid_body',
      });
    }
  });
});
