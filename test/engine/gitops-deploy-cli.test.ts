/**
 * Issue 5, acceptance 2: the organization repository orgadmin writes is valid input for the real auth0-deploy-cli.
 * The same revision, deployed by `orgadmin deploy` into one tenant and imported by `a0deploy import` (scoped to
 * organizations and connections, secrets given as keyword mappings) into a fresh one, gives the same
 * organizations, connections (owned by orgadmin) and organization-connection links. The application URL lists of
 * shared clients are not part of deploy-cli's files (they live in orgadmin's sidecar), and are compared apart.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { ManagementClient } from 'auth0';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { managementClient, startTestAuth0Local, type TestAuth0Local } from '../helpers/auth0-local.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { samlMetadataXml } from '../helpers/saml.js';
import { runDeployCli } from '../helpers/deploy-cli.js';
import { startTestGitops, type TestGitops } from '../helpers/gitops.js';

const RUN_TIMEOUT_MS = 170_000;
const OIDC_SECRET = 'gamma-oidc-secret-value';
const XML = samlMetadataXml('https://idp.acme.example/');

let byOrgadmin: TestAuth0Local;
let byDeployCli: TestAuth0Local;
let database: TestDatabase;
let setup: TestGitops;
const work = mkdtempSync(join(tmpdir(), 'orgadmin-gitops-a0deploy-'));

beforeAll(async () => {
  [byOrgadmin, byDeployCli] = await Promise.all([startTestAuth0Local(), startTestAuth0Local()]);
  database = await createTestDatabase();
  setup = await startTestGitops(byOrgadmin, database);
  // The shared application exists in both tenants: it is a common component, not part of the repository.
  for (const local of [byOrgadmin, byDeployCli])
    await managementClient(local).clients.create({ name: 'Portal', app_type: 'regular_web' });
});
afterAll(async () => {
  await setup?.close();
  await Promise.all([byOrgadmin?.close(), byDeployCli?.close()]);
  await database?.drop();
});

/**
 * orgadmin's own bookkeeping tags aside: the run that last wrote an object, and the fingerprint of the options it set
 * (never in the repository — it is derived from the secret — so deploy-cli cannot write it; orgadmin's next deploy
 * sees it missing and writes the same options again with it).
 */
const withoutRunTag = (metadata: Record<string, unknown> | undefined): Record<string, unknown> => {
  const { orgadmin_run: _run, orgadmin_options: _options, ...rest } = metadata ?? {};
  return rest;
};

/** What the tenant holds of orgadmin's objects, by name, without ids. */
async function snapshot(api: ManagementClient) {
  const clientNames = new Map<string, string>();
  for await (const client of await api.clients.list({ per_page: 100 }))
    clientNames.set(client.client_id ?? '', client.name ?? '');
  const connections: Record<string, unknown> = {};
  for await (const connection of await api.connections.list({ take: 100 })) {
    const metadata = connection.metadata as Record<string, unknown> | undefined;
    if (!metadata?.['orgadmin_org']) continue;
    const enabled: string[] = [];
    for await (const entry of await api.connections.clients.get(connection.id!, { take: 100 }))
      enabled.push(clientNames.get(entry.client_id) ?? entry.client_id);
    // deploy-cli sends `disable_self_service_change_password: false` with every database connection; false is
    // Auth0's default, so the two tenants behave the same. Only that value is set aside.
    const { disable_self_service_change_password: selfService, ...options } = connection.options ?? {};
    connections[connection.name!] = {
      strategy: connection.strategy,
      options: selfService === true ? { ...options, disable_self_service_change_password: true } : options,
      metadata: withoutRunTag(metadata),
      enabledClients: enabled.sort(),
    };
  }
  const organizations: Record<string, unknown> = {};
  for await (const org of await api.organizations.list({ take: 50 })) {
    const links: unknown[] = [];
    for await (const link of await api.organizations.enabledConnections.list(org.id!, { per_page: 50 }))
      links.push({
        name: link.connection?.name,
        assignMembershipOnLogin: link.assign_membership_on_login ?? false,
        showAsButton: link.show_as_button ?? true,
        isSignupEnabled: link.is_signup_enabled ?? false,
      });
    organizations[org.name!] = {
      displayName: org.display_name,
      branding: org.branding,
      metadata: withoutRunTag(org.metadata),
      links: links.sort((a, b) =>
        String((a as { name: string }).name).localeCompare((b as { name: string }).name),
      ),
    };
  }
  return { organizations, connections };
}

