/**
 * The one place where orgadmin's parts are wired together: configuration → database and store → the Auth0 tenant
 * (a real one from AUTH0_*, or the auth0-local tenant `orgadmin start` runs) → the engine's dependencies. Faces (CLI,
 * later HTTP) ask for this and never construct adapters themselves.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { createSdkTenant } from './adapters/auth0/sdk-tenant.js';
import { openDatabase, type Database } from './adapters/postgres/database.js';
import { createPostgresStore } from './adapters/postgres/postgres-store.js';
import { loadSecretBox } from './adapters/postgres/secret-box.js';
import type { Config } from './config/config.js';
import type { EngineDeps } from './engine/run-executor.js';
import type { Auth0Tenant } from './ports/auth0-tenant.js';
import type { Store } from './ports/store.js';

export interface TenantCredentials {
  domain: string;
  clientId: string;
  clientSecret: string;
}

/** Where `orgadmin start` leaves the credentials of its auth0-local tenant for other orgadmin processes. */
export const localConnectionFile = (home: string): string => join(home, 'auth0-local', 'connection.json');

export function defaultTenantCredentials(config: Config): TenantCredentials {
  if (config.auth0) return config.auth0;
  const file = localConnectionFile(config.home);
  if (!existsSync(file)) {
    throw new Error(
      'no Auth0 tenant configured: set AUTH0_DOMAIN, AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET, or run `npm start` (auth0-local) first',
    );
  }
  return JSON.parse(readFileSync(file, 'utf8')) as TenantCredentials;
}

export interface Orgadmin {
  config: Config;
  store: Store;
  /** The tenant organizations go to unless their spec names a dedicated one. */
  defaultTenant: TenantCredentials;
  engine: EngineDeps;
  close(): Promise<void>;
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
    const tenantFor = (domain: string): Auth0Tenant => {
      let tenant = tenants.get(domain);
      if (!tenant) {
        if (domain !== defaultTenant.domain) throw new Error(`tenant ${domain} is not registered`);
        tenant = createSdkTenant(defaultTenant);
        tenants.set(domain, tenant);
      }
      return tenant;
    };
    return {
      config,
      store,
      defaultTenant,
      engine: { store, tenantFor, ...(options.log ? { log: options.log } : {}) },
      close: () => database.close(),
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
