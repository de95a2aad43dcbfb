/**
 * The one place where orgadmin's parts are wired together: configuration → database and store → the Auth0 tenants
 * (the default one from AUTH0_*, or the auth0-local tenant `orgadmin start` runs; dedicated tenants from the
 * registry) → the engine's dependencies → the portal (HTTP API, sign-in, web UI). Faces ask for these and never
 * construct adapters.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import type { Hono } from 'hono';

// The portal's and GitOps mode's modules are imported where they are used (startPortal, serveMetrics, GitOps
// mode): a process that needs neither — `worker`, most commands — never loads them (hono, openid-client,
// simple-git, the API's schemas), which would cost it memory for its whole life.
import type { LocalOperator, LocalPortalSetup } from './adapters/auth0/local-portal-setup.js';
import type { OidcClientSettings } from './http/sign-in.js';
import type { OrganizationService } from './services/organizations.js';
import { noteAuth0Call } from './engine/run-calls.js';
import { startWorker, type RunQueue, type Worker } from './engine/worker.js';
import { startEventDispatcher, type EventDispatcher } from './engine/event-dispatcher.js';
import { createPostgresEvents } from './adapters/postgres/postgres-events.js';
import { createSharedRateBuckets } from './adapters/postgres/shared-rate-buckets.js';
import { readGauges } from './adapters/postgres/postgres-gauges.js';
import { createPrometheusMetrics, type PrometheusMetrics } from './adapters/metrics/prometheus-metrics.js';
import type { EventOutbox } from './ports/events.js';
import { createEventService, type EventService } from './services/events.js';
import type { GitopsService } from './services/gitops.js';

import { createManagementClient, createSdkTenant } from './adapters/auth0/sdk-tenant.js';
import { openDatabase, type Database } from './adapters/postgres/database.js';
import { createJobQueue, type JobQueueOptions } from './adapters/postgres/job-queue.js';
import { createPostgresAppHooks } from './adapters/postgres/postgres-app-hooks.js';
import { sendWebhook } from './adapters/webhooks/webhook-sender.js';
import { createAppHookService, runHooks, type AppHookService } from './services/app-hooks.js';
import { createPostgresStore } from './adapters/postgres/postgres-store.js';
import { loadSecretBox } from './adapters/postgres/secret-box.js';
import type { Config, PortalConfig } from './config/config.js';
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
  /** The tenant's name in auth0-local (its admin API addresses tenants by name). */
  tenantName?: string;
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
  /** orgadmin's database (the embedded server's URL when nothing else is configured). */
  database: Pick<Database, 'pool' | 'url'>;
  /** The application's hook endpoints. */
  hooks: AppHookService;
  /** The lifecycle-event outbox and its delivery log. */
  events: EventService;
  /** The outbox itself, for the dispatcher. */
  outbox: EventOutbox;
  /** Counters of this process and database gauges, in Prometheus' format. */
  metrics: PrometheusMetrics;
  /** GitOps mode's repository and deployments; undefined in live mode (`ORGADMIN_MODE`). */
  gitops: GitopsService | undefined;
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
    const sharedBuckets = createSharedRateBuckets(database.pool);
    const metrics = createPrometheusMetrics({ gauges: () => readGauges(database.pool) });
    const defaultTenant = defaultTenantCredentials(config);
    const tenants = new Map<string, Auth0Tenant>();
    const tenantFor = async (domain: string): Promise<Auth0Tenant> => {
      let tenant = tenants.get(domain);
      if (!tenant) {
        const credentials =
          domain === defaultTenant.domain ? defaultTenant : await store.getTenantByDomain(domain);
        if (!credentials)
          throw new OrgadminError('tenant.not_registered', `no registered tenant has the domain ${domain}`);
        // One budget per tenant for every process of the installation (kept in PostgreSQL).
        tenant = createSdkTenant({
          ...credentials,
          rateLimits: {
            profile: config.rateLimits,
            timeScale: config.rateLimitTimeScale,
            shared: { buckets: sharedBuckets, scope: domain },
          },
          onCall: (bucket, status) => {
            metrics.auth0Call(bucket, status);
            noteAuth0Call();
          },
        });
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
    const hookStore = createPostgresAppHooks(database.pool, { secrets });
    const outbox = createPostgresEvents(database.pool, { secrets });
    const orgadmin: Orgadmin = {
      config,
      store,
      gitops: undefined,
      database: { pool: database.pool, url: database.url },
      hooks: createAppHookService(hookStore, sendWebhook),
      outbox,
      metrics,
      events: createEventService(outbox),
      defaultTenant,
      engine: {
        store,
        tenantFor,
        hooks: runHooks(hookStore, sendWebhook),
        metrics,
        ...(options.log ? { log: options.log } : {}),
      },
      tenantForSpec,
      findTenantForSpec,
      close: () => database.close(),
    };
    if (config.mode === 'gitops' && config.gitops) {
      const { gitops } = config;
      const [
        { createGitopsService },
        { createGitOrgRepository },
        { createPostgresGitopsState },
        { createOrganizationService },
      ] = await Promise.all([
        import('./services/gitops.js'),
        import('./adapters/git/git-org-repository.js'),
        import('./adapters/postgres/postgres-gitops.js'),
        import('./services/organizations.js'),
      ]);
      orgadmin.gitops = createGitopsService({
        repository: createGitOrgRepository({
          location: gitops.repository,
          branch: gitops.branch,
          workRoot: join(config.home, 'gitops'),
        }),
        state: createPostgresGitopsState(database.pool, { secrets }),
        store,
        engine: orgadmin.engine,
        env: gitops.env,
        tenant: defaultTenant.domain,
        planChange: (name, desired) =>
          createOrganizationService(orgadmin, {
            enqueue: () => Promise.reject(new Error('planning enqueues nothing')),
          }).planChange(name, desired),
        openQueue: () => openRunQueue(orgadmin, { maxConnections: 6 }),
      });
    }
    return orgadmin;
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** Serves `/metrics` on its own port (a worker has no portal); resolves once listening. */
export async function serveMetrics(
  orgadmin: Orgadmin,
  host: string,
  port: number,
  log: (line: string) => void,
): Promise<{ close(): Promise<void> }> {
  const [{ createAdaptorServer }, { metricsApp }] = await Promise.all([
    import('@hono/node-server'),
    import('./http/metrics-app.js'),
  ]);
  const token = orgadmin.config.metricsToken;
  const app = metricsApp(token ? { token, render: () => orgadmin.metrics.render() } : undefined);
  const server = createAdaptorServer({ fetch: app.fetch }) as HttpServer;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  log(`metrics at http://${host.includes(':') ? `[${host}]` : host}:${address.port}/metrics`);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Starts delivering lifecycle events from the outbox (wherever runs are executed: `worker`, `start`). */
export function startEventDelivery(
  orgadmin: Orgadmin,
  options: { log?: (line: string) => void } = {},
): EventDispatcher {
  const { events } = orgadmin.config;
  return startEventDispatcher({
    outbox: orgadmin.outbox,
    send: sendWebhook,
    retry: { baseDelayMs: events.retryBaseMs, maxDelayMs: events.retryMaxMs },
    disable: { afterFailures: events.disableAfterFailures, afterMs: events.disableAfterMs },
    ...(options.log ? { log: options.log } : {}),
  });
}

/**
 * Opens the run queue on orgadmin's database. The embedded server is joined once more for its URL (a lease of
 * its own, released on close), so this works with and without DATABASE_URL.
 */
export async function openRunQueue(
  orgadmin: Orgadmin,
  options: Omit<JobQueueOptions, 'connectionString'> = {},
): Promise<RunQueue> {
  const { config } = orgadmin;
  const database = config.databaseUrl
    ? undefined
    : await openDatabase({ home: config.home, ...(options.log ? { log: options.log } : {}) });
  try {
    const queue = await createJobQueue({
      ...options,
      connectionString: config.databaseUrl ?? database!.url,
    });
    return {
      ...queue,
      async close(closeOptions) {
        try {
          await queue.close(closeOptions);
        } finally {
          await database?.close();
        }
      },
    };
  } catch (error) {
    await database?.close();
    throw error;
  }
}

export interface Portal {
  /** Where browsers reach the portal. */
  url: string;
  app: Hono;
  service: OrganizationService;
  /** The local operators (auth0-local only): one per role, with their passwords. */
  operators: LocalOperator[];
  close(): Promise<void>;
}

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Starts the portal (HTTP API, sign-in, web UI) on orgadmin: listens first (so PORT=0 works and the public URL is
 * known), then — with auth0-local and no PORTAL_ISSUER — sets up the portal's application, API and operators in the
 * local tenant, then serves. With `worker`, this process also executes runs (`orgadmin start`); without, runs are
 * queued for `orgadmin worker` processes (`orgadmin serve`).
 */
export async function startPortal(
  orgadmin: Orgadmin,
  options: { log: (line: string) => void; worker?: { concurrency: number }; web?: boolean },
): Promise<Portal> {
  const [
    { createAdaptorServer },
    { listenForRunChanges },
    { createPostgresSessions },
    { apiRoutes },
    { createPortalApp },
    { createBearerVerifier },
    { createSignIn },
    { ensureWebBuild },
    { createOrganizationService },
  ] = await Promise.all([
    import('@hono/node-server'),
    import('./adapters/postgres/run-changes.js'),
    import('./adapters/postgres/postgres-sessions.js'),
    import('./http/api-routes.js'),
    import('./http/portal-app.js'),
    import('./http/principal.js'),
    import('./http/sign-in.js'),
    import('./http/web-build.js'),
    import('./services/organizations.js'),
  ]);
  const { config } = orgadmin;
  const { log } = options;
  let app: Hono | undefined;
  const server = createAdaptorServer({
    fetch: (request) => (app ? app.fetch(request) : new Response('starting', { status: 503 })),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.portal.port, config.portal.host, () => resolve());
  });
  const closers: (() => Promise<void>)[] = [
    () =>
      new Promise<void>((resolve) => {
        const http = server as HttpServer;
        http.closeAllConnections?.();
        http.close(() => resolve());
      }),
  ];
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const address = server.address() as AddressInfo;
    const portal: PortalConfig = config.portal.publicUrlConfigured
      ? config.portal
      : {
          ...config.portal,
          port: address.port,
          publicUrl: config.portal.publicUrl.replace(/:\d+$/, `:${address.port}`),
        };

    let oidcClient: OidcClientSettings;
    let operators: LocalOperator[] = [];
    if (config.portal.oidc) {
      oidcClient = config.portal.oidc;
    } else {
      const local = config.auth0 ? undefined : localConnection(config);
      if (!local)
        throw new Error(
          'no identity provider for operators: set PORTAL_ISSUER, PORTAL_CLIENT_ID and PORTAL_CLIENT_SECRET, or run `npm start` (auth0-local)',
        );
      const setup = await setUpLocalSignIn(config, local, portal);
      oidcClient = {
        issuer: `https://${local.domain}/`,
        clientId: setup.clientId,
        clientSecret: setup.clientSecret,
      };
      operators = setup.operators;
    }

    const queue = await openRunQueue(orgadmin);
    closers.push(() => queue.close());
    let worker: Worker | undefined;
    const service = createOrganizationService(orgadmin, {
      enqueue: async (runId) => {
        await queue.enqueue(runId);
        worker?.notify();
      },
    });
    if (options.worker) {
      const delivery = startEventDelivery(orgadmin, { log });
      closers.push(() => delivery.stop());
      worker = await startWorker({
        queue,
        concurrency: options.worker.concurrency,
        urlBatchMaxWaitMs: orgadmin.config.urlBatchMaxWaitMs,
        engine: { ...orgadmin.engine, onAdminLink: (run, url) => service.rememberAdminLink(run, url) },
        log,
        // A finished run wrote its events: deliver them now rather than at the next poll.
        onAttempt: () => delivery.notify(),
      });
      const running = worker;
      closers.push(() => running.stop());
    }
    // Bulk applies a stopped process left halfway continue at start, not only once someone reads them.
    const { createBulkApplyService } = await import('./services/bulk-apply.js');
    const bulk = createBulkApplyService({ store: orgadmin.store, organizations: service, log });
    closers.push(() => bulk.close());
    bulk.resume().catch((error: unknown) => log(`bulk apply: resuming batches failed: ${String(error)}`));
    const runChanges = await listenForRunChanges({ connectionString: orgadmin.database.url, log });
    closers.push(() => runChanges.close());
    const sessions = createPostgresSessions(orgadmin.database.pool);
    const webRoot =
      options.web === false || !existsSync(new URL('../web/index.html', import.meta.url))
        ? undefined
        : await ensureWebBuild({ log });

    const signIn = createSignIn({ portal, client: () => oidcClient, sessions, log });
    app = createPortalApp({
      routes: apiRoutes({
        orgadmin,
        service,
        bulk,
        runChanges,
        portal,
        sessions,
        sessionTimeouts: signIn.timeouts,
        log,
      }),
      signIn,
      sessions,
      bearer: createBearerVerifier({
        issuer: oidcClient.issuer,
        audience: portal.apiAudience,
        rolesClaim: portal.rolesClaim,
      }),
      publicUrl: portal.publicUrl,
      reauthMinutes: portal.reauthMinutes,
      version: PACKAGE_VERSION,
      ...(webRoot ? { webRoot } : {}),
      ...(config.metricsToken
        ? { metrics: { token: config.metricsToken, render: () => orgadmin.metrics.render() } }
        : {}),
      log,
    });
    return { url: portal.publicUrl, app, service, operators, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The local operators' passwords, kept beside auth0-local's state so a restart keeps them. */
const operatorsFile = (home: string): string => join(home, 'auth0-local', 'operators.json');

async function setUpLocalSignIn(
  config: Config,
  local: LocalConnection,
  portal: PortalConfig,
): Promise<LocalPortalSetup> {
  const { setUpLocalPortal } = await import('./adapters/auth0/local-portal-setup.js');
  const file = operatorsFile(config.home);
  const known = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LocalOperator[]) : [];
  const setup = await setUpLocalPortal({
    api: createManagementClient(local),
    publicUrl: portal.publicUrl,
    apiAudience: portal.apiAudience,
    knownPasswords: Object.fromEntries(known.map((operator) => [operator.email, operator.password])),
  });
  writeFileSync(file, JSON.stringify(setup.operators, null, 2), { mode: 0o600 });
  // auth0-local's stand-in for the Auth0 Action that puts the user's roles in a namespaced claim (README).
  if (local.adminToken && local.tenantName) {
    const response = await fetch(
      `https://${local.domain}/__admin/tenants/${encodeURIComponent(local.tenantName)}`,
      {
        method: 'PATCH',
        headers: { authorization: `Bearer ${local.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ rolesClaim: portal.rolesClaim }),
      },
    );
    if (!response.ok)
      throw new Error(
        `auth0-local refused the roles claim setting: ${response.status} ${await response.text()}`,
      );
  }
  return setup;
}
