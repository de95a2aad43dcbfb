/**
 * The spec contract: the documented example parses; every invalid spec is refused naming its field path and the
 * rule (acceptance 6 of the engine issue lists at least 40 such specs; these are checked before any side effect).
 */
import { describe, expect, it } from 'vitest';

import { OrgadminError } from './errors.js';
import { redactSecrets } from './org-spec.js';
import { parseSpecs, validateSpecs } from './spec-document.js';

const EXAMPLE = `
name: acme
displayName: Acme Corporation
isolation: isolated-database
metadata: { plan: enterprise }
branding: { logoUrl: https://acme.example.com/logo.png, colors: { primary: "#0059d6", pageBackground: "#ffffff" } }
connections:
  - database: {}
    assignMembershipOnLogin: true
  - saml: { metadataUrl: https://idp.acme.com/metadata }
    domains: [acme.com]
  - oidc: { discoveryUrl: https://login.acme.com/.well-known/openid-configuration, clientId: abc, clientSecret: s3cret }
applications:
  - client: Default App
    callbacks: [https://acme.example.com/callback]
    logoutUrls: [https://acme.example.com/]
    webOrigins: [https://acme.example.com]
admin: { email: it-admin@acme.com, name: Ada Admin, via: invitation }
app: { tier: gold, region: eu }
`;

describe('parseSpecs', () => {
  it('reads the documented example', () => {
    const [spec] = parseSpecs(EXAMPLE);
    expect(spec).toMatchObject({
      name: 'acme',
      isolation: 'isolated-database',
      connections: [
        { database: {} },
        { saml: { metadataUrl: 'https://idp.acme.com/metadata' } },
        { oidc: { clientId: 'abc' } },
      ],
      admin: { via: 'invitation' },
      app: { tier: 'gold', region: 'eu' },
    });
  });

  it('fills defaults and reads JSON and multi-document YAML', () => {
    expect(parseSpecs('{"name":"solo"}')).toEqual([
      { name: 'solo', isolation: 'shared', connections: [], applications: [] },
    ]);
    expect(parseSpecs('name: a\n---\nname: b\n').map((spec) => spec.name)).toEqual(['a', 'b']);
    expect(parseSpecs('[{"name":"a"},{"name":"b"}]').map((spec) => spec.name)).toEqual(['a', 'b']);
  });

  it('refuses unreadable text with spec.unreadable', () => {
    for (const text of [
      '',
      'name: [unclosed',
      '{"name":',
      'a: &x 1\nb: *x\nname: acme',
      'name: a\nname: b',
    ]) {
      expect(() => parseSpecs(text)).toThrow(expect.objectContaining({ code: 'spec.unreadable' }) as Error);
    }
  });
});

const base = { name: 'acme' };
const saml = (options: Record<string, unknown>): Record<string, unknown> => ({
  ...base,
  connections: [{ saml: options }],
});
const app = (lists: Record<string, unknown>): Record<string, unknown> => ({
  ...base,
  applications: [{ client: 'Default App', ...lists }],
});
const xml = '<EntityDescriptor entityID="x"><IDPSSODescriptor/></EntityDescriptor>';

