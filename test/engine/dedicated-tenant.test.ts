/**
 * Tenant-per-organization: `isolation: dedicated-tenant` provisions into a tenant from the registry; against
 * auth0-local an unregistered tenant is created on demand and registered, its client secret sealed at rest. The
 * default tenant is not touched.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { openOrgadmin, type Orgadmin } from '../../src/composition-root.js';
import { loadConfig } from '../../src/config/config.js';
import { validateSpecs } from '../../src/domain/spec-document.js';
import { executeRun } from '../../src/engine/run-executor.js';
import {
  managementClient,
  orgadminHomeFor,
  startTestAuth0Local,
  type TestAuth0Local,
} from '../helpers/auth0-local.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let local: TestAuth0Local;
let database: TestDatabase;
let orgadmin: Orgadmin;

beforeAll(async () => {
  local = await startTestAuth0Local();
  database = await createTestDatabase();
  const home = orgadminHomeFor(local, 'orgadmin-dedicated-');
  orgadmin = await openOrgadmin(
    loadConfig({ ORGADMIN_HOME: home, DATABASE_URL: database.url, ORGADMIN_SECRET_KEY: 'k' }, process.cwd()),
  );
});
afterAll(async () => {
  await orgadmin.close();
  await local.close();
  await database.drop();
});

it('provisions a dedicated-tenant organization into its own tenant, created on demand', async () => {
  const [spec] = validateSpecs([
    {
      name: 'bigcorp',
      isolation: 'dedicated-tenant',
      connections: [{ shared: 'Username-Password-Authentication' }],
      applications: [{ client: 'Default App', callbacks: ['https://bigcorp.example.com/callback'] }],
    },
  ]);
  const domain = await orgadmin.tenantForSpec(spec!, 'test');
  expect(domain).not.toBe(local.domain);
  expect(local.tenants().map((tenant) => tenant.name)).toContain('bigcorp');

  const run = await orgadmin.store.createRun({
    orgName: 'bigcorp',
    tenant: domain,
    kind: 'apply',
    desired: spec,
    requestedBy: 'test',
  });
  expect((await executeRun(orgadmin.engine, run.id)).state).toBe('succeeded');

  const dedicated = managementClient(local.tenantInfo('bigcorp'));
  expect((await dedicated.organizations.getByName('bigcorp')).metadata).toMatchObject({
    orgadmin_org: 'bigcorp',
  });
  await expect(managementClient(local).organizations.getByName('bigcorp')).rejects.toMatchObject({
    statusCode: 404,
  });
  expect((await orgadmin.store.getOrg('bigcorp'))?.tenant).toBe(domain);

  // The registry keeps the tenant's secret sealed; a second spec for the same tenant finds it registered.
  const { rows } = await database.pool.query<{ client_secret_sealed: string }>(
    'SELECT client_secret_sealed FROM tenants',
  );
  expect(rows).toHaveLength(1);
  expect(rows[0]!.client_secret_sealed).not.toContain(local.tenantInfo('bigcorp').clientSecret);
  expect(rows[0]!.client_secret_sealed).toMatch(/^v1:/);
  expect(await orgadmin.tenantForSpec(spec!, 'test')).toBe(domain);
  expect(local.tenants()).toHaveLength(2);

  // Modify and remove happen in the dedicated tenant too.
  const [changed] = validateSpecs([{ ...spec!, displayName: 'BigCorp AG' }]);
  const modify = await orgadmin.store.createRun({
    orgName: 'bigcorp',
    tenant: domain,
    kind: 'apply',
    desired: changed,
    requestedBy: 'test',
  });
  expect((await executeRun(orgadmin.engine, modify.id)).state).toBe('succeeded');
  expect((await dedicated.organizations.getByName('bigcorp')).display_name).toBe('BigCorp AG');
  const remove = await orgadmin.store.createRun({
    orgName: 'bigcorp',
    tenant: domain,
    kind: 'remove',
    desired: undefined,
    requestedBy: 'test',
  });
  expect((await executeRun(orgadmin.engine, remove.id)).state).toBe('succeeded');
  await expect(dedicated.organizations.getByName('bigcorp')).rejects.toMatchObject({ statusCode: 404 });
  expect((await dedicated.clients.list()).data.find((c) => c.name === 'Default App')?.callbacks).toEqual([]);
});

it('refuses an unregistered dedicated tenant against a real Auth0 configuration', async () => {
  const real = await openOrgadmin(
    loadConfig(
      {
        ORGADMIN_HOME: mkdtempSync(join(tmpdir(), 'orgadmin-real-')),
        DATABASE_URL: database.url,
        ORGADMIN_SECRET_KEY: 'k',
        AUTH0_DOMAIN: local.domain,
        AUTH0_CLIENT_ID: local.clientId,
        AUTH0_CLIENT_SECRET: local.clientSecret,
      },
      process.cwd(),
    ),
  );
  try {
    const [spec] = validateSpecs([
      { name: 'nowhere', isolation: 'dedicated-tenant', tenant: 'unknown-tenant' },
    ]);
    await expect(real.tenantForSpec(spec!, 'test')).rejects.toMatchObject({ code: 'tenant.not_registered' });
  } finally {
    await real.close();
  }
});
