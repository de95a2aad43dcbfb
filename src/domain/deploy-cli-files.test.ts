/**
 * The repository format: a spec becomes deploy-cli directory files (with no secret in them) and the same files read
 * back give the same organization; hand edits orgadmin would lose are refused, naming the file.
 */
import { describe, expect, it } from 'vitest';

import {
  connectionOwner,
  keywordLikeValues,
  restoreKeywords,
  organizationFiles,
  organizationOfPath,
  readOrganization,
  replaceKeywords,
  secretKeywords,
  type RepoFile,
} from './deploy-cli-files.js';
import { OrgadminError } from './errors.js';
import { connectionKind, type OrgSpecInput } from './org-spec.js';
import { validateSpecs } from './spec-document.js';

const spec = (input: OrgSpecInput) => validateSpecs([input])[0]!;
const xml = '<EntityDescriptor entityID="x"><IDPSSODescriptor/></EntityDescriptor>';

const acme = spec({
  name: 'acme',
  displayName: 'Acme Inc.',
  isolation: 'isolated-database',
  metadata: { plan: 'gold' },
  branding: {
    logoUrl: 'https://acme.example/logo.png',
    colors: { primary: '#112233', pageBackground: '#ffffff' },
  },
  connections: [
    { database: { signupEnabled: true }, assignMembershipOnLogin: true },
    { saml: { metadataXml: xml }, domains: ['acme.example'], showAsButton: false },
    {
      oidc: {
        discoveryUrl: 'https://idp.acme.example/.well-known/openid-configuration',
        clientId: 'c1',
        clientSecret: 's3cr3t-oidc',
      },
    },
    { shared: 'google-oauth2' },
  ],
  applications: [{ client: 'Portal', callbacks: ['https://acme.example/callback'] }],
  admin: { email: 'ada@acme.example' },
  app: { seats: 50 },
});

const reader = (files: RepoFile[]) => {
  const byPath = new Map(files.map((file) => [file.path, file.text]));
  return (path: string) => byPath.get(path);
};

describe('organizationFiles', () => {
  it('writes the organization, its own connections and the sidecar in deploy-cli directory layout', () => {
    const files = organizationFiles(acme);
    expect(files.map((file) => file.path)).toEqual([
      '.orgadmin/organizations/acme.json',
      'connections/acme-oidc.json',
      'connections/acme-saml.json',
      'database-connections/acme-db/database.json',
      'organizations/acme.json',
    ]);
    const org = JSON.parse(files.find((file) => file.path === 'organizations/acme.json')!.text);
    expect(org).toEqual({
      name: 'acme',
      display_name: 'Acme Inc.',
      branding: {
        logo_url: 'https://acme.example/logo.png',
        colors: { primary: '#112233', page_background: '#ffffff' },
      },
      metadata: { plan: 'gold', orgadmin_org: 'acme' },
      connections: [
        { name: 'acme-db', assign_membership_on_login: true, show_as_button: true, is_signup_enabled: true },
        {
          name: 'acme-saml',
          assign_membership_on_login: false,
          show_as_button: false,
          is_signup_enabled: false,
        },
        {
          name: 'acme-oidc',
          assign_membership_on_login: false,
          show_as_button: true,
          is_signup_enabled: false,
        },
        {
          name: 'google-oauth2',
          assign_membership_on_login: false,
          show_as_button: true,
          is_signup_enabled: false,
        },
      ],
    });
    const oidc = JSON.parse(files.find((file) => file.path === 'connections/acme-oidc.json')!.text);
    expect(oidc).toMatchObject({
      strategy: 'oidc',
      options: { client_id: 'c1', client_secret: '@@ORGADMIN_SECRET_ACME_OIDC@@' },
      enabled_clients: ['Portal'],
      metadata: { orgadmin_org: 'acme' },
    });
    // Nothing derived from the secret either (orgadmin's options fingerprint is left to Auth0's metadata).
    expect(Object.keys(oidc.metadata as object)).toEqual(['orgadmin_org']);
  });

  it('never writes a secret', () => {
    const text = organizationFiles(acme)
      .map((file) => file.text)
      .join('\n');
    expect(text).not.toContain('s3cr3t-oidc');
    expect(secretKeywords(acme)).toEqual({ ORGADMIN_SECRET_ACME_OIDC: 's3cr3t-oidc' });
  });
});