/** [what is wrong, spec, expected path, fragment of the expected message] */
const INVALID: [string, unknown, string, string][] = [
  ['no name', {}, 'name', 'must be a string'],
  ['empty name', { name: '' }, 'name', 'must not be empty'],
  ['51-character name', { name: 'a'.repeat(51) }, 'name', 'at most 50 characters'],
  ['uppercase name', { name: 'Acme' }, 'name', 'lowercase letters'],
  ['space in name', { name: 'acme corp' }, 'name', 'lowercase letters'],
  ['Cyrillic homograph', { name: 'аcme' }, 'name', 'lowercase letters'],
  ['full-width name', { name: 'ａｃｍｅ' }, 'name', 'lowercase letters'],
  ['zero-width space', { name: 'acme\u200b' }, 'name', 'lowercase letters'],
  ['NUL in name', { name: 'acme\u0000' }, 'name', 'lowercase letters'],
  ['log injection in name', { name: 'acme\n2026-01-01 INFO admin=root' }, 'name', 'lowercase letters'],
  ['path in name', { name: '../admin' }, 'name', 'lowercase letters'],
  ['SQL in name', { name: "acme';--" }, 'name', 'lowercase letters'],
  ['__proto__ as name', { name: '__proto__' }, 'name', 'reserved name'],
  ['numeric name', { name: 42 }, 'name', 'must be a string'],
  ['256-character display name', { ...base, displayName: 'x'.repeat(256) }, 'displayName', 'at most 255'],
  ['empty display name', { ...base, displayName: '' }, 'displayName', 'must not be empty'],
  ['unknown isolation', { ...base, isolation: 'private' }, 'isolation', 'shared'],
  ['unknown top-level field', { ...base, colour: 'blue' }, '(spec)', 'unknown field(s): colour'],
  [
    '26 metadata keys',
    { ...base, metadata: Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`k${i}`, 'v'])) },
    'metadata',
    'at most 24 keys',
  ],
  [
    '256-character metadata value',
    { ...base, metadata: { plan: 'x'.repeat(256) } },
    'metadata.plan',
    'at most 255',
  ],
  [
    'non-string metadata value',
    { ...base, metadata: { seats: 10 } },
    'metadata.seats',
    'values must be strings',
  ],
  [
    'reserved metadata key',
    { ...base, metadata: { orgadmin_org: 'other' } },
    'metadata',
    'reserved for orgadmin',
  ],
  [
    'http logo',
    { ...base, branding: { logoUrl: 'http://acme.example.com/logo.png' } },
    'branding.logoUrl',
    'https://',
  ],
  [
    'bad color',
    { ...base, branding: { colors: { primary: 'blue', pageBackground: '#fff' } } },
    'branding.colors.primary',
    'HTML color',
  ],
  [
    'half a color pair',
    { ...base, branding: { colors: { primary: '#fff' } } },
    'branding.colors.pageBackground',
    '',
  ],
  [
    '11 connections',
    { ...base, connections: Array.from({ length: 11 }, (_, i) => ({ shared: `c${i}` })) },
    'connections',
    'at most 10 connections',
  ],
  ['unknown connection kind', { ...base, connections: [{ ldap: {} }] }, 'connections[0]', ''],
  [
    'database with shared isolation',
    { ...base, connections: [{ database: {} }] },
    'connections',
    'isolated-database',
  ],
  [
    'isolated-database without database',
    { ...base, isolation: 'isolated-database' },
    'connections',
    'exactly one `database',
  ],
  [
    'two SAML connections',
    { ...base, connections: [{ saml: { metadataXml: xml } }, { saml: { metadataXml: xml } }] },
    'connections[1]',
    'at most one saml',
  ],
  [
    'shared connection listed twice',
    { ...base, connections: [{ shared: 'db' }, { shared: 'db' }] },
    'connections',
    'listed twice',
  ],
  [
    'non-https metadata URL',
    saml({ metadataUrl: 'http://idp.acme.com/metadata' }),
    'connections[0].saml.metadataUrl',
    'https://',
  ],
  [
    'file metadata URL',
    saml({ metadataUrl: 'file:///etc/passwd' }),
    'connections[0].saml.metadataUrl',
    'https://',
  ],
  [
    'metadata URL with credentials',
    saml({ metadataUrl: 'https://user:pass@idp.acme.com/' }),
    'connections[0].saml.metadataUrl',
    'without credentials',
  ],
  [
    'XML with a DTD',
    saml({ metadataXml: `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${xml}` }),
    'connections[0].saml.metadataXml',
    'DTD',
  ],
  [
    'XML that is not SAML metadata',
    saml({ metadataXml: '<html/>' }),
    'connections[0].saml.metadataXml',
    'EntityDescriptor',
  ],
  [
    'two SAML sources',
    saml({ metadataXml: xml, metadataUrl: 'https://idp.acme.com/m' }),
    'connections[0].saml',
    'exactly one of',
  ],
  [
    'sign-in endpoint without certificate',
    saml({ signInEndpoint: 'https://idp.acme.com/sso' }),
    'connections[0].saml.signingCert',
    'needs signingCert',
  ],
  [
    'unknown SAML option',
    saml({ metadataXml: xml, debug: true }),
    'connections[0].saml',
    'unknown field(s): debug',
  ],
  [
    'OIDC without client id',
    {
      ...base,
      connections: [{ oidc: { discoveryUrl: 'https://idp.example.com/.well-known/openid-configuration' } }],
    },
    'connections[0]',
    '',
  ],
  [
    'uppercase domain',
    { ...base, connections: [{ saml: { metadataXml: xml }, domains: ['Acme.com'] }] },
    'connections[0].domains[0]',
    'lowercase',
  ],
  [
    'domain with a port',
    { ...base, connections: [{ saml: { metadataXml: xml }, domains: ['acme.com:443'] }] },
    'connections[0].domains[0]',
    'no port or path',
  ],
  [
    'IP address as domain',
    { ...base, connections: [{ saml: { metadataXml: xml }, domains: ['127.0.0.1'] }] },
    'connections[0].domains[0]',
    'not an IP',
  ],
  [
    'single-label domain',
    { ...base, connections: [{ saml: { metadataXml: xml }, domains: ['localhost'] }] },
    'connections[0].domains[0]',
    'two labels',
  ],
  [
    'wildcard domain',
    { ...base, connections: [{ saml: { metadataXml: xml }, domains: ['*.acme.com'] }] },
    'connections[0].domains[0]',
    'ASCII host name',
  ],
  [
    '64-character label',
    { ...base, connections: [{ saml: { metadataXml: xml }, domains: [`${'a'.repeat(64)}.com`] }] },
    'connections[0].domains[0]',
    '1-63',
  ],
  [
    'signup without auto-membership',
    { ...base, isolation: 'isolated-database', connections: [{ database: { signupEnabled: true } }] },
    'connections[0].database.signupEnabled',
    'assignMembershipOnLogin',
  ],
  ['relative callback', app({ callbacks: ['/callback'] }), 'applications[0].callbacks[0]', 'https://'],
  [
    'http callback off localhost',
    app({ callbacks: ['http://acme.example.com/cb'] }),
    'applications[0].callbacks[0]',
    'https://',
  ],
  [
    'javascript URL',
    app({ logoutUrls: ['javascript:alert(1)'] }),
    'applications[0].logoutUrls[0]',
    'https://',
  ],
  [
    '101 callbacks',
    app({ callbacks: Array.from({ length: 101 }, (_, i) => `https://a.example.com/${i}`) }),
    'applications[0].callbacks',
    'at most 100',
  ],
  [
    'repeated URL',
    app({ webOrigins: ['https://a.example.com', 'https://a.example.com'] }),
    'applications[0].webOrigins',
    'must not repeat',
  ],
  [
    'application listed twice',
    { ...base, applications: [{ client: 'A' }, { client: 'A' }] },
    'applications[1].client',
    'listed twice',
  ],
  [
    'bad admin email',
    { ...base, applications: [{ client: 'A' }], admin: { email: 'not-an-email' } },
    'admin.email',
    'email address',
  ],
  [
    'invitation without application',
    { ...base, admin: { email: 'a@acme.com' } },
    'admin.via',
    'at least one',
  ],
  [
    'password ticket without database',
    {
      ...base,
      connections: [{ saml: { metadataXml: xml } }],
      admin: { email: 'a@acme.com', via: 'password-ticket' },
    },
    'admin.via',
    'database',
  ],
];

