/**
 * Acceptance 4 of the engine: with auth0-local injecting 10 % 429s and 5xx, replies slower than the client's timeout
 * (the change applied, the answer never read) and "apply then drop the connection", 20 organizations provisioned at
 * once all converge, with no duplicate and no untagged object.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { createSdkTenant } from '../../src/adapters/auth0/sdk-tenant.js';
import { createPostgresStore } from '../../src/adapters/postgres/postgres-store.js';
import { loadSecretBox } from '../../src/adapters/postgres/secret-box.js';
import { validateSpecs } from '../../src/domain/spec-document.js';
import { executeRun, RetryLaterError, type EngineDeps } from '../../src/engine/run-executor.js';
import type { RunRecord, Store } from '../../src/ports/store.js';
import { managementClient, startTestAuth0Local, type TestAuth0Local } from '../helpers/auth0-local.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let local: TestAuth0Local;
let database: TestDatabase;
let store: Store;
let deps: EngineDeps;

beforeAll(async () => {
  local = await startTestAuth0Local();
  database = await createTestDatabase();
  store = createPostgresStore(database.pool, {
    secrets: loadSecretBox({ home: mkdtempSync(join(tmpdir(), 'faults-')) }),
  });
  const tenant = createSdkTenant({
    domain: local.domain,
    clientId: local.clientId,
    clientSecret: local.clientSecret,
    timeoutInSeconds: 1,
  });
  deps = { store, tenantFor: () => tenant, retry: { maxAttempts: 12, baseDelayMs: 5, maxDelayMs: 100 } };
  await managementClient(local).clients.create({ name: 'Portal', app_type: 'regular_web' });
});
afterAll(async () => {
  await local.close();
  await database.drop();
});

/** Runs until finished, resuming a run left open by transient failures as a worker would. */
async function untilFinished(run: RunRecord): Promise<RunRecord> {
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      return await executeRun(deps, run.id);
    } catch (error) {
      if (!(error instanceof RetryLaterError)) throw error;
    }
  }
  throw new Error(`run ${run.id} did not finish`);
}

it(
  'converges 20 organizations under 429s, 5xx, slow replies and dropped connections',
  { timeout: 240_000 },
  async () => {
    const api = managementClient(local);
    const names = Array.from({ length: 20 }, (_, i) => `faulty-${i}`);
    const specs = validateSpecs(
      names.map((name) => ({
        name,
        isolation: 'isolated-database',
        connections: [{ database: {}, assignMembershipOnLogin: true }],
        applications: [{ client: 'Portal', callbacks: [`https://${name}.example.com/callback`] }],
        admin: { email: `admin@${name}.example.com`, via: 'password-ticket' },
      })),
    );
    const rules = [
      local.faults.add({ path: '^/api/v2/', status: 429, rate: 0.1 }),
      local.faults.add({ path: '^/api/v2/', status: 503, rate: 0.05 }),
      local.faults.add({ path: '^/api/v2/', status: 500, rate: 0.05 }),
      local.faults.add({ method: 'POST', path: '^/api/v2/', replyAfterMs: 1_500, rate: 0.05 }),
      local.faults.add({ method: 'POST', path: '^/api/v2/', dropAfterApply: true, rate: 0.05 }),
    ];
    const from = local.requestLog.list().length;
    const runs = await Promise.all(
      specs.map((desired) =>
        store.createRun({
          orgName: desired.name,
          tenant: local.domain,
          kind: 'apply',
          desired,
          requestedBy: 'test',
        }),
      ),
    );
    const finished = await Promise.all(runs.map(untilFinished));
    for (const rule of rules) local.faults.remove(rule.id);

    const faulted = local.requestLog
      .list()
      .slice(from)
      .filter((entry) => entry.fault !== undefined);
    expect(faulted.length).toBeGreaterThan(20);
    expect(finished.map((run) => `${run.orgName}:${run.state}`)).toEqual(
      names.map((name) => `${name}:succeeded`),
    );

    const orgs = (await api.organizations.list({ take: 100 })).data.filter((org) =>
      org.name?.startsWith('faulty-'),
    );
    expect(orgs.map((org) => org.name).sort()).toEqual([...names].sort());
    for (const org of orgs) expect(org.metadata).toMatchObject({ orgadmin_org: org.name });
    const connections = (await api.connections.list({ take: 100 })).data.filter((c) =>
      c.name?.startsWith('faulty-'),
    );
    expect(connections.map((c) => c.name).sort()).toEqual(names.map((name) => `${name}-db`).sort());
    for (const name of names) {
      const users = await api.users.listUsersByEmail({ email: `admin@${name}.example.com` });
      expect(users).toHaveLength(1);
      expect(users[0]?.app_metadata).toMatchObject({ orgadmin_org: name });
    }
    const portal = (await api.clients.list({ per_page: 100 })).data.find(
      (client) => client.name === 'Portal',
    );
    for (const name of names) expect(portal?.callbacks).toContain(`https://${name}.example.com/callback`);
  },
);
