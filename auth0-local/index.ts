/**
 * auth0-local: a local stand-in for the Auth0 Management API v2 and the sign-in side of the Authentication API
 * (OIDC authorization code + PKCE, refresh tokens, client credentials), served over HTTPS so the unmodified `auth0`
 * SDK, auth0-deploy-cli and any OIDC client can use it.
 *
 * `startAuth0Local()` starts the first tenant (creating it, or loading it from the state file) and returns its
 * credentials; more tenants, each on its own port, come from `createTenant()` or the admin API.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';

import { createAdminHandler } from './admin.js';
import { createTenantApp, type SharedContext } from './app.js';
import { ensureTlsMaterial, type TlsMaterial } from './certificates.js';
import { FaultInjector, RequestLog } from './faults.js';
import { alphanumeric, newId } from './ids.js';
import { tables } from './model.js';
import { resolveRateLimits, type RateLimitSpec } from './rate-limits.js';
import { applySeed, readSeedFile, seedDefaults, type SeedSpec } from './seed.js';
import { Store, type TenantMeta } from './state/store.js';
import { TenantRuntime } from './tenant-runtime.js';
import { newSigningKey } from './tokens.js';

export type { FaultRule, RequestLogEntry } from './faults.js';
export type { RateLimitSpec } from './rate-limits.js';
export type { SeedSpec } from './seed.js';

export interface TenantOptions {
  /** Tenant name (default: generated). */
  name?: string;
  /** Port for this tenant's listener; 0 or absent = any free port. */
  port?: number;
  /** A profile name (`free`, `self-service`, `enterprise`, `unlimited`) or explicit buckets. */
  rateLimits?: string | Partial<RateLimitSpec>;
  /** Multiplies every refill rate (10 = ten times faster than Auth0). */
  timeScale?: number;
  /** Keep the legacy `enabled_clients` field on connections (default true; false = a tenant created after Jan 2026). */
  legacyEnabledClients?: boolean;
  /** A seed spec, or the path of a YAML seed file. */
  seed?: SeedSpec | string;
  /**
   * Namespaced claim (e.g. `https://orgadmin.dev/roles`) carrying the user's role names in ID and access tokens of
   * interactive logins: the roles in the organization for an organization login, else the tenant-level roles.
   */
  rolesClaim?: string;
  /** The tenant's Allowed Logout URLs (used by `/v2/logout` without `client_id`). */
  allowedLogoutUrls?: string[];
}

/** Tenant settings changeable while running (`PATCH /__admin/tenants/{name}`); null clears the roles claim. */
export interface TenantSettings {
  rolesClaim?: string | null;
  allowedLogoutUrls?: string[];
}

/** Claims a custom claim may not replace: Auth0 refuses to let Actions set these. */
const RESERVED_CLAIMS = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'azp',
  'nonce',
  'auth_time',
  'at_hash',
  'c_hash',
  'acr',
  'amr',
  'sid',
  'scope',
  'org_id',
  'org_name',
  'permissions',
  'gty',
]);

function checkedSettings(input: TenantSettings): {
  rolesClaim?: string | null;
  allowedLogoutUrls?: string[];
} {
  const out: { rolesClaim?: string | null; allowedLogoutUrls?: string[] } = {};
  for (const key of Object.keys(input)) {
    if (key !== 'rolesClaim' && key !== 'allowedLogoutUrls') throw new Error(`unknown tenant setting ${key}`);
  }
  if (input.rolesClaim !== undefined) {
    const claim = input.rolesClaim;
    if (claim !== null && (typeof claim !== 'string' || claim.length === 0 || claim.length > 255)) {
      throw new Error('rolesClaim must be a claim name of 1 to 255 characters, or null');
    }
    if (claim !== null && RESERVED_CLAIMS.has(claim))
      throw new Error(`rolesClaim cannot be the reserved claim ${claim}`);
    out.rolesClaim = claim;
  }
  if (input.allowedLogoutUrls !== undefined) {
    const urls: unknown = input.allowedLogoutUrls;
    if (!Array.isArray(urls) || urls.some((url) => typeof url !== 'string')) {
      throw new Error('allowedLogoutUrls must be an array of URLs');
    }
    out.allowedLogoutUrls = urls as string[];
  }
  return out;
}

export interface StartAuth0LocalOptions extends TenantOptions {
  host?: string;
  /** Persist all tenants to this file (snapshot) and `<file>.log` (journal); in memory when absent. */
  stateFile?: string;
  /** Where the CA and server certificate live (default: beside the state file, else a temp folder). */
  tlsDir?: string;
  /** Bearer token for `/__admin` (default: generated). */
  adminToken?: string;
  log?: (line: string) => void;
}

export interface TenantInfo {
  name: string;
  domain: string;
  clientId: string;
  clientSecret: string;
  audience: string;
}

export interface Auth0LocalInfo extends TenantInfo {
  caCertPath: string;
  adminToken: string;
}

export class Auth0Local {
  readonly faults = new FaultInjector();
  readonly requestLog = new RequestLog();
  private readonly runtimes = new Map<string, { runtime: TenantRuntime; app: Hono }>();
  private readonly shared: SharedContext;
  readonly caCertPath: string;

