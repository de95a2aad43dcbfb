/**
 * The planner: create, modify (only the difference), remove (only what the organization owns), never adopting an
 * object someone else created, and the compensation of each step.
 */
import { describe, expect, it } from 'vitest';

import type { OrgSpecInput } from './org-spec.js';
import {
  compensationFor,
  describeStep,
  desiredConnections,
  OPTIONS_TAG,
  OWNER_TAG,
  plan,
  type Observed,
  type ObservedConnection,
  type Step,
} from './plan.js';
import { validateSpecs } from './spec-document.js';

const spec = (input: OrgSpecInput) => validateSpecs([input])[0]!;
const nothing: Observed = { connections: [], clients: [], adminRoleExists: false };
const kinds = (steps: Step[]): string[] => steps.map((step) => step.key);
const xml = '<EntityDescriptor entityID="x"><IDPSSODescriptor/></EntityDescriptor>';

const acme = spec({
  name: 'acme',
  displayName: 'Acme',
  isolation: 'isolated-database',
  connections: [{ database: {}, assignMembershipOnLogin: true }, { shared: 'google-oauth2' }],
  applications: [{ client: 'Portal', callbacks: ['https://acme.example.com/callback'] }],
  admin: { email: 'ada@acme.com', via: 'password-ticket' },
});

/** What Auth0 looks like after `acme` was applied. */
function observedAfter(specToObserve = acme): Observed {
  const owned = new Map(desiredConnections(specToObserve).map((c) => [c.name, c]));
  const connections: ObservedConnection[] = specToObserve.connections.map((entry) => {
    const name = 'shared' in entry ? entry.shared : [...owned.keys()].find((n) => n.endsWith('-db'))!;
    const ownedConnection = owned.get(name);
    const metadata: Record<string, string> = ownedConnection
      ? { [OWNER_TAG]: 'acme', [OPTIONS_TAG]: ownedConnection.fingerprint }
      : {};
    return {
      id: `con_${name}`,
      name,
      strategy: ownedConnection?.strategy ?? 'google-oauth2',
      metadata,
      onOrg: {
        assignMembershipOnLogin: entry.assignMembershipOnLogin ?? false,
        showAsButton: entry.showAsButton ?? true,
        isSignupEnabled: false,
      },
      enabledClientNames: ['Portal'],
    };
  });
  return {
    organization: { id: 'org_1', name: 'acme', displayName: 'Acme', metadata: { [OWNER_TAG]: 'acme' } },
    connections,
    clients: [
      {
        name: 'Portal',
        callbacks: ['https://other.example.com/cb', ...(specToObserve.applications[0]?.callbacks ?? [])],
        logoutUrls: [],
        webOrigins: [],
      },
    ],
    adminRoleExists: true,
    admin: { email: 'ada@acme.com', createdByOrgadmin: true },
  };
}

