/**
 * `orgadmin gitops init --from-tenant` (issue 5, "Import"): a new repository written from the tenant — orgadmin's
 * own organizations, and with --adopt others too — that the next deploy and drift find already in place.
 */
import type { ManagementClient } from 'auth0';
import { beforeAll, describe, expect, it } from 'vitest';

import { desiredConnections } from '../../src/domain/plan.js';
import { validateSpecs } from '../../src/domain/spec-document.js';
import { managementWritesSince, type TestAuth0Local, requestLogLength } from '../helpers/auth0-local.js';
import { orgadminCli } from '../helpers/cli.js';
import { useTestGitops, type TestGitops } from '../helpers/gitops.js';
import { samlMetadataXml } from '../helpers/saml.js';

const file = useTestGitops();
let local: TestAuth0Local;
let setup: TestGitops;
let api: ManagementClient;

beforeAll(() => {
  ({ local, setup, api } = file);
});

async function enable(
  orgId: string,
  connectionName: string,
  settings: { assign_membership_on_login: boolean },
) {
  const connection = (await api.connections.list({ name: connectionName, take: 1 })).data[0]!;
  await api.organizations.enabledConnections.add(orgId, { connection_id: connection.id!, ...settings });
}

describe('gitops init --from-tenant', () => {
  it('imports orgadmin’s organizations, adopts others on request, and leaves what it cannot read back', async () => {
    // Made by orgadmin elsewhere (tagged), with its own database connection.
    const tagged = await api.organizations.create({
      name: 'tagged',
      display_name: 'Tagged Ltd',
      metadata: { orgadmin_org: 'tagged', plan: 'gold' },
    });
    // The connection exactly as orgadmin creates one: its options and their fingerprint tag.
    const [own] = desiredConnections(
      validateSpecs([
        {
          name: 'tagged',
          isolation: 'isolated-database',
          connections: [{ database: { passwordPolicy: 'excellent' } }],
        },
      ])[0]!,
    );
    await api.connections.create({
      name: own!.name,
      strategy: 'auth0',
      options: own!.options,
      metadata: { orgadmin_org: 'tagged', orgadmin_options: own!.fingerprint },
    });
    await enable(tagged.id!, 'tagged-db', { assign_membership_on_login: true });
    // Made by hand: untagged, on the shared database.
    const legacy = await api.organizations.create({ name: 'legacy', display_name: 'Legacy' });
    await enable(legacy.id!, 'Username-Password-Authentication', { assign_membership_on_login: false });
    // orgadmin's, but with an enterprise connection whose options Auth0 does not give back in full.
    const sso = await api.organizations.create({ name: 'sso', metadata: { orgadmin_org: 'sso' } });
    await api.connections.create({
      name: 'sso-saml',
      strategy: 'samlp',
      options: { metadataXml: samlMetadataXml() },
      metadata: { orgadmin_org: 'sso' },
    });
    await enable(sso.id!, 'sso-saml', { assign_membership_on_login: false });

    const { gitops, service, git } = setup;
    const before = requestLogLength(local);
    const preview = await gitops.init({ fromTenant: true, dryRun: true, actor: 'ada@acme.example' });
    expect(preview.imported).toEqual([{ name: 'tagged', from: 'tenant', adopted: false }]);
    expect(preview.skipped).toEqual([
      { name: 'legacy', reason: 'not created by orgadmin (--adopt takes it over)' },
      { name: 'sso', reason: expect.stringContaining('own samlp connection sso-saml cannot be read back') },
    ]);
    expect(managementWritesSince(local, before)).toEqual([]);
    expect(await gitops.repository.head()).toBeUndefined();

    const cli = orgadminCli(() => setup.env);
    const done = await cli('gitops', 'init', '--from-tenant', '--adopt', '--json');
    expect(done.code).toBe(0);
    const report = JSON.parse(done.stdout) as { imported: unknown[]; commit: { subject: string } };
    expect(report.imported).toEqual([
      { name: 'legacy', from: 'tenant', adopted: true },
      { name: 'tagged', from: 'tenant', adopted: false },
    ]);
    expect(report.commit.subject).toBe('Import 2 organization(s)');
    expect(git('ls-tree', '-r', '--name-only', 'main').trim().split('\n')).toEqual([
      '.orgadmin/manifest.json',
      '.orgadmin/organizations/legacy.json',
      '.orgadmin/organizations/tagged.json',
      'database-connections/tagged-db/database.json',
      'organizations/legacy.json',
      'organizations/tagged.json',
    ]);
    expect(await gitops.current('tagged')).toMatchObject({
      displayName: 'Tagged Ltd',
      isolation: 'isolated-database',
      metadata: { plan: 'gold' },
      connections: [{ database: { passwordPolicy: 'excellent' }, assignMembershipOnLogin: true }],
    });
    // Adopted: tagged in the tenant now, so plans may change it.
    expect((await api.organizations.getByName('legacy')).metadata).toMatchObject({ orgadmin_org: 'legacy' });
    // A second init refuses: the repository is no longer empty.
    await expect(gitops.init({ actor: 'ada@acme.example' })).rejects.toThrow(/already holds 2 organization/);

    // The repository is what the tenant holds: nothing to deploy, nothing drifted.
    const quiet = requestLogLength(local);
    expect((await gitops.deploy({ actor: 'ci' })).organizations).toEqual([]);
    expect((await gitops.drift()).drifted).toEqual([]);
    expect(managementWritesSince(local, quiet)).toEqual([]);

    // And an adopted organization is managed like any other.
    await service.commits.patch('legacy', { displayName: 'Legacy, adopted' }, 'ada@acme.example');
    expect((await gitops.deploy({ actor: 'ci' })).deployment?.state).toBe('succeeded');
    expect((await api.organizations.getByName('legacy')).display_name).toBe('Legacy, adopted');
  });
});