  private constructor(
    readonly store: Store,
    private readonly tls: TlsMaterial,
    private readonly host: string,
    readonly adminToken: string,
    private readonly log: (line: string) => void,
  ) {
    this.caCertPath = tls.caCertPath;
    this.shared = {
      store,
      faults: this.faults,
      requestLog: this.requestLog,
      admin: createAdminHandler(this),
      log,
    };
  }

  static async start(options: StartAuth0LocalOptions = {}): Promise<Auth0Local> {
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const tlsDir =
      options.tlsDir ??
      (options.stateFile ? join(options.stateFile, '..', 'tls') : join(tmpdir(), 'orgadmin-auth0-local-tls'));
    const tls = await ensureTlsMaterial(tlsDir);
    const store = Store.open(options.stateFile);
    const local = new Auth0Local(
      store,
      tls,
      options.host ?? '127.0.0.1',
      options.adminToken ?? alphanumeric(40),
      log,
    );
    const existing = store.tenants();
    if (existing.length === 0) {
      await local.createTenant({ ...options, name: options.name ?? 'default' });
    } else {
      for (const [index, data] of existing.entries()) {
        // The first tenant honours an explicit --port; every tenant otherwise gets its previous port back.
        const port = index === 0 && options.port ? options.port : data.meta.port;
        await local.startTenant(data.meta.name, port);
      }
      // Settings given at start apply to the first tenant on every start, as to a new one, so a state folder made
      // before a setting existed picks it up.
      const [first] = existing;
      if (first && (options.rolesClaim !== undefined || options.allowedLogoutUrls !== undefined)) {
        local.updateTenantSettings(first.meta.name, {
          ...(options.rolesClaim !== undefined ? { rolesClaim: options.rolesClaim } : {}),
          ...(options.allowedLogoutUrls !== undefined
            ? { allowedLogoutUrls: options.allowedLogoutUrls }
            : {}),
        });
      }
    }
    return local;
  }

  /** The first tenant's connection details, as `orgadmin auth0-local` prints them. */
  info(): Auth0LocalInfo {
    const [first] = this.runtimes.keys();
    return { ...this.tenantInfo(first ?? ''), caCertPath: this.caCertPath, adminToken: this.adminToken };
  }

  tenantInfo(name: string): TenantInfo {
    const entry = this.runtimes.get(name);
    if (!entry) throw new Error(`no tenant named ${name}`);
    const { runtime } = entry;
    return {
      name,
      domain: runtime.domain,
      clientId: runtime.data.meta.managementClientId,
      clientSecret: runtime.data.meta.managementClientSecret,
      audience: runtime.audience,
    };
  }

  tenants(): TenantInfo[] {
    return [...this.runtimes.keys()].map((name) => this.tenantInfo(name));
  }

  runtime(name: string): TenantRuntime | undefined {
    return this.runtimes.get(name)?.runtime;
  }

  async createTenant(options: TenantOptions = {}): Promise<TenantInfo> {
    const name = options.name ?? `tenant-${alphanumeric(8).toLowerCase()}`;
    if (this.store.tenant(name)) throw new Error(`a tenant named ${name} already exists`);
    const settings = checkedSettings({
      ...(options.rolesClaim !== undefined ? { rolesClaim: options.rolesClaim } : {}),
      ...(options.allowedLogoutUrls !== undefined ? { allowedLogoutUrls: options.allowedLogoutUrls } : {}),
    });
    const meta: TenantMeta = {
      name,
      port: 0,
      createdAt: new Date().toISOString(),
      signingKey: await newSigningKey(),
      managementClientId: newId.clientId(),
      managementClientSecret: newId.clientSecret(),
      legacyEnabledClients: options.legacyEnabledClients ?? true,
      rateLimits: resolveRateLimits(options.rateLimits, options.timeScale ?? 1) as unknown as Record<
        string,
        unknown
      >,
      ...(typeof settings.rolesClaim === 'string' ? { rolesClaim: settings.rolesClaim } : {}),
      ...(settings.allowedLogoutUrls ? { allowedLogoutUrls: settings.allowedLogoutUrls } : {}),
    };
    this.store.putTenant(meta);
    const { runtime, app } = await this.startTenant(name, options.port ?? 0);
    seedDefaults(runtime);
    this.store.flush();
    if (options.seed) {
      const spec = typeof options.seed === 'string' ? readSeedFile(options.seed) : options.seed;
      await applySeed(app, runtime, spec);
      this.store.flush();
    }
    return this.tenantInfo(name);
  }

  async deleteTenant(name: string): Promise<boolean> {
    const entry = this.runtimes.get(name);
    if (!entry) return false;
    this.runtimes.delete(name);
    await closeServer(entry.runtime.server);
    this.store.deleteTenant(name);
    this.store.flush();
    return true;
  }

