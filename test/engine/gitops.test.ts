/**
 * GitOps mode (issue 5) against auth0-local and a local bare repository: changes become commits with the operator
 * as author; `deploy` brings the tenant to the repository's state with the durable engine, incrementally; a second
 * deploy and a dry run write nothing; one deployment per environment at a time.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ManagementClient } from 'auth0';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';

import { createPostgresGitopsState } from '../../src/adapters/postgres/postgres-gitops.js';
import { loadSecretBox } from '../../src/adapters/postgres/secret-box.js';
import { OrgadminError } from '../../src/domain/errors.js';
import type { OrganizationService } from '../../src/services/organizations.js';
import type { GitopsService } from '../../src/services/gitops.js';
import { managementWritesSince, requestLogLength, type TestAuth0Local } from '../helpers/auth0-local.js';
import { orgadminCli } from '../helpers/cli.js';
import { samlMetadataXml } from '../helpers/saml.js';
import { useTestGitops, type TestGitops } from '../helpers/gitops.js';

const file = useTestGitops();
let local: TestAuth0Local;
let setup: TestGitops;
let gitops: GitopsService;
let service: OrganizationService;
let git: TestGitops['git'];
let api: ManagementClient;

const ada = 'ada@acme.example';
const XML = samlMetadataXml('https://idp.gamma.example/');

beforeAll(async () => {
  ({ local, setup, api } = file);
  ({ gitops, service, git } = setup);
  await api.clients.create({
    name: 'Portal',
    app_type: 'regular_web',
    callbacks: ['https://portal.example/cb'],
  });
});

async function tenantOrganizations(): Promise<string[]> {
  const names: string[] = [];
  for await (const org of await api.organizations.list({ take: 50 })) names.push(org.name ?? '');
  return names.sort();
}

describe('GitOps mode', () => {
  it('commits each change with the operator as author; deploy brings the tenant to the repository; a second deploy writes nothing', async () => {
    await service.commits.create(
      {
        name: 'acme',
        displayName: 'Acme',
        isolation: 'isolated-database',
        connections: [{ database: {}, assignMembershipOnLogin: true }],
        applications: [{ client: 'Portal', callbacks: ['https://acme.portal.example/cb'] }],
      },
      ada,
      'Signed 2026-11-30',
    );
    await service.commits.create({ name: 'beta', displayName: 'Beta' }, ada);
    await service.commits.create(
      {
        name: 'gamma',
        connections: [
          { saml: { metadataXml: XML }, domains: ['gamma.example'] },
          {
            oidc: {
              discoveryUrl: 'https://login.gamma.example/.well-known/openid-configuration',
              clientId: 'gamma-client',
              clientSecret: 'gamma-oidc-secret-value',
            },
          },
        ],
      },
      'bob@acme.example',
    );
    await service.commits.patch('beta', { displayName: 'Beta Corp' }, ada);
    await service.commits.remove('gamma', 'bob@acme.example', 'Contract ended');

    // The same bad input live mode refuses is refused here, before anything is committed.
    await expect(service.commits.create({ name: 'Bad Name' }, ada)).rejects.toMatchObject({
      code: 'spec.invalid',
    });
    await expect(service.commits.create({ name: 'beta' }, ada)).rejects.toMatchObject({ code: 'org.exists' });
    await expect(service.create({ name: 'delta' }, ada)).rejects.toMatchObject({ code: 'mode.mismatch' });

    const log = git('log', '--format=%an <%ae>|%s', 'main').trim().split('\n');
    expect(log).toEqual([
      'bob@acme.example <bob@acme.example>|Delete organization gamma',
      'ada@acme.example <ada@acme.example>|Update organization beta',
      'bob@acme.example <bob@acme.example>|Create organization gamma',
      'ada@acme.example <ada@acme.example>|Create organization beta',
      'ada@acme.example <ada@acme.example>|Create organization acme',
    ]);
    const first = git('log', '--reverse', '--format=%B%x00', 'main').split('\0')[0]!;
    expect(first).toContain('Reason: Signed 2026-11-30');
    expect(first).toContain('+ database-connections/acme-db/database.json');
    expect(git('show', 'main~2:connections/gamma-oidc.json')).toContain('"@@ORGADMIN_SECRET_GAMMA_OIDC@@"');
    // No secret ever reached the repository, in any revision.
    expect(git('log', '-p', '--all')).not.toContain('gamma-oidc-secret-value');
    expect(git('ls-tree', '-r', '--name-only', 'main').trim().split('\n')).toEqual([
      '.orgadmin/manifest.json',
      '.orgadmin/organizations/acme.json',
      '.orgadmin/organizations/beta.json',
      'database-connections/acme-db/database.json',
      'organizations/acme.json',
      'organizations/beta.json',
    ]);

    const before = requestLogLength(local);
    const result = await gitops.deploy({ actor: 'ci' });
    expect(result.deployment).toMatchObject({ state: 'succeeded', fromRevision: undefined });
    expect(result.runs.map((run) => [run.orgName, run.state])).toEqual([
      ['acme', 'succeeded'],
      ['beta', 'succeeded'],
    ]);
    expect(await tenantOrganizations()).toEqual(['acme', 'beta']);
    const acme = await api.organizations.getByName('acme');
    expect(acme.display_name).toBe('Acme');
    const beta = await api.organizations.getByName('beta');
    expect(beta.display_name).toBe('Beta Corp');
    const links: string[] = [];
    for await (const link of await api.organizations.enabledConnections.list(acme.id!))
      links.push(link.connection?.name ?? '');
    expect(links).toEqual(['acme-db']);
    const portal = (await api.clients.list({ per_page: 50 })).data.find(
      (client) => client.name === 'Portal',
    )!;
    expect(portal.callbacks).toEqual(['https://portal.example/cb', 'https://acme.portal.example/cb']);
    expect(managementWritesSince(local, before).length).toBeGreaterThan(0);

    const manifest = JSON.parse(git('show', 'main:.orgadmin/manifest.json')) as {
      environments: Record<string, { revision: string; deployedBy: string }>;
    };
    expect(manifest.environments['default']).toMatchObject({ revision: result.toRevision, deployedBy: 'ci' });

    const again = requestLogLength(local);
    const second = await gitops.deploy({ actor: 'ci' });
    expect(second.organizations).toEqual([]);
    expect(second.deployment).toMatchObject({ state: 'succeeded', fromRevision: result.toRevision });
    expect(managementWritesSince(local, again)).toEqual([]);
  });

  it('deploys only what changed since the deployed revision; removing an organization removes it from the tenant', async () => {
    await service.commits.patch('acme', { displayName: 'Acme Inc.' }, ada);
    await service.commits.remove('beta', ada);
    const before = requestLogLength(local);
    const result = await gitops.deploy({ actor: 'ci' });
    expect(result.organizations.map((entry) => [entry.name, entry.action])).toEqual([
      ['acme', 'apply'],
      ['beta', 'remove'],
    ]);
    expect(result.deployment?.state).toBe('succeeded');
    expect(await tenantOrganizations()).toEqual(['acme']);
    expect((await api.organizations.getByName('acme')).display_name).toBe('Acme Inc.');
    expect(managementWritesSince(local, before).sort()).toEqual([
      expect.stringMatching(/^DELETE \/api\/v2\/organizations\/org_/),
      expect.stringMatching(/^PATCH \/api\/v2\/organizations\/org_/),
    ]);
  });

  it('a dry run shows each changed organization’s plan and writes nothing', async () => {
    await service.commits.patch('acme', { metadata: { tier: 'gold' } }, ada);
    const deployed = await gitops.history(1);
    const before = requestLogLength(local);
    const result = await gitops.deploy({ actor: 'ci', dryRun: true });
    expect(result.dryRun).toBe(true);
    expect(result.organizations).toEqual([
      {
        name: 'acme',
        action: 'apply',
        steps: expect.arrayContaining([expect.objectContaining({ kind: 'update-organization' })]),
      },
    ]);
    expect(managementWritesSince(local, before)).toEqual([]);
    expect((await gitops.history(1)).deployments[0]).toEqual(deployed.deployments[0]);
    // The real deploy afterwards does what the dry run showed (a run also re-asserts the spec's URLs on shared
    // applications; the reconciler writes them only when one is missing, which the dry run read and found none).
    const real = await gitops.deploy({ actor: 'ci' });
    const kinds = (steps: { kind: string }[]) =>
      steps.map((step) => step.kind).filter((kind) => kind !== 'add-client-urls');
    expect(kinds(real.organizations[0]!.steps)).toEqual(kinds(result.organizations[0]!.steps));
    expect((await api.organizations.getByName('acme')).metadata).toMatchObject({ tier: 'gold' });
  });

  it('refuses a deployment while another session holds the environment lock, and runs once it is released', async () => {
    const holder = new pg.Pool({ connectionString: file.database.url, max: 1 });
    holder.on('error', () => undefined);
    const state = createPostgresGitopsState(holder, {
      secrets: loadSecretBox({ home: mkdtempSync(join(tmpdir(), 'orgadmin-secrets-')) }),
    });
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked = (): void => undefined;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = state.tryWithDeployLock('default', async () => {
      locked();
      await held;
    });
    await isLocked;
    const refused = await gitops.deploy({ actor: 'ci' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OrgadminError);
    expect((refused as OrgadminError).code).toBe('deploy.locked');
    release();
    await holding;
    await holder.end();
    await expect(gitops.deploy({ actor: 'ci' })).resolves.toMatchObject({ organizations: [] });
  });

  it('drift lists what differs between the deployed revision and the tenant, and changes nothing', async () => {
    expect(await gitops.drift()).toMatchObject({ compared: 1, drifted: [] });
    // Someone edits the tenant by hand: renames acme and takes its database connection off the organization.
    const acme = await api.organizations.getByName('acme');
    await api.organizations.update(acme.id!, { display_name: 'Renamed by hand' });
    const [link] = (await api.organizations.enabledConnections.list(acme.id!)).data;
    await api.organizations.enabledConnections.delete(acme.id!, link!.connection_id!);
    const before = requestLogLength(local);
    const report = await gitops.drift();
    expect(managementWritesSince(local, before)).toEqual([]);
    expect(report.drifted).toEqual([
      {
        name: 'acme',
        action: 'apply',
        steps: [
          expect.objectContaining({ kind: 'update-organization' }),
          expect.objectContaining({
            kind: 'enable-org-connection',
            description: expect.stringContaining('acme-db'),
          }),
        ],
      },
    ]);
    const cli = orgadminCli(() => setup.env);
    const drift = await cli('drift', '--json');
    expect(drift.code).toBe(1);
    expect(
      (JSON.parse(drift.stdout) as { drifted: { name: string }[] }).drifted.map((entry) => entry.name),
    ).toEqual(['acme']);
  });

  it('the CLI commits in GitOps mode too: org apply and org delete', async () => {
    const cli = orgadminCli(() => setup.env);
    const dir = mkdtempSync(join(tmpdir(), 'orgadmin-specs-'));
    writeFileSync(join(dir, 'zeta.yaml'), 'name: zeta\ndisplayName: Zeta\n');
    const applied = await cli('org', 'apply', '-f', join(dir, 'zeta.yaml'), '--reason', 'from the CLI');
    expect(applied.stderr).toContain('orgadmin deploy');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/^zeta: committed [0-9a-f]{12} Create organization zeta$/m);
    expect(git('log', '-1', '--format=%an|%B', 'main')).toMatch(
      /^cli:.*\|Create organization zeta[\s\S]*Reason: from the CLI/,
    );
    const again = await cli('org', 'apply', '-f', join(dir, 'zeta.yaml'));
    expect(again.stdout.trim()).toBe('zeta: unchanged');
    const deleted = await cli('org', 'delete', 'zeta');
    expect(deleted.stdout).toMatch(/^zeta: committed [0-9a-f]{12} Delete organization zeta$/m);
    expect(git('ls-tree', '--name-only', 'main', 'organizations/')).not.toContain('zeta');
  });

  it('refuses values that would read as deploy-cli keywords, naming the field, before committing', async () => {
    const head = git('rev-parse', 'main').trim();
    const refused = await service.commits
      .create(
        { name: 'evil', displayName: 'Team ##X##', metadata: { x: '@@ORGADMIN_SECRET_GAMMA_OIDC@@' } },
        ada,
      )
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({
      code: 'spec.invalid',
      details: {
        issues: [
          { path: 'displayName', message: expect.stringContaining('##NAME##') },
          { path: 'metadata.x', message: expect.stringContaining('@@NAME@@') },
        ],
      },
    });
    expect(git('rev-parse', 'main').trim()).toBe(head);
  });

  it('two edits of one organization at once both land: each is made on the head the other left', async () => {
    await service.commits.create({ name: 'twice', displayName: 'Twice' }, ada);
    await Promise.all([
      service.commits.patch('twice', { displayName: 'Twice Inc.' }, ada),
      service.commits.patch('twice', { metadata: { tier: 'gold' } }, 'bob@acme.example'),
    ]);
    expect(await gitops.current('twice')).toMatchObject({
      displayName: 'Twice Inc.',
      metadata: { tier: 'gold' },
    });
  });

  it('a new secret is no commit, yet the next deployment writes it; older revisions stay deployable', async () => {
    const oidc = (clientSecret: string) => ({
      oidc: {
        discoveryUrl: 'https://login.sec.example/.well-known/openid-configuration',
        clientId: 'sec-client',
        clientSecret,
      },
    });
    await service.commits.create({ name: 'sec', connections: [oidc('first-secret-value')] }, ada);
    const first = await gitops.deploy({ actor: 'ci' });
    expect(first.deployment?.state).toBe('succeeded');
    const fingerprint = async () => {
      const found = (await api.connections.list({ name: 'sec-oidc', take: 1 })).data[0]!;
      return (found.metadata as Record<string, string>)['orgadmin_options'];
    };
    const before = await fingerprint();

    // The secret is rotated: the repository does not change (it never holds secrets).
    expect(
      await service.commits.patch('sec', { connections: [oidc('second-secret-value')] }, ada),
    ).toBeUndefined();
    const second = await gitops.deploy({ actor: 'ci' });
    expect(second.organizations).toEqual([
      { name: 'sec', action: 'apply', steps: [expect.objectContaining({ kind: 'update-connection' })] },
    ]);
    expect(await fingerprint()).not.toBe(before);
    expect((await gitops.drift({ orgs: ['sec'] })).drifted).toEqual([]);
    // Nothing in the files depends on the secret, so the earlier revision still reads (with today's secret).
    await expect(gitops.deploy({ to: first.toRevision, dryRun: true, actor: 'ci' })).resolves.toMatchObject({
      dryRun: true,
    });
  });

  it('two deployments started at once: one runs, the other is refused with deploy.locked', async () => {
    await service.commits.patch('acme', { displayName: 'Acme, twice deployed' }, ada);
    const outcomes = await Promise.allSettled([
      gitops.deploy({ actor: 'ci-1' }),
      gitops.deploy({ actor: 'ci-2' }),
    ]);
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
    const ran = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    expect(ran).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'deploy.locked' });
    expect((await api.organizations.getByName('acme')).display_name).toBe('Acme, twice deployed');
  });
});