describe('invalid specs', () => {
  it('has at least 40 cases', () => {
    expect(INVALID.length).toBeGreaterThanOrEqual(40);
  });

  it.each(INVALID)('refuses %s', (_what, spec, path, fragment) => {
    let error: unknown;
    try {
      validateSpecs([spec]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(OrgadminError);
    const { code, details } = error as OrgadminError;
    expect(code).toBe('spec.invalid');
    const issue = details.issues?.find((candidate) => candidate.path === path);
    expect(issue, `issues: ${JSON.stringify(details.issues)}`).toBeDefined();
    expect(issue?.message).toContain(fragment);
  });

  it('names the document of a multi-document file and refuses duplicate organizations', () => {
    expect(() => parseSpecs('name: good\n---\nname: Bad\n')).toThrow(/#2 name: may contain only lowercase/);
    expect(() => parseSpecs('name: twice\n---\nname: twice\n')).toThrow(/appears in more than one document/);
  });
});

describe('redactSecrets', () => {
  it('shows a secret only as set', () => {
    const [spec] = parseSpecs(EXAMPLE);
    const shown = JSON.stringify(redactSecrets(spec!));
    expect(shown).not.toContain('s3cret');
    expect(shown).toContain('"clientSecret":"(set)"');
    expect(shown).toContain('"clientId":"abc"');
    expect(JSON.stringify(spec)).toContain('s3cret');
  });
});
