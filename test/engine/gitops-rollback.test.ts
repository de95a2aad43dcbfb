/**
 * Issue 5, acceptance 4 and 5: a rollback to an earlier revision removes what came after it, restores what changed
 * and recreates what was deleted, leaving an unrelated organization, application and connection of the tenant
 * untouched; and a real `orgadmin deploy` process killed half-way is resumed by the next deploy, which converges
 * without duplicates.
 */
import type { ManagementClient } from 'auth0';
import { beforeAll, describe, expect, it } from 'vitest';

import { managementWritesSince, requestLogLength, type TestAuth0Local } from '../helpers/auth0-local.js';
import { orgadminCli } from '../helpers/cli.js';
import { useTestGitops, type TestGitops } from '../helpers/gitops.js';

const file = useTestGitops();
let local: TestAuth0Local;
let setup: TestGitops;
let api: ManagementClient;
const ada = 'ada@acme.example';

beforeAll(async () => {
  ({ local, setup, api } = file);
  await api.clients.create({
    name: 'Portal',
    app_type: 'regular_web',
    callbacks: ['https://portal.example/cb'],
  });
});

async function organizations(): Promise<Map<string, { id: string; displayName: string | undefined }>> {
  const found = new Map<string, { id: string; displayName: string | undefined }>();
  for await (const org of await api.organizations.list({ take: 50 }))
    found.set(org.name!, { id: org.id!, displayName: org.display_name });
  return found;
}

async function connectionNames(): Promise<string[]> {
  const names: string[] = [];
  for await (const connection of await api.connections.list({ take: 100 })) names.push(connection.name!);
  return names.sort();
}

describe('rollback', () => {
  it('goes back to an earlier revision and leaves what orgadmin does not own untouched', async () => {
    // Someone else's objects in the same tenant.
    const legacyApp = await api.clients.create({
      name: 'Legacy App',
      app_type: 'spa',
      callbacks: ['https://legacy.example/cb'],
    });
    const legacyDb = await api.connections.create({
      name: 'legacy-db',
      strategy: 'auth0',
      enabled_clients: [legacyApp.client_id!],
    });
    const legacyOrg = await api.organizations.create({ name: 'legacy', display_name: 'Legacy' });
    await api.organizations.enabledConnections.add(legacyOrg.id!, {
      connection_id: legacyDb.id!,
      assign_membership_on_login: false,
    });
    const unrelated = async () => ({
      org: await api.organizations.get(legacyOrg.id!),
      links: (await api.organizations.enabledConnections.list(legacyOrg.id!)).data,
      client: await api.clients.get(legacyApp.client_id!),
      connection: await api.connections.get(legacyDb.id!),
    });
    const untouched = await unrelated();

    const { service, gitops, git } = setup;
    await service.commits.create(
      {
        name: 'acme',
        displayName: 'Acme',
        isolation: 'isolated-database',
        connections: [{ database: {} }],
        applications: [{ client: 'Portal', callbacks: ['https://acme.portal.example/cb'] }],
      },
      ada,
    );
    await service.commits.create({ name: 'beta', displayName: 'Beta' }, ada);
    const first = await gitops.deploy({ actor: 'ci' });
    expect(first.deployment?.state).toBe('succeeded');
    const betaBefore = (await organizations()).get('beta')!;

    await service.commits.patch('acme', { displayName: 'Acme 2', metadata: { tier: 'gold' } }, ada);
    await service.commits.remove('beta', ada);
    await service.commits.create(
      { name: 'gamma', isolation: 'isolated-database', connections: [{ database: {} }] },
      ada,
    );
    expect((await gitops.deploy({ actor: 'ci' })).deployment?.state).toBe('succeeded');
    expect([...(await organizations()).keys()].sort()).toEqual(['acme', 'gamma', 'legacy']);

    // The plan first: nothing is committed or written.
    const head = git('rev-parse', 'main').trim();
    const before = requestLogLength(local);
    const preview = await gitops.rollback({ to: first.toRevision, actor: ada, dryRun: true });
    expect(managementWritesSince(local, before)).toEqual([]);
    expect(git('rev-parse', 'main').trim()).toBe(head);
    expect(preview.plan.organizations.map((entry) => [entry.name, entry.action])).toEqual([
      ['acme', 'apply'],
      ['beta', 'apply'],
      ['gamma', 'remove'],
    ]);
    expect(preview.recreated).toEqual(['beta']);

    const result = await gitops.rollback({ to: first.toRevision, actor: ada, reason: 'bad release' });
    expect(result.commit?.subject).toBe(
      `Roll back organizations to ${first.toRevision.slice(0, 12)} (Create organization beta)`,
    );
    expect(result.deployed?.deployment?.state).toBe('succeeded');
    // The organizations' files are those of the earlier revision again.
    expect(
      git(
        'diff',
        '--name-only',
        first.toRevision,
        'main',
        '--',
        'organizations',
        'connections',
        'database-connections',
        '.orgadmin/organizations',
      ),
    ).toBe('');

    const after = await organizations();
    expect([...after.keys()].sort()).toEqual(['acme', 'beta', 'legacy']);
    expect(after.get('acme')!.displayName).toBe('Acme');
    expect((await api.organizations.get(after.get('acme')!.id)).metadata).not.toHaveProperty('tier');
    // Recreated, so with a new id (the plan said so).
    expect(after.get('beta')!.id).not.toBe(betaBefore.id);
    expect(await connectionNames()).not.toContain('gamma-db');
    expect(await connectionNames()).toContain('acme-db');
    expect(await unrelated()).toEqual(untouched);
  });
});

describe('a deploy killed half-way', () => {
  it('is resumed by the next deploy, which converges without duplicates', { timeout: 120_000 }, async () => {
    const { service, gitops } = setup;
    const names = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'];
    for (const name of names)
      await service.commits.create(
        {
          name,
          isolation: 'isolated-database',
          connections: [{ database: {} }],
          applications: [{ client: 'Portal', callbacks: [`https://${name}.portal.example/cb`] }],
        },
        ada,
      );
    const cli = orgadminCli(() => setup.env);
    // Killed right after Auth0 created k3's database connection, before orgadmin recorded it.
    const crashed = await orgadminCliWithCrash('k3-db');
    expect(crashed.code).toBeNull();
    expect(crashed.stderr).toContain('SIGKILL at connection:k3-db:create@after-call');
    const interrupted = (await gitops.history(1)).deployments[0]!;
    expect(interrupted.state).toBe('running');

    const resumed = await cli('deploy');
    expect(resumed.stderr).toContain(`finishing`);
    expect(resumed.code).toBe(0);
    const deployments = (await gitops.history(5)).deployments;
    expect(deployments[0]).toMatchObject({ state: 'succeeded' });
    expect(deployments.find((deployment) => deployment.id === interrupted.id)?.state).toBe('failed');

    const orgs = await organizations();
    for (const name of names) expect(orgs.has(name), name).toBe(true);
    const connections = await connectionNames();
    for (const name of names)
      expect(connections.filter((connection) => connection === `${name}-db`)).toHaveLength(1);
    const portal = (await api.clients.list({ per_page: 50 })).data.find(
      (client) => client.name === 'Portal',
    )!;
    for (const name of names) expect(portal.callbacks).toContain(`https://${name}.portal.example/cb`);
  });
});

function orgadminCliWithCrash(connection: string) {
  return orgadminCli(() => ({
    ...setup.env,
    ORGADMIN_TEST_CRASH: `connection:${connection}:create@after-call`,
  }))('deploy');
}
