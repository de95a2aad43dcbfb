/**
 * The `orgadmin org` commands as a user runs them (real processes): plan and dry run write nothing; apply provisions
 * and reports; list/show/runs/run show read back (secrets shown only as "(set)"); a file of invalid specs is refused
 * with every problem listed and not a single call to Auth0.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  managementClient,
  orgadminHomeFor,
  startTestAuth0Local,
  type TestAuth0Local,
} from '../helpers/auth0-local.js';
import { orgadminCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let local: TestAuth0Local;
let database: TestDatabase;
let home: string;

beforeAll(async () => {
  local = await startTestAuth0Local();
  database = await createTestDatabase();
  home = orgadminHomeFor(local, 'orgadmin-cli-');
  await managementClient(local).clients.create({ name: 'Portal', app_type: 'regular_web' });
});
afterAll(async () => {
  await local.close();
  await database.drop();
});

const orgadmin = orgadminCli(() => ({
  ORGADMIN_HOME: home,
  DATABASE_URL: database.url,
  ORGADMIN_SECRET_KEY: 'test-secret-key',
}));

function specFile(name: string, text: string): string {
  const file = join(home, name);
  writeFileSync(file, text);
  return file;
}

const writes = (from: number): number =>
  local.requestLog
    .list()
    .slice(from)
    .filter((entry) => entry.path.startsWith('/api/v2/') && entry.method !== 'GET').length;

const ACME = `
name: acme
displayName: Acme
connections:
  - shared: Username-Password-Authentication
  - oidc: { discoveryUrl: https://login.acme.com/.well-known/openid-configuration, clientId: abc, clientSecret: very-secret-value }
applications:
  - client: Portal
    callbacks: [https://acme.example.com/callback]
`;

describe('orgadmin org', () => {
  it('plans and dry-runs without a single write', { timeout: 60_000 }, async () => {
    const file = specFile('acme.yaml', ACME);
    const from = local.requestLog.list().length;
    const planned = await orgadmin('org', 'plan', '-f', file);
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain('acme: 7 change(s)');
    expect(planned.stdout).toContain('+ create organization acme');
    expect(planned.stdout).toContain('+ create oidc connection acme-oidc');
    expect(planned.stdout).not.toContain('very-secret-value');
    const dry = await orgadmin('org', 'apply', '-f', file, '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual([
      { name: 'acme', steps: expect.arrayContaining(['create organization acme']) as unknown },
    ]);
    expect(writes(from)).toBe(0);
  });

  it('applies, then reads back with list, show, runs and run show', { timeout: 60_000 }, async () => {
    const applied = await orgadmin('org', 'apply', '-f', specFile('acme.yaml', ACME));
    expect(applied.code).toBe(0);
    expect(applied.stdout.trim()).toBe('acme: succeeded');
    expect(applied.stderr).toContain('✓ acme: create organization acme');

    const listed = JSON.parse((await orgadmin('org', 'list', '--json')).stdout) as {
      name: string;
      status: string;
    }[];
    expect(listed).toEqual([
      expect.objectContaining({ name: 'acme', status: 'active', tenant: local.domain }) as unknown,
    ]);
    const shown = await orgadmin('org', 'show', 'acme', '--json');
    expect(shown.stdout).not.toContain('very-secret-value');
    expect(JSON.parse(shown.stdout)).toMatchObject({
      name: 'acme',
      spec: {
        connections: [{ shared: 'Username-Password-Authentication' }, { oidc: { clientSecret: '(set)' } }],
      },
    });
    const runs = JSON.parse((await orgadmin('runs', '--org', 'acme', '--json')).stdout) as {
      id: string;
      state: string;
    }[];
    expect(runs.map((r) => r.state)).toEqual(['succeeded']);
    const detail = JSON.parse((await orgadmin('run', 'show', runs[0]!.id, '--json')).stdout) as {
      steps: { status: string }[];
    };
    expect(detail.steps.length).toBe(7);
    expect(detail.steps.every((s) => s.status === 'done')).toBe(true);

    const again = await orgadmin('org', 'plan', '-f', specFile('acme.yaml', ACME));
    expect(again.stdout).toContain('acme: up to date');
  });

  it('deletes an organization', { timeout: 60_000 }, async () => {
    const deleted = await orgadmin('org', 'delete', 'acme');
    expect(deleted.code).toBe(0);
    expect(deleted.stdout.trim()).toBe('acme: succeeded');
    await expect(managementClient(local).organizations.getByName('acme')).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it('applies a directory of organizations with one progress bar', { timeout: 90_000 }, async () => {
    const dir = join(home, 'many');
    mkdirSync(dir, { recursive: true });
    // All three on one application, m1 with more steps before its URLs (its own database connection): m2 and m3
    // wait for m1's URL change to share one write, and the command follows the waiting runs to the end.
    for (const name of ['m1', 'm2', 'm3'])
      writeFileSync(
        join(dir, `${name}.yaml`),
        `name: ${name}\n${name === 'm1' ? 'isolation: isolated-database\nconnections:\n  - database: {}\n' : ''}applications:\n  - client: Portal\n    callbacks: [https://${name}.example.com/callback]\n`,
      );
    // m1's connection takes a while, so m2 and m3 wait for it for several of the command's progress polls.
    const slow = local.faults.add({ method: 'POST', path: '^/api/v2/connections$', latencyMs: 1500 });
    const applied = await orgadmin('org', 'apply', '-f', dir).finally(() => local.faults.remove(slow.id));
    expect(applied.code).toBe(0);
    // Waiting is not giving up: no run was reported as left open.
    expect(applied.stderr).not.toContain('stays open');
    expect(applied.stdout.trim().split('\n')).toEqual(['m1: succeeded', 'm2: succeeded', 'm3: succeeded']);
    expect(applied.stderr).toContain('[████████████████████] 3/3 organizations finished');
    expect(applied.stderr).toMatch(
      /3 organizations in \d+\.\d s: 3 succeeded, 0 failed; [1-9]\d* Auth0 calls\n/,
    );
    const portal = (await managementClient(local).clients.list({ per_page: 100 })).data.find(
      (client) => client.name === 'Portal',
    );
    expect(portal?.callbacks).toEqual(
      expect.arrayContaining(['m1', 'm2', 'm3'].map((name) => `https://${name}.example.com/callback`)),
    );
    // Recorded as one batch, so the portal's Bulk apply page shows it too.
    const batches = await database.pool.query('SELECT source_name, total, requested_by FROM bulk_batches');
    expect(batches.rows).toEqual([
      { source_name: dir, total: 3, requested_by: expect.stringMatching(/^cli:/) },
    ]);
  });

  it(
    'refuses a file of invalid specs, listing every problem, with zero calls to Auth0',
    { timeout: 60_000 },
    async () => {
      const bad = [
        'name: Acme',
        'name: ok\ndisplayName: ""',
        'name: ok2\nconnections:\n  - saml: { metadataUrl: http://idp.example.com/m }',
        'name: ok3\nmetadata: { orgadmin_org: x }',
        'name: ok4\ncolour: blue',
      ].join('\n---\n');
      const from = local.requestLog.list().length;
      const refused = await orgadmin('org', 'apply', '-f', specFile('bad.yaml', bad));
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('The organization spec is invalid.');
      expect(refused.stderr).toContain('#1 name: may contain only lowercase letters');
      expect(refused.stderr).toContain('#2 displayName: must not be empty');
      expect(refused.stderr).toContain('#3 connections[0].saml.metadataUrl: must be an https:// URL');
      expect(refused.stderr).toContain('#4 metadata: keys starting with "orgadmin_" are reserved');
      expect(refused.stderr).toContain('#5 (spec): unknown field(s): colour');
      expect(local.requestLog.list().length).toBe(from);
    },
  );
});
