/**
 * The one place where orgadmin's parts are wired together: configuration → database and store → the Auth0 tenants
 * (the default one from AUTH0_*, or the auth0-local tenant `orgadmin start` runs; dedicated tenants from the
 * registry) → the engine's dependencies. Faces (CLI, later HTTP) ask for this and never construct adapters.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { createSdkTenant } from './adapters/auth0/sdk-tenant.js';
import { openDatabase, type Database } from './adapters/postgres/database.js';
import { createPostgresStore } from './adapters/postgres/postgres-store.js';
import { loadSecretBox } from './adapters/postgres/secret-box.js';
import type { Config } from './config/config.js';
import { OrgadminError } from './domain/errors.js';
import type { OrgSpec } from './domain/org-spec.js';
import type { EngineDeps } from './engine/run-executor.js';
import type { Auth0Tenant } from './ports/auth0-tenant.js';
import type { Store } from './ports/store.js';

export interface TenantCredentials {
  domain: string;
  clientId: string;
  clientSecret: string;
}

/** What `orgadmin start` records about its auth0-local tenant; `adminToken` lets orgadmin create tenants there. */
export interface LocalConnection extends TenantCredentials {
  caCertPath: string;
  adminToken?: string;
}

/** Where `orgadmin start` leaves the credentials of its auth0-local tenant for other orgadmin processes. */
export const localConnectionFile = (home: string): string => join(home, 'auth0-local', 'connection.json');

function localConnection(config: Config): LocalConnection | undefined {
  const file = localConnectionFile(config.home);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LocalConnection) : undefined;
}

export function defaultTenantCredentials(config: Config): TenantCredentials {
  if (config.auth0) return config.auth0;
  const local = localConnection(config);
  if (!local) {
    throw new Error(
      'no Auth0 tenant configured: set AUTH0_DOMAIN, AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET, or run `npm start` (auth0-local) first',
    );
  }
  return local;
}

export interface Orgadmin {
  config: Config;
  store: Store;
  /** The tenant organizations go to unless their spec asks for a dedicated one. */
  defaultTenant: TenantCredentials;
  engine: EngineDeps;
  /**
   * The domain of the tenant a spec's organization lives in. `isolation: dedicated-tenant` uses the registered tenant
   * named by `tenant` (default: the organization's name); with auth0-local an unregistered one is created on demand.
   */
  tenantForSpec(spec: OrgSpec, actor: string): Promise<string>;
  /** Like `tenantForSpec` without side effects: undefined for a dedicated tenant that is not registered yet. */
  findTenantForSpec(spec: OrgSpec): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Creates a tenant in the auth0-local that `orgadmin start` runs, through its admin API. */
async function createLocalTenant(local: LocalConnection, name: string): Promise<TenantCredentials> {
  if (!local.adminToken) throw new OrgadminError('tenant.not_registered', `tenant ${name} is not registered`);
  const response = await fetch(`https://${local.domain}/__admin/tenants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${local.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (!response.ok)
    throw new Error(
      `auth0-local could not create tenant ${name}: ${response.status} ${await response.text()}`,
    );
  return (await response.json()) as TenantCredentials;
}

export async function openOrgadmin(
  config: Config,
  options: { log?: (line: string) => void } = {},
): Promise<Orgadmin> {
  const database: Database = await openDatabase({
    home: config.home,
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  try {
    const secrets = loadSecretBox({
      home: config.home,
      ...(config.secretKey ? { key: config.secretKey } : {}),
    });
    const store = createPostgresStore(database.pool, { secrets });
    const defaultTenant = defaultTenantCredentials(config);
    const tenants = new Map<string, Auth0Tenant>();
    const tenantFor = async (domain: string): Promise<Auth0Tenant> => {
      let tenant = tenants.get(domain);
      if (!tenant) {
        const credentials =
          domain === defaultTenant.domain ? defaultTenant : await store.getTenantByDomain(domain);
        if (!credentials)
          throw new OrgadminError('tenant.not_registered', `no registered tenant has the domain ${domain}`);
        tenant = createSdkTenant({ ...credentials, rateLimits: { profile: config.rateLimits } });
        tenants.set(domain, tenant);
      }
      return tenant;
    };
    const tenantForSpec = async (spec: OrgSpec, actor: string): Promise<string> => {
      if (spec.isolation !== 'dedicated-tenant') return defaultTenant.domain;
      const name = spec.tenant ?? spec.name;
      const registered = await store.getTenant(name);
      if (registered) return registered.domain;
      const local = config.auth0 ? undefined : localConnection(config);
      if (!local) {
        throw new OrgadminError(
          'tenant.not_registered',
          `tenant ${name} is not registered (orgadmin tenant add ${name} …)`,
        );
      }
      const created = await createLocalTenant(local, name);
      await store.registerTenant({ name, ...created }, actor);
      return created.domain;
    };
    const findTenantForSpec = async (spec: OrgSpec): Promise<string | undefined> =>
      spec.isolation === 'dedicated-tenant'
        ? (await store.getTenant(spec.tenant ?? spec.name))?.domain
        : defaultTenant.domain;
    return {
      config,
      store,
      defaultTenant,
      engine: { store, tenantFor, ...(options.log ? { log: options.log } : {}) },
      tenantForSpec,
      findTenantForSpec,
      close: () => database.close(),
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
