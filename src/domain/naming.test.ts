import { describe, expect, it } from 'vitest';

import { CONNECTION_NAME_PATTERN, connectionNameFor, slugOf } from './naming.js';

describe('derived names', () => {
  it('uses the organization name as it is when Auth0 connection names allow it', () => {
    expect(connectionNameFor('acme', 'saml')).toBe('acme-saml');
    expect(connectionNameFor('acme', 'database')).toBe('acme-db');
    expect(connectionNameFor('acme-2', 'azureAd')).toBe('acme-2-azure');
  });

  it('rewrites what connection names forbid and keeps different organizations apart', () => {
    const names = ['a_b', 'a-b', 'a--b', '-a', 'a-', '___', '_-_', '9lives'];
    const derived = names.map((name) => connectionNameFor(name, 'oidc'));
    for (const name of derived) {
      expect(name).toMatch(CONNECTION_NAME_PATTERN);
      expect(name.length).toBeLessThanOrEqual(128);
    }
    expect(new Set(derived).size).toBe(names.length);
    expect(slugOf('a_b')).toMatch(/^a-b-[0-9a-f]{6}$/);
    expect(slugOf('a_b')).toBe(slugOf('a_b'));
  });

  it('never derives the same name for two different (organization, kind) pairs', () => {
    const kinds = ['database', 'saml', 'oidc', 'azureAd', 'okta', 'googleWorkspace', 'adfs'] as const;
    const orgs = ['acme', 'acme-db', 'acme-saml', 'acme_db', 'db', 'saml'];
    const seen = new Map<string, string>();
    for (const org of orgs) {
      for (const kind of kinds) {
        const name = connectionNameFor(org, kind);
        expect(seen.get(name), `${org}/${kind} collides with ${seen.get(name)}`).toBeUndefined();
        seen.set(name, `${org}/${kind}`);
      }
    }
  });
});