describe('plan: create', () => {
  it('creates everything in dependency order, the admin last', () => {
    const steps = plan({ desired: acme, applied: undefined, observed: nothing });
    expect(kinds(steps)).toEqual([
      'organization:create',
      'connection:acme-db:create',
      'connection:acme-db:clients',
      'org-connection:acme-db:enable',
      'connection:google-oauth2:clients',
      'org-connection:google-oauth2:enable',
      'client:Portal:urls:add',
      'admin:role',
      'admin:user',
      'admin:member',
      'admin:role-assignment',
      'admin:ticket',
    ]);
    expect(steps.find((s) => s.kind === 'create-admin-user')).toMatchObject({ connectionName: 'acme-db' });
    expect(steps.find((s) => s.kind === 'enable-org-connection')).toMatchObject({
      settings: { assignMembershipOnLogin: true, showAsButton: true, isSignupEnabled: false },
    });
  });

  it('sends an invitation instead when asked, through the first application', () => {
    const invited = spec({
      name: 'beta',
      applications: [{ client: 'Portal' }],
      admin: { email: 'b@beta.com' },
    });
    const steps = plan({
      desired: invited,
      applied: undefined,
      observed: { ...nothing, adminRoleExists: true },
    });
    expect(steps.at(-1)).toEqual({
      kind: 'invite-admin',
      key: 'admin:invite',
      email: 'b@beta.com',
      name: undefined,
      clientName: 'Portal',
      connectionName: undefined,
    });
    expect(kinds(steps)).not.toContain('admin:role');
  });

  it('maps every enterprise kind to its strategy and options, with domains as domain_aliases', () => {
    const enterprise = spec({
      name: 'corp',
      connections: [
        { saml: { metadataXml: xml }, domains: ['corp.com'] },
        {
          oidc: {
            discoveryUrl: 'https://idp.corp.com/.well-known/openid-configuration',
            clientId: 'c',
            clientSecret: 's',
          },
        },
        { azureAd: { domain: 'corp.onmicrosoft.com', clientId: 'c', clientSecret: 's' } },
        { okta: { domain: 'corp.okta.com', clientId: 'c', clientSecret: 's' } },
        { googleWorkspace: { domain: 'corp.com', clientId: 'c', clientSecret: 's' } },
        { adfs: { metadataUrl: 'https://adfs.corp.com/FederationMetadata.xml' } },
      ],
    });
    const connections = desiredConnections(enterprise);
    expect(connections.map((c) => [c.name, c.strategy])).toEqual([
      ['corp-saml', 'samlp'],
      ['corp-oidc', 'oidc'],
      ['corp-azure', 'waad'],
      ['corp-okta', 'okta'],
      ['corp-google', 'google-apps'],
      ['corp-adfs', 'adfs'],
    ]);
    expect(connections[0]!.options).toEqual({ metadataXml: xml, domain_aliases: ['corp.com'] });
    expect(connections[1]!.options).toMatchObject({ type: 'back_channel', client_secret: 's' });
    // Plans are shown to people: a step's description never carries a secret.
    for (const step of plan({ desired: enterprise, applied: undefined, observed: nothing })) {
      expect(describeStep(step)).not.toContain('s3cret');
    }
  });
});

describe('plan: modify', () => {
  it('plans nothing when Auth0 already matches', () => {
    expect(plan({ desired: acme, applied: acme, observed: observedAfter() })).toEqual([]);
  });

  it('applies only the difference', () => {
    const changed = spec({
      ...acme,
      displayName: 'Acme Corporation',
      connections: [...acme.connections, { saml: { metadataXml: xml } }],
      applications: [
        { client: 'Portal', callbacks: ['https://acme.example.com/callback', 'https://acme.example.com/v2'] },
      ],
    });
    const steps = plan({ desired: changed, applied: acme, observed: observedAfter() });
    expect(kinds(steps)).toEqual([
      'organization:update',
      'connection:acme-saml:create',
      'connection:acme-saml:clients',
      'org-connection:acme-saml:enable',
      'client:Portal:urls:add',
    ]);
    expect(steps[0]).toMatchObject({
      changes: { displayName: 'Acme Corporation' },
      previous: { displayName: 'Acme' },
    });
    expect(steps.at(-1)).toMatchObject({ urls: { callbacks: ['https://acme.example.com/v2'] } });
  });

  it('updates a connection whose options changed, found by the fingerprint tag', () => {
    const stricter = spec({
      ...acme,
      connections: [
        { database: { passwordPolicy: 'excellent' }, assignMembershipOnLogin: true },
        { shared: 'google-oauth2' },
      ],
    });
    expect(kinds(plan({ desired: stricter, applied: acme, observed: observedAfter() }))).toEqual([
      'connection:acme-db:update',
    ]);
  });

  it('removes a dropped connection: owned ones are deleted, shared ones only leave the organization', () => {
    const fewer = spec({ ...acme, connections: [{ database: {}, assignMembershipOnLogin: true }] });
    expect(kinds(plan({ desired: fewer, applied: acme, observed: observedAfter() }))).toEqual([
      'org-connection:google-oauth2:disable',
    ]);
  });

  it('takes off only its own URLs that it no longer wants, never another organization’s', () => {
    const noUrls = spec({ ...acme, applications: [{ client: 'Portal' }] });
    const steps = plan({ desired: noUrls, applied: acme, observed: observedAfter() });
    expect(steps).toEqual([
      {
        kind: 'remove-client-urls',
        key: 'client:Portal:urls:remove',
        clientName: 'Portal',
        urls: { callbacks: ['https://acme.example.com/callback'], logoutUrls: [], webOrigins: [] },
      },
    ]);
  });

  it('plans URL steps from the specs alone when the lists were not read (a run: the reconciler takes the difference)', () => {
    const unread = { ...observedAfter(), clients: undefined };
    // Re-applying the same spec re-asserts its URLs, so one deleted by hand comes back; no hook hears of it.
    const hooks = [{ name: 'app', phases: ['before-auth0', 'after-auth0'] as const }];
    expect(plan({ desired: acme, applied: acme, observed: unread, hooks })).toEqual([
      {
        kind: 'add-client-urls',
        key: 'client:Portal:urls:add',
        clientName: 'Portal',
        urls: { callbacks: ['https://acme.example.com/callback'], logoutUrls: [], webOrigins: [] },
      },
    ]);
    const moved = spec({
      ...acme,
      applications: [
        {
          client: 'Portal',
          callbacks: ['https://acme.example.com/v2'],
          logoutUrls: ['https://acme.example.com'],
        },
      ],
    });
    expect(plan({ desired: moved, applied: acme, observed: unread })).toEqual([
      {
        kind: 'add-client-urls',
        key: 'client:Portal:urls:add',
        clientName: 'Portal',
        urls: {
          callbacks: ['https://acme.example.com/v2'],
          logoutUrls: ['https://acme.example.com'],
          webOrigins: [],
        },
      },
      {
        kind: 'remove-client-urls',
        key: 'client:Portal:urls:remove',
        clientName: 'Portal',
        urls: { callbacks: ['https://acme.example.com/callback'], logoutUrls: [], webOrigins: [] },
      },
    ]);
    // Read lists narrow the same change to what is missing and what is there (a plan shown to people).
    expect(
      plan({ desired: moved, applied: acme, observed: observedAfter() }).map(
        (step) => 'urls' in step && step.urls,
      ),
    ).toEqual([
      {
        callbacks: ['https://acme.example.com/v2'],
        logoutUrls: ['https://acme.example.com'],
        webOrigins: [],
      },
      { callbacks: ['https://acme.example.com/callback'], logoutUrls: [], webOrigins: [] },
    ]);
    const gone = { ...observedAfter(), clients: [] };
    expect(kinds(plan({ desired: moved, applied: acme, observed: gone }))).toEqual([
      'client:Portal:urls:add',
    ]);
  });

  it('never adopts an object with the derived name that orgadmin did not create for this organization', () => {
    const observed = observedAfter();
    observed.connections[0] = { ...observed.connections[0]!, metadata: { [OWNER_TAG]: 'someone-else' } };
    expect(kinds(plan({ desired: acme, applied: acme, observed }))).toContain('connection:acme-db:create');
  });
});

