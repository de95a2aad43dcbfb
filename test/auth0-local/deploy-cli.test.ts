/**
 * Acceptance 2: the real auth0-deploy-cli (pinned in package.json, run as its own process, trusting auth0-local's CA
 * through NODE_EXTRA_CA_CERTS) imports a directory-format configuration into a fresh tenant and exports it again;
 * the export matches the input, and importing again changes nothing.
 *
 * deploy-cli matches existing clients, connections and roles by name and PATCHes every match without comparing
 * fields (its `calculateChanges`), so a plain second import always sends those PATCHes — against Auth0 too. "Changes
 * nothing" is therefore shown two ways: deploy-cli's own field-by-field diff (`--dry-run`) proposes nothing to
 * create or update (and a negative control shows it would), and a plain import sends no POST or DELETE and leaves
 * the tenant's state identical.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestAuth0Local, type TestAuth0Local } from '../helpers/auth0-local.js';
import { runDeployCli, type DeployCliRun } from '../helpers/deploy-cli.js';

const INPUT = fileURLToPath(new URL('./fixtures/deploy-cli-tenant/', import.meta.url));
const RUN_TIMEOUT_MS = 170_000;

let local: TestAuth0Local;
let configFile: string;
const work = mkdtempSync(join(tmpdir(), 'deploy-cli-'));

beforeAll(async () => {
  local = await startTestAuth0Local();
  configFile = join(work, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      AUTH0_DOMAIN: local.domain,
      AUTH0_CLIENT_ID: local.clientId,
      AUTH0_CLIENT_SECRET: local.clientSecret,
      AUTH0_INCLUDED_ONLY: ['clients', 'databases', 'connections', 'roles', 'organizations'],
      // What every new tenant already has (as a real one does) is not part of this configuration.
      AUTH0_EXCLUDED_CLIENTS: ['Default App', 'orgadmin (auth0-local)'],
      AUTH0_EXCLUDED_DATABASES: ['Username-Password-Authentication'],
      AUTH0_ALLOW_DELETE: false,
      AUTH0_API_MAX_RETRIES: 1,
    }),
  );
});
afterAll(async () => {
  await local.close();
});

function deployCli(...args: string[]): Promise<DeployCliRun> {
  return runDeployCli(local, configFile, args, RUN_TIMEOUT_MS);
}

/** Management API calls made since `from` (an index into the request log), as "METHOD /path". */
function callsSince(from: number): string[] {
  return local.requestLog
    .list({ tenant: local.name })
    .slice(from)
    .filter((entry) => entry.path.startsWith('/api/v2/'))
    .map((entry) => `${entry.method} ${entry.path.slice('/api/v2'.length)}`);
}

const writes = (calls: string[]): string[] => calls.filter((call) => !call.startsWith('GET '));

/** The rows of deploy-cli's dry-run table ("│ Clients │ DELETE * │ Default App │"); a blank resource repeats the last. */
function proposedRows(output: string): { resource: string; status: string; name: string }[] {
  const rows: { resource: string; status: string; name: string }[] = [];
  let resource = '';
  for (const line of output.split('\n')) {
    const cells = line.split('│').map((cell) => cell.trim());
    if (cells.length !== 5 || cells[2] === 'Status') continue;
    resource = cells[1] || resource;
    rows.push({ resource, status: cells[2] ?? '', name: cells[3] ?? '' });
  }
  return rows;
}
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const files = (dir: string): string[] => readdirSync(dir).sort();

interface OrgFile {
  name: string;
  display_name?: string;
  metadata?: Record<string, string>;
  branding?: unknown;
  connections: { name: string }[];
}
interface ConnectionFile {
  name: string;
  strategy: string;
  enabled_clients: string[];
}

