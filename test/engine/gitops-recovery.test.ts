/**
 * GitOps deployments that did not finish cleanly (issue 5, acceptance 4 and 5, their harder cases): a failed
 * deployment's organizations are visited again by the next one — so a rollback after a half-applied deployment
 * really restores the tenant — and a run left open before a deployment recorded it is finished, not a dead end.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ManagementClient } from 'auth0';
import { beforeAll, describe, expect, it } from 'vitest';

import { createPostgresGitopsState } from '../../src/adapters/postgres/postgres-gitops.js';
import { loadSecretBox } from '../../src/adapters/postgres/secret-box.js';
import { useTestGitops, type TestGitops } from '../helpers/gitops.js';

const file = useTestGitops();
let setup: TestGitops;
let api: ManagementClient;
const ada = 'ada@acme.example';

beforeAll(() => {
  ({ setup, api } = file);
});

describe('after a deployment that failed half-way', () => {
  it('a rollback to the deployed revision undoes what the failed deployment did apply', async () => {
    const { service, gitops } = setup;
    await service.commits.create({ name: 'acme', displayName: 'Acme' }, ada);
    const good = await gitops.deploy({ actor: 'ci' });
    expect(good.deployment?.state).toBe('succeeded');

    // One good change and one Auth0 refuses (a shared connection that does not exist): the deployment fails,
    // but acme's new name is already in the tenant.
    await service.commits.patch('acme', { displayName: 'Acme 2' }, ada);
    await service.commits.create({ name: 'broken', connections: [{ shared: 'no-such-connection' }] }, ada);
    const half = await gitops.deploy({ actor: 'ci' });
    expect(half.deployment?.state).toBe('failed');
    expect(half.deployment?.summary).toMatch(/^1 of 2 organization\(s\) not deployed: broken \(failed/);
    expect((await api.organizations.getByName('acme')).display_name).toBe('Acme 2');

    // Back to what was deployed: the files are those of `good` again, so no file differs from the deployed
    // revision — yet acme must be visited, since the failed deployment changed it.
    const preview = await gitops.rollback({ to: good.toRevision, actor: ada, dryRun: true });
    expect(preview.plan.organizations.map((entry) => entry.name)).toEqual(['acme', 'broken']);
    const result = await gitops.rollback({ to: good.toRevision, actor: ada });
    expect(result.deployed?.deployment?.state).toBe('succeeded');
    expect((await api.organizations.getByName('acme')).display_name).toBe('Acme');
    const names: string[] = [];
    for await (const org of await api.organizations.list({ take: 50 })) names.push(org.name!);
    expect(names.sort()).toEqual(['acme']);
  });
});

describe('a run left open before its deployment recorded it', () => {
  it('is finished by the next deployment, which then deploys the organization', async () => {
    const { service, gitops, orgadmin } = setup;
    await service.commits.patch('acme', { displayName: 'Acme 3' }, ada);
    // What a crash between creating a run and recording it in the deployment leaves: an open run nobody executes.
    const orphan = await orgadmin.store.createRun({
      orgName: 'acme',
      tenant: orgadmin.defaultTenant.domain,
      kind: 'apply',
      desired: (await gitops.current('acme'))!,
      requestedBy: 'a deploy that crashed',
    });
    const result = await gitops.deploy({ actor: 'ci' });
    expect(result.deployment?.state).toBe('succeeded');
    expect((await orgadmin.store.getRun(orphan.id))?.state).toBe('succeeded');
    expect(result.runs.map((run) => run.orgName)).toEqual(['acme']);
    expect(result.runs[0]!.id).not.toBe(orphan.id);
    expect((await api.organizations.getByName('acme')).display_name).toBe('Acme 3');
  });

  describe('a deployed revision the branch no longer has', () => {
    it('(history rewritten) makes the next deployment compare every organization instead of failing', async () => {
      const { gitops, orgadmin } = setup;
      // What a force-push leaves: the recorded revision is nowhere in the branch.
      const state = createPostgresGitopsState(orgadmin.database.pool, {
        secrets: loadSecretBox({ home: mkdtempSync(join(tmpdir(), 'orgadmin-secrets-')) }),
      });
      const lost = await state.startDeployment({
        env: 'default',
        fromRevision: undefined,
        toRevision: 'f'.repeat(40),
        requestedBy: 'a deploy before the force-push',
      });
      await state.finishDeployment(lost.id, 'succeeded', 'recorded before the history was rewritten');
      const result = await gitops.deploy({ actor: 'ci' });
      expect(result.fromRevision).toBeUndefined();
      expect(result.deployment?.state).toBe('succeeded');
      expect(result.organizations.map((entry) => entry.name)).toEqual(['acme']);
    });
  });
});