describe('plan: remove', () => {
  it('deprovisions in reverse and leaves shared objects and foreign URLs alone', () => {
    const steps = plan({ desired: undefined, applied: acme, observed: observedAfter() });
    expect(kinds(steps)).toEqual([
      'client:Portal:urls:remove',
      'admin:delete',
      'org-connection:acme-db:disable',
      'org-connection:google-oauth2:disable',
      'connection:acme-db:delete',
      'organization:delete',
    ]);
    expect(steps[0]).toMatchObject({ urls: { callbacks: ['https://acme.example.com/callback'] } });
  });

  it('takes off every URL of its applied spec when the lists were not read, and none of a missing client when they were', () => {
    const unread = plan({
      desired: undefined,
      applied: acme,
      observed: { ...observedAfter(), clients: undefined },
    });
    expect(unread[0]).toEqual({
      kind: 'remove-client-urls',
      key: 'client:Portal:urls:remove',
      clientName: 'Portal',
      urls: { callbacks: ['https://acme.example.com/callback'], logoutUrls: [], webOrigins: [] },
    });
    const gone = plan({ desired: undefined, applied: acme, observed: { ...observedAfter(), clients: [] } });
    expect(kinds(gone)).not.toContain('client:Portal:urls:remove');
  });

  it('does not delete an organization it did not create', () => {
    const observed = observedAfter();
    observed.organization = { ...observed.organization!, metadata: {} };
    expect(kinds(plan({ desired: undefined, applied: acme, observed }))).not.toContain('organization:delete');
  });
});