describe('auth0-deploy-cli against auth0-local', () => {
  it('imports a directory configuration into a fresh tenant', { timeout: RUN_TIMEOUT_MS }, async () => {
    const from = local.requestLog.list().length;
    const run = await deployCli('import', '--input_file', INPUT);
    expect(run.output).not.toMatch(/\berror:/i);
    expect(run.code).toBe(0);
    const calls = callsSince(from);
    expect(calls.filter((call) => call === 'POST /organizations')).toHaveLength(3);
    expect(calls.filter((call) => call === 'POST /connections')).toHaveLength(3);
    expect(calls.filter((call) => call === 'POST /clients')).toHaveLength(2);
    expect(calls.filter((call) => call === 'POST /roles')).toHaveLength(1);
  });

  it(
    'finds nothing to create or update when the same input is previewed again',
    { timeout: RUN_TIMEOUT_MS },
    async () => {
      const from = local.requestLog.list().length;
      const run = await deployCli('import', '--input_file', INPUT, '--dry-run');
      expect(run.code).toBe(0);
      expect(run.output).toContain('Dry Run completed successfully');
      expect(proposedRows(run.output).filter((row) => !row.status.startsWith('DELETE'))).toEqual([]);
      // deploy-cli's preview ignores AUTH0_EXCLUDED_* and lists the excluded tenant defaults as deletions it would
      // not make ("Requires AUTH0_ALLOW_DELETE"); nothing else may appear.
      expect(
        proposedRows(run.output)
          .map((row) => row.name)
          .sort(),
      ).toEqual(['Default App', 'Username-Password-Authentication', 'orgadmin (auth0-local)']);
      expect(writes(callsSince(from))).toEqual([]);
    },
  );

  it(
    'does see a real difference in the preview (the check above can fail)',
    { timeout: RUN_TIMEOUT_MS },
    async () => {
      const changed = join(work, 'changed-input');
      cpSync(INPUT, changed, { recursive: true });
      const acme = join(changed, 'organizations', 'acme.json');
      writeFileSync(acme, JSON.stringify({ ...readJson<OrgFile>(acme), display_name: 'Acme Renamed' }));
      const run = await deployCli('import', '--input_file', changed, '--dry-run');
      expect(run.code).toBe(0);
      expect(proposedRows(run.output).filter((row) => row.status === 'UPDATE')).toEqual([
        { resource: 'Organizations', status: 'UPDATE', name: 'acme' },
      ]);
    },
  );

  it(
    'creates and deletes nothing and leaves the state identical on a plain second import',
    { timeout: RUN_TIMEOUT_MS },
    async () => {
      const before = local.dump(local.name);
      const from = local.requestLog.list().length;
      const run = await deployCli('import', '--input_file', INPUT);
      expect(run.code).toBe(0);
      const written = writes(callsSince(from));
      expect(written.filter((call) => !call.startsWith('PATCH '))).toEqual([]);
      // Only deploy-cli's unconditional re-sends of matched clients, connections and roles.
      for (const call of written) expect(call).toMatch(/^PATCH \/(clients|connections|roles)\/[^/]+$/);
      expect(local.dump(local.name)).toEqual(before);
    },
  );

  it(
    'exports what it imported: names, organization connections and enabled clients',
    { timeout: RUN_TIMEOUT_MS },
    async () => {
      const out = join(work, 'export');
      const run = await deployCli('export', '--output_folder', out, '--format', 'directory');
      expect(run.output).not.toMatch(/\berror:/i);
      expect(run.code).toBe(0);

      // Every input object is exported under its name, and nothing else (the tenant defaults are excluded).
      expect(files(join(out, 'organizations'))).toEqual(files(join(INPUT, 'organizations')));
      expect(files(join(out, 'connections'))).toEqual(files(join(INPUT, 'connections')));
      expect(files(join(out, 'roles'))).toEqual(files(join(INPUT, 'roles')));
      expect(files(join(out, 'database-connections'))).toEqual(files(join(INPUT, 'database-connections')));
      expect(files(join(out, 'clients'))).toEqual(files(join(INPUT, 'clients')));

      for (const file of files(join(INPUT, 'organizations'))) {
        const input = readJson<OrgFile>(join(INPUT, 'organizations', file));
        const exported = readJson<OrgFile>(join(out, 'organizations', file));
        expect(exported).toMatchObject({
          name: input.name,
          display_name: input.display_name,
          ...(input.metadata ? { metadata: input.metadata } : {}),
          ...(input.branding ? { branding: input.branding } : {}),
        });
        const byName = (a: { name: string }, b: { name: string }): number => a.name.localeCompare(b.name);
        expect([...exported.connections].sort(byName)).toEqual([...input.connections].sort(byName));
      }
      const sorted = (names: string[]): string[] => [...names].sort((a, b) => a.localeCompare(b));
      for (const file of files(join(INPUT, 'connections'))) {
        const input = readJson<ConnectionFile>(join(INPUT, 'connections', file));
        const exported = readJson<ConnectionFile>(join(out, 'connections', file));
        expect(exported).toMatchObject({ name: input.name, strategy: input.strategy });
        expect(sorted(exported.enabled_clients)).toEqual(sorted(input.enabled_clients));
      }
      const database = readJson<ConnectionFile>(
        join(out, 'database-connections', 'users-db', 'database.json'),
      );
      const databaseInput = readJson<ConnectionFile>(
        join(INPUT, 'database-connections', 'users-db', 'database.json'),
      );
      expect(database.name).toBe('users-db');
      expect(sorted(database.enabled_clients)).toEqual(sorted(databaseInput.enabled_clients));
      expect(readJson<{ name: string }>(join(out, 'roles', 'org-admin.json')).name).toBe('org-admin');
    },
  );
});