describe('the organization repository and auth0-deploy-cli', () => {
  it(
    'a0deploy import of the repository gives the tenant orgadmin deploy gave',
    { timeout: RUN_TIMEOUT_MS * 2 },
    async () => {
      const { service, gitops, bare } = setup;
      const ada = 'ada@acme.example';
      await service.commits.create(
        {
          name: 'acme',
          displayName: 'Acme',
          isolation: 'isolated-database',
          metadata: { plan: 'gold' },
          branding: {
            logoUrl: 'https://acme.example/logo.png',
            colors: { primary: '#112233', pageBackground: '#ffffff' },
          },
          connections: [
            { database: { passwordPolicy: 'excellent', signupEnabled: true }, assignMembershipOnLogin: true },
            { saml: { metadataXml: XML }, domains: ['acme.example'], showAsButton: false },
          ],
          applications: [{ client: 'Portal', callbacks: ['https://acme.portal.example/cb'] }],
        },
        ada,
      );
      await service.commits.create(
        {
          name: 'beta',
          connections: [{ shared: 'Username-Password-Authentication', assignMembershipOnLogin: true }],
          applications: [{ client: 'Portal' }],
        },
        ada,
      );
      await service.commits.create(
        {
          name: 'gamma',
          displayName: 'Gamma GmbH',
          connections: [
            {
              oidc: {
                discoveryUrl: 'https://login.gamma.example/.well-known/openid-configuration',
                clientId: 'gamma-client',
                clientSecret: OIDC_SECRET,
              },
              domains: ['gamma.example'],
            },
          ],
          applications: [{ client: 'Portal' }],
        },
        ada,
      );
      const deployed = await gitops.deploy({ actor: 'ci' });
      expect(deployed.deployment?.summary).toBe('3 organization(s) deployed');

      // The repository as a user's CI job would check it out, and deploy-cli configured as the README says.
      const checkout = join(work, 'checkout');
      mkdirSync(checkout);
      execFileSync('sh', ['-c', `git --git-dir "${bare}" archive main | tar -x -C "${checkout}"`]);
      const configFile = join(work, 'a0deploy.json');
      writeFileSync(
        configFile,
        JSON.stringify({
          AUTH0_DOMAIN: byDeployCli.domain,
          AUTH0_CLIENT_ID: byDeployCli.clientId,
          AUTH0_CLIENT_SECRET: byDeployCli.clientSecret,
          AUTH0_INCLUDED_ONLY: ['organizations', 'connections', 'databases'],
          AUTH0_ALLOW_DELETE: false,
          AUTH0_KEYWORD_REPLACE_MAPPINGS: { ORGADMIN_SECRET_GAMMA_OIDC: OIDC_SECRET },
        }),
      );
      const run = await runDeployCli(
        byDeployCli,
        configFile,
        ['import', '--input_file', checkout],
        RUN_TIMEOUT_MS,
      );
      expect(run.output).not.toMatch(/\berror:/i);
      expect(run.code).toBe(0);

      const expected = await snapshot(managementClient(byOrgadmin));
      const actual = await snapshot(managementClient(byDeployCli));
      expect(Object.keys(expected.organizations).sort()).toEqual(['acme', 'beta', 'gamma']);
      expect(Object.keys(expected.connections).sort()).toEqual(['acme-db', 'acme-saml', 'gamma-oidc']);
      expect(actual.organizations).toEqual(expected.organizations);
      expect(actual.connections).toEqual(expected.connections);
    },
  );
});