describe('compensationFor', () => {
  it('undoes what can be undone and leaves the rest', () => {
    const steps = plan({ desired: acme, applied: undefined, observed: nothing });
    const undo = steps.map((step) => compensationFor(step)?.key ?? null);
    expect(undo).toEqual([
      'organization:delete',
      'connection:acme-db:delete',
      null,
      'org-connection:acme-db:disable',
      null,
      'org-connection:google-oauth2:disable',
      'client:Portal:urls:restore',
      null,
      'admin:delete',
      null,
      null,
      null,
    ]);
    const update = plan({
      desired: spec({ ...acme, displayName: 'New' }),
      applied: acme,
      observed: observedAfter(),
    })[0]!;
    expect(compensationFor(update)).toMatchObject({
      changes: { displayName: 'Acme' },
      previous: { displayName: 'New' },
    });
  });

  it('takes off only the URLs the add step really put on the client', () => {
    const add: Step = {
      kind: 'add-client-urls',
      key: 'client:Portal:urls:add',
      clientName: 'Portal',
      urls: {
        callbacks: ['https://acme.example.com/callback', 'https://acme.example.com/v2'],
        logoutUrls: ['https://acme.example.com'],
        webOrigins: [],
      },
    };
    const addedUrls = { callbacks: ['https://acme.example.com/v2'], logoutUrls: [], webOrigins: [] };
    expect(compensationFor(add, { addedUrls })).toEqual({
      kind: 'remove-client-urls',
      key: 'client:Portal:urls:restore',
      clientName: 'Portal',
      urls: addedUrls,
    });
    // Everything was there already: nothing to undo.
    const none = { callbacks: [], logoutUrls: [], webOrigins: [] };
    expect(compensationFor(add, { addedUrls: none })).toBeUndefined();
    // A step journaled before results were kept listed only the missing URLs: those.
    expect(compensationFor(add)).toMatchObject({ kind: 'remove-client-urls', urls: add.urls });
  });
});

describe('plan: application hooks', () => {
  const hooks = [
    { name: 'app', phases: ['before-auth0', 'after-auth0', 'on-remove', 'on-compensate'] as const },
    { name: 'crm', phases: ['after-auth0'] as const },
  ];

  it('calls before-auth0 hooks first and after-auth0 hooks just before the pivot', () => {
    expect(kinds(plan({ desired: acme, applied: undefined, observed: nothing, hooks }))).toEqual([
      'hook:app:before-auth0',
      'organization:create',
      'connection:acme-db:create',
      'connection:acme-db:clients',
      'org-connection:acme-db:enable',
      'connection:google-oauth2:clients',
      'org-connection:google-oauth2:enable',
      'client:Portal:urls:add',
      'admin:role',
      'admin:user',
      'admin:member',
      'admin:role-assignment',
      'hook:app:after-auth0',
      'hook:crm:after-auth0',
      'admin:ticket',
    ]);
    const invited = spec({ ...acme, admin: { email: 'ada@acme.com', via: 'invitation' } });
    expect(kinds(plan({ desired: invited, applied: undefined, observed: nothing, hooks })).slice(-3)).toEqual(
      ['hook:app:after-auth0', 'hook:crm:after-auth0', 'admin:invite'],
    );
  });

  it('calls no hook when an apply changes nothing, and calls them when only the spec changed', () => {
    expect(plan({ desired: acme, applied: acme, observed: observedAfter(), hooks })).toEqual([]);
    const withApp = spec({ ...acme, app: { plan: 'gold' } });
    expect(kinds(plan({ desired: withApp, applied: acme, observed: observedAfter(), hooks }))).toEqual([
      'hook:app:before-auth0',
      'hook:app:after-auth0',
      'hook:crm:after-auth0',
    ]);
  });

  it('calls on-remove hooks first in a removal, while the Auth0 objects still exist', () => {
    const steps = plan({ desired: undefined, applied: acme, observed: observedAfter(), hooks });
    expect(kinds(steps)[0]).toBe('hook:app:on-remove');
    expect(kinds(steps).filter((key) => key.startsWith('hook:'))).toEqual(['hook:app:on-remove']);
  });

  it('undoes an accepted call with on-compensate only for hooks that subscribe to it', () => {
    const [app, crm] = plan({ desired: acme, applied: undefined, observed: nothing, hooks }).filter(
      (step) => step.kind === 'call-hook' && step.phase === 'after-auth0',
    );
    expect(compensationFor(app!)).toEqual({
      kind: 'call-hook',
      key: 'hook:app:on-compensate:after-auth0',
      hook: 'app',
      phase: 'on-compensate',
      compensate: false,
      compensates: 'after-auth0',
    });
    expect(describeStep(compensationFor(app!)!)).toBe(
      'call application hook app (on-compensate, undoing after-auth0)',
    );
    expect(compensationFor(crm!)).toBeUndefined();
  });
});