  setRateLimits(name: string, input: string | Partial<RateLimitSpec>): RateLimitSpec {
    const entry = this.runtimes.get(name);
    if (!entry) throw new Error(`no tenant named ${name}`);
    const spec = resolveRateLimits(
      input,
      typeof input === 'string' ? entry.runtime.limiter.spec.timeScale : 1,
    );
    entry.runtime.limiter.configure(spec, Date.now());
    const data = entry.runtime.data;
    this.store.putTenant({ ...data.meta, rateLimits: spec as unknown as Record<string, unknown> });
    this.store.flush();
    return spec;
  }

  /** A tenant's sign-in settings (the roles claim and the tenant's Allowed Logout URLs). */
  tenantSettings(name: string): { rolesClaim: string | null; allowedLogoutUrls: string[] } {
    const entry = this.runtimes.get(name);
    if (!entry) throw new Error(`no tenant named ${name}`);
    const { meta } = entry.runtime.data;
    return { rolesClaim: meta.rolesClaim ?? null, allowedLogoutUrls: meta.allowedLogoutUrls ?? [] };
  }

  /** Changes a tenant's sign-in settings (journaled like any other write); takes effect on the next token. */
  updateTenantSettings(
    name: string,
    input: TenantSettings,
  ): { rolesClaim: string | null; allowedLogoutUrls: string[] } {
    const entry = this.runtimes.get(name);
    if (!entry) throw new Error(`no tenant named ${name}`);
    const settings = checkedSettings(input);
    const { rolesClaim: previous, ...meta } = entry.runtime.data.meta;
    const rolesClaim = settings.rolesClaim === undefined ? previous : (settings.rolesClaim ?? undefined);
    this.store.putTenant({
      ...meta,
      ...(rolesClaim !== undefined ? { rolesClaim } : {}),
      ...(settings.allowedLogoutUrls !== undefined ? { allowedLogoutUrls: settings.allowedLogoutUrls } : {}),
    });
    this.store.flush();
    return this.tenantSettings(name);
  }

  /** Every tenant back to its freshly seeded state, keeping its name, port, credentials and settings. */
  reset(): void {
    for (const { runtime } of this.runtimes.values()) {
      for (const table of [...runtime.data.tables.keys()]) runtime.data.dropTable(table);
      runtime.signin.clear();
      seedDefaults(runtime);
    }
    this.faults.clear();
    this.requestLog.clear();
    this.store.flush();
  }

  /** A JSON dump of one tenant's tables (all tenants when no name is given). */
  dump(name?: string): Record<string, Record<string, unknown[]>> {
    const out: Record<string, Record<string, unknown[]>> = {};
    for (const data of this.store.tenants()) {
      if (name !== undefined && data.meta.name !== name) continue;
      const tablesOut: Record<string, unknown[]> = {};
      for (const [tableName, table] of data.tables) tablesOut[tableName] = [...table.values()];
      out[data.meta.name] = tablesOut;
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.runtimes.values()].map(({ runtime }) => closeServer(runtime.server)));
    this.runtimes.clear();
    this.store.close();
  }

  private async startTenant(name: string, port: number): Promise<{ runtime: TenantRuntime; app: Hono }> {
    const data = this.store.tenant(name);
    if (!data) throw new Error(`no tenant named ${name}`);
    const server = createServer({ key: this.tls.key, cert: this.tls.cert, keepAliveTimeout: 65_000 });
    const boundPort = await listen(server, port, this.host).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE' || port === 0) throw error;
      this.log(`auth0-local: port ${port} is taken; tenant ${name} moves to a free port`);
      return listen(server, 0, this.host);
    });
    if (data.meta.port !== boundPort) this.store.putTenant({ ...data.meta, port: boundPort });
    const runtime = new TenantRuntime(data, `${this.host}:${boundPort}`);
    runtime.server = server;
    rebindManagementApi(runtime);
    const app = createTenantApp(runtime, this.shared);
    const listener = getRequestListener(app.fetch);
    server.on('request', (request, response) => void listener(request, response));
    this.runtimes.set(name, { runtime, app: app as unknown as Hono });
    this.store.flush();
    return { runtime, app: app as unknown as Hono };
  }
}

/**
 * The Management API's identifier is the tenant's own URL (`https://<domain>/api/v2/`). A tenant that had to move to
 * another port takes its Management API, and the client grants for it, along, so existing credentials keep working.
 */
function rebindManagementApi(runtime: TenantRuntime): void {
  const servers = tables.resourceServers(runtime.data);
  const system = [...servers.values()].find((server) => server.is_system === true);
  if (!system || system.identifier === runtime.audience) return;
  const previous = system.identifier;
  servers.put(system.id, { ...system, identifier: runtime.audience });
  const grants = tables.clientGrants(runtime.data);
  for (const grant of [...grants.values()])
    if (grant.audience === previous) grants.put(grant.id, { ...grant, audience: runtime.audience });
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Starts auth0-local; the returned handle carries the first tenant's credentials and `close()`. */
export async function startAuth0Local(
  options: StartAuth0LocalOptions = {},
): Promise<Auth0Local & Auth0LocalInfo> {
  const local = await Auth0Local.start(options);
  return Object.assign(local, local.info());
}
