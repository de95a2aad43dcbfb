/**
 * Issue 5 through the HTTP API (acceptance 1's "through the API"): in GitOps mode the organization routes commit
 * with the signed-in operator as author; the deploy route starts a deployment in the server; history lists the
 * commits and which one is deployed; a dry run answers with the plan and writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  managementClient,
  useAuth0Local,
  requestLogLength,
  managementWritesSince,
} from '../helpers/auth0-local.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { gitIn, newBareRepository } from '../helpers/gitops.js';
import { sessionFor, startTestPortal, type TestPortal, type TestSession } from '../helpers/portal.js';

const local = useAuth0Local();
let database: TestDatabase;
let portal: TestPortal;
let operator: TestSession;
let admin: TestSession;
let git: (...args: string[]) => string;

beforeAll(async () => {
  database = await createTestDatabase();
  const bare = newBareRepository();
  git = gitIn(bare);
  portal = await startTestPortal(local, database, {
    worker: false,
    env: { ORGADMIN_MODE: 'gitops', ORGADMIN_GITOPS_REPO: bare },
  });
  operator = await sessionFor(portal.orgadmin, ['operator'], { email: 'olga@saas.example' });
  admin = await sessionFor(portal.orgadmin, ['admin'], { email: 'adam@saas.example' });
});
afterAll(async () => {
  await portal?.close();
  await database?.drop();
});

async function call(method: string, path: string, session: TestSession, body?: unknown) {
  const response = await fetch(`${portal.url}/api/v1${path}`, {
    method,
    headers: {
      cookie: session.cookie,
      ...(method === 'GET' ? {} : { 'x-csrf-token': session.csrfToken }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

interface History {
  commits: { sha: string; author: { name: string; email: string }; subject: string; deployedTo: string[] }[];
  deployments: { id: string; state: string; toRevision: string; runs: Record<string, string> }[];
}

describe('the API in GitOps mode', () => {
  it('commits creates, a change and a removal with the operator as author, then deploys them', async () => {
    expect((await call('GET', '/me', operator)).body).toMatchObject({
      mode: 'gitops',
      gitops: { branch: 'main', env: 'default' },
    });
    for (const name of ['one', 'two', 'three']) {
      const created = await call('POST', '/organizations', operator, {
        spec: { name, displayName: name.toUpperCase() },
        reason: `onboarding ${name}`,
      });
      expect(created.status).toBe(202);
      expect(created.body['commit']).toMatchObject({
        author: { name: 'olga@saas.example', email: 'olga@saas.example' },
        subject: `Create organization ${name}`,
      });
    }
    expect(
      (await call('PATCH', '/organizations/two', operator, { patch: { displayName: 'Two Inc.' } })).status,
    ).toBe(202);
    const removed = await call('DELETE', '/organizations/three?reason=churned', admin);
    expect(removed).toMatchObject({
      status: 202,
      body: { commit: { subject: 'Delete organization three' } },
    });
    // Bad input is refused before anything is committed, as in live mode.
    expect((await call('POST', '/organizations', operator, { spec: { name: 'Bad!' } })).status).toBe(400);
    expect((await call('PATCH', '/organizations/nobody', operator, { patch: {} })).status).toBe(404);

    expect(git('log', '--format=%an|%s', 'main').trim().split('\n')).toEqual([
      'adam@saas.example|Delete organization three',
      'olga@saas.example|Update organization two',
      'olga@saas.example|Create organization three',
      'olga@saas.example|Create organization two',
      'olga@saas.example|Create organization one',
    ]);
    expect(git('log', '-1', '--format=%B', 'main')).toContain('Reason: churned');

    const preview = await call('POST', '/gitops/deploy', operator, { dryRun: true });
    expect(preview.status).toBe(200);
    expect((preview.body['organizations'] as { name: string }[]).map((entry) => entry.name)).toEqual([
      'one',
      'two',
    ]);

    const before = requestLogLength(local);
    const started = await call('POST', '/gitops/deploy', operator, {});
    expect(started).toMatchObject({ status: 202, body: { state: 'running' } });
    const id = started.body['id'] as string;
    let history: History;
    // The deployment runs in the server: poll its record (a CI job would, too).
    for (;;) {
      history = (await call('GET', '/gitops/history', operator)).body as unknown as History;
      if (history.deployments.find((deployment) => deployment.id === id)?.state !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const deployment = history.deployments.find((candidate) => candidate.id === id)!;
    expect(deployment.state).toBe('succeeded');
    expect(Object.keys(deployment.runs).sort()).toEqual(['one', 'two']);
    // The deployed revision is recorded in the repository's manifest too, by a commit CI pipelines skip.
    expect(history.commits[0]!.subject).toMatch(/^Deployed [0-9a-f]{12} to default \[skip ci\]$/);
    expect(history.commits[1]).toMatchObject({
      subject: 'Delete organization three',
      deployedTo: ['default'],
    });
    expect(
      managementWritesSince(local, before).filter((call) => call === 'POST /api/v2/organizations'),
    ).toHaveLength(2);
    const api = managementClient(local);
    expect((await api.organizations.getByName('two')).display_name).toBe('Two Inc.');

    const again = requestLogLength(local);
    const second = await call('POST', '/gitops/deploy', operator, { dryRun: true });
    expect(second.body['organizations']).toEqual([]);
    expect(managementWritesSince(local, again)).toEqual([]);
  });
});