describe('readOrganization', () => {
  it('reads back the organization the files were written from', () => {
    const files = organizationFiles(acme);
    const read = readOrganization('acme', reader(files), secretKeywords(acme));
    expect(read).toBeDefined();
    // Defaults the spec left out are explicit after the round trip; the files they render are the same.
    expect(organizationFiles(read!)).toEqual(files);
    expect(read!.connections.map(connectionKind)).toEqual(['database', 'saml', 'oidc', 'shared']);
    expect(read).toMatchObject({
      name: 'acme',
      displayName: 'Acme Inc.',
      isolation: 'isolated-database',
      metadata: { plan: 'gold' },
      admin: { email: 'ada@acme.example' },
      app: { seats: 50 },
    });
    expect(read!.connections[2]).toMatchObject({ oidc: { clientSecret: 's3cr3t-oidc' } });
    expect(read!.connections[1]).toMatchObject({ domains: ['acme.example'], showAsButton: false });
  });

  it('is undefined without an organization file', () => {
    expect(readOrganization('acme', () => undefined)).toBeUndefined();
  });

  it('replaces environment keywords like deploy-cli, and names a keyword without a value', () => {
    const files = organizationFiles(
      spec({
        name: 'beta',
        applications: [{ client: 'Portal', callbacks: ['https://beta.dev.example/cb'] }],
      }),
    ).map((file) => ({ ...file, text: file.text.replace('beta.dev.example', '##APP_HOST##') }));
    const read = readOrganization('beta', reader(files), { APP_HOST: 'beta.prod.example' });
    expect(read!.applications[0]!.callbacks).toEqual(['https://beta.prod.example/cb']);
    expect(() => readOrganization('beta', reader(files), {})).toThrow(/keyword\(s\) APP_HOST/);
    // deploy-cli's own rules: @@KEY@@ (quotes included) as JSON, ##KEY## as raw text.
    expect(replaceKeywords('{"a": "@@LIST@@", "b": @@LIST@@}', 'x.json', { LIST: ['x', 'y'] })).toBe(
      '{"a": ["x","y"], "b": ["x","y"]}',
    );
    expect(replaceKeywords('{"u": "https://##HOST##/cb"}', 'x.json', { HOST: 'a.example' })).toBe(
      '{"u": "https://a.example/cb"}',
    );
  });

  it('refuses hand edits orgadmin would lose, naming the file and the field', () => {
    const files = organizationFiles(acme);
    const edit = (path: string, change: (value: Record<string, unknown>) => void): RepoFile[] =>
      files.map((file) => {
        if (file.path !== path) return file;
        const value = JSON.parse(file.text) as Record<string, unknown>;
        change(value);
        return { path, text: JSON.stringify(value) };
      });
    const problems = (changed: RepoFile[]): string[] => {
      try {
        readOrganization('acme', reader(changed), secretKeywords(acme));
      } catch (error) {
        expect(error).toBeInstanceOf(OrgadminError);
        return ((error as OrgadminError).details.issues ?? []).map(
          (issue) => `${issue.path}: ${issue.message}`,
        );
      }
      return [];
    };
    expect(problems(edit('organizations/acme.json', (org) => (org['token_quota'] = {})))).toEqual([
      'organizations/acme.json: unknown field(s) token_quota (not managed by orgadmin)',
    ]);
    expect(
      problems(
        edit('connections/acme-saml.json', (connection) => {
          (connection['options'] as Record<string, unknown>)['debug'] = true;
        }),
      ),
    ).toEqual([
      'connections/acme-saml.json: differs from what orgadmin writes for this organization (a value it does not manage, or an option it sets differently)',
    ]);
    expect(
      problems(
        edit(
          'organizations/acme.json',
          (org) => ((org['metadata'] as Record<string, unknown>)['orgadmin_org'] = 'evil'),
        ),
      ),
    ).toEqual(["organizations/acme.json metadata.orgadmin_org: must be acme (orgadmin's ownership tag)"]);
    expect(
      problems(edit('.orgadmin/organizations/acme.json', (side) => (side['isolation'] = 'shared')))[0],
    ).toMatch(/^organizations\/acme\.json \(as spec\) connections: isolation "shared"/);
  });
});

describe('keywords and secrets', () => {
  it('a secret with any characters survives the round trip', () => {
    const tricky = spec({
      name: 'quote',
      connections: [
        {
          oidc: {
            discoveryUrl: 'https://idp.example/.well-known/openid-configuration',
            clientId: 'c',
            clientSecret: 'a"b\\c\nd',
          },
        },
      ],
    });
    const read = readOrganization('quote', reader(organizationFiles(tricky)), secretKeywords(tricky));
    expect(read!.connections[0]).toMatchObject({ oidc: { clientSecret: 'a"b\\c\nd' } });
  });

  it('finds values that would read as keywords, naming the field', () => {
    expect(
      keywordLikeValues(
        spec({ name: 'evil', displayName: 'Team ##X##', metadata: { x: '@@ORGADMIN_SECRET_ACME_OIDC@@' } }),
      ),
    ).toEqual([
      { path: 'displayName', message: 'must not contain ##NAME## or @@NAME@@ (deploy-cli keyword markers)' },
      { path: 'metadata.x', message: 'must not contain ##NAME## or @@NAME@@ (deploy-cli keyword markers)' },
    ]);
    expect(keywordLikeValues(acme)).toEqual([]);
  });

  it('keeps a keyword only where the value it stands for is unchanged', () => {
    const previous = JSON.stringify({
      a: 'https://##R##.example/cb',
      b: 'europe',
      c: 'https://##R##.example/x',
    });
    const next = `${JSON.stringify({ a: 'https://eu.example/cb', b: 'europe', c: 'https://eu.example/changed' }, null, 2)}\n`;
    expect(JSON.parse(restoreKeywords(next, previous, { R: 'eu' }))).toEqual({
      a: 'https://##R##.example/cb',
      b: 'europe',
      c: 'https://eu.example/changed',
    });
  });
});

describe('paths', () => {
  it('maps changed paths to organizations', () => {
    expect(organizationOfPath('organizations/acme.json')).toBe('acme');
    expect(organizationOfPath('.orgadmin/organizations/acme.json')).toBe('acme');
    expect(organizationOfPath('connections/acme-saml.json')).toBeUndefined();
    const saml = organizationFiles(acme).find((file) => file.path === 'connections/acme-saml.json')!;
    expect(connectionOwner(saml.text)).toBe('acme');
  });
});
