/**
 * One contender's tenant: a fresh auth0-local (in this process) with the benchmark's rate-limit profile and time
 * scale, holding the shared application(s) — "Portal", or "Portal-01" … when the organizations are spread over
 * several (see `sharedApps`) — created through the seed, before the run, with no callback URL.
 * After the run, `measure()` reads auth0-local's request log and the tenant's tables: the calls the contender made
 * per endpoint group, the theoretical bound they imply, the organizations that are not complete, the lost URLs.
 */
import { writeFileSync } from 'node:fs';

import { startAuth0Local } from '../../auth0-local/index.js';
import { tables } from '../../auth0-local/model.js';
import {
  endpointGroup,
  RATE_PROFILES,
  type BucketSpec,
  type RateProfileName,
} from '../../src/adapters/auth0/rate-budget.js';

export const PORTAL = 'Portal';
/** Auth0 accepts at most 100 Allowed Callback URLs per application (auth0-local enforces the same cap). */
export const MAX_CALLBACKS_PER_APP = 100;
const MANAGEMENT_API = '/api/v2';

export type Local = Awaited<ReturnType<typeof startAuth0Local>>;

export interface BenchTenant {
  local: Local;
  /** The shared applications' client ids, by name. */
  appIds: Map<string, string>;
  /** Index into the request log where the contender's calls start. */
  from: number;
  close(): Promise<void>;
}

export const callbackUrl = (name: string): string => `https://${name}.example.com/callback`;
export const databaseConnectionName = (name: string): string => `${name}-db`;

/** One organization of the benchmark and the shared application its callback URL goes to. */
export interface OrgToProvision {
  name: string;
  app: string;
  url: string;
}

/**
 * The organizations `bench-00000` … and their shared application: ONE ("Portal") when `apps` is 1, else `apps`
 * applications "Portal-01" … each taking a consecutive block of organizations (so that, as with one application,
 * the organizations provisioned at the same time contend for the same one).
 */
export function organizations(count: number, apps: number): { orgs: OrgToProvision[]; apps: string[] } {
  const appNames =
    apps === 1
      ? [PORTAL]
      : Array.from({ length: apps }, (_, i) => `${PORTAL}-${String(i + 1).padStart(2, '0')}`);
  const block = Math.ceil(count / apps);
  const orgs = Array.from({ length: count }, (_, i) => {
    const name = `bench-${String(i).padStart(5, '0')}`;
    return { name, app: appNames[Math.floor(i / block)]!, url: callbackUrl(name) };
  });
  return { orgs, apps: appNames };
}

export async function freshTenant(options: {
  name: string;
  tlsDir: string;
  profile: RateProfileName;
  timeScale: number;
  apps: string[];
}): Promise<BenchTenant> {
  const local = await startAuth0Local({
    name: options.name,
    tlsDir: options.tlsDir,
    rateLimits: options.profile,
    timeScale: options.timeScale,
    log: () => undefined,
    seed: { clients: options.apps.map((name) => ({ name, app_type: 'regular_web', callbacks: [] })) },
  });
  const data = local.runtime(local.name)?.data;
  const appIds = new Map(
    data
      ? [...tables.clients(data).values()]
          .filter((client) => options.apps.includes(client.name))
          .map((client) => [client.name, client.client_id])
      : [],
  );
  if (appIds.size !== options.apps.length) {
    await local.close();
    throw new Error('a seeded shared application is missing');
  }
  return {
    local,
    appIds,
    from: local.requestLog.list({ tenant: local.name }).length,
    close: () => local.close(),
  };
}

/** Organizations in the tenant now (for progress lines while an external tool runs). */
export function organizationCount(tenant: BenchTenant): number {
  const data = tenant.local.runtime(tenant.local.name)?.data;
  return data ? tables.organizations(data).size : 0;
}

/** Logs progress every 5 s until stopped: organizations in the tenant, and the rate so far. */
export function watchProgress(
  tenant: BenchTenant,
  label: string,
  total: number,
  log: (line: string) => void,
): () => void {
  const started = performance.now();
  const timer = setInterval(() => {
    const seconds = (performance.now() - started) / 1000;
    const count = organizationCount(tenant);
    log(
      `${label}: ${count}/${total} organizations in the tenant after ${seconds.toFixed(0)} s, ${((count / seconds) * 60).toFixed(0)} orgs/min`,
    );
  }, 5000);
  return () => clearInterval(timer);
}

export interface BucketUse {
  /** `global` or an endpoint group of rate-budget.ts. */
  bucket: string;
  /** The bucket's sustained rate, requests per second before time scaling. */
  perSecond: number;
  /** Calls admitted against it (429s take no token), per organization. */
  callsPerOrg: number;
  /** perSecond × timeScale × 60 / callsPerOrg. */
  orgsPerMinute: number;
}

export interface TenantMeasurement {
  /** Every Management API request (429s included), the token endpoint excluded. */
  calls: number;
  http429: number;
  /** GET /clients (the list, where the shared clients' callbacks are read too) and GET/PATCH /clients/<shared app>. */
  listCalls: number;
  /** listCalls by kind: GET /clients (pages), GET /clients/<shared app>, PATCH /clients/<shared app>. */
  listBreakdown: { listGets: number; appGets: number; appPatches: number };
  /** Admitted calls per method and endpoint group, e.g. "POST organizations:write". */
  callsByGroup: Record<string, number>;
  /** When (epoch ms) the first write (not a GET) of the contender reached auth0-local. */
  firstWriteAt: number | undefined;
  /** 429s per method and endpoint group. */
  rejectedByGroup: Record<string, number>;
  /** Every limited bucket the contender drew on, tightest first; the first one's orgsPerMinute is the bound. */
  buckets: BucketUse[];
  /** Infinity when nothing the contender called is limited (profile `unlimited`). */
  bound: number;
  /** Organizations (by name) missing their organization, database connection, or either enablement. */
  incomplete: string[];
  /** Organizations whose callback URL is not on their shared application at the end. */
  missingUrls: string[];
}

export function measure(
  tenant: BenchTenant,
  orgs: OrgToProvision[],
  profile: RateProfileName,
  timeScale: number,
  /** Write the contender's Management API calls here, one JSON object a line. */
  saveTo?: string,
): TenantMeasurement {
  const { local, appIds } = tenant;
  const count = orgs.length;
  const calls = local.requestLog
    .list({ tenant: local.name })
    .slice(tenant.from)
    .filter((entry) => entry.path.startsWith(`${MANAGEMENT_API}/`));
  if (saveTo) writeFileSync(saveTo, calls.map((call) => `${JSON.stringify(call)}\n`).join(''));
  const rejectedByGroup: Record<string, number> = {};
  for (const call of calls.filter((entry) => entry.status === 429)) {
    const key = `${call.method} ${endpointGroup(call.method, call.path.slice(MANAGEMENT_API.length))}`;
    rejectedByGroup[key] = (rejectedByGroup[key] ?? 0) + 1;
  }
  const appPaths = new Set([...appIds.values()].map((id) => `${MANAGEMENT_API}/clients/${id}`));
  const admitted = calls.filter((call) => call.status !== 429);
  const callsByGroup: Record<string, number> = {};
  const byBucket = new Map<string, number>();
  for (const call of admitted) {
    const group = endpointGroup(call.method, call.path.slice(MANAGEMENT_API.length));
    const key = `${call.method} ${group}`;
    callsByGroup[key] = (callsByGroup[key] ?? 0) + 1;
    byBucket.set(group, (byBucket.get(group) ?? 0) + 1);
  }
  const spec = RATE_PROFILES[profile];
  const limited: [string, BucketSpec, number][] = [];
  if (spec.global) limited.push(['global', spec.global, admitted.length]);
  for (const [group, used] of byBucket) {
    const bucket = (spec.endpoints as Partial<Record<string, BucketSpec>>)[group];
    if (bucket) limited.push([group, bucket, used]);
  }
  const buckets = limited
    .filter(([, , used]) => used > 0)
    .map(([bucket, { perSecond }, used]) => ({
      bucket,
      perSecond,
      callsPerOrg: used / count,
      orgsPerMinute: (perSecond * timeScale * 60 * count) / used,
    }))
    .sort((a, b) => a.orgsPerMinute - b.orgsPerMinute);

  const listGets = calls.filter(
    (call) => call.method === 'GET' && call.path === `${MANAGEMENT_API}/clients`,
  ).length;
  const firstWrite = calls.find((call) => call.method !== 'GET');
  const appGets = calls.filter((call) => call.method === 'GET' && appPaths.has(call.path)).length;
  const appPatches = calls.filter((call) => call.method === 'PATCH' && appPaths.has(call.path)).length;

  const data = local.runtime(local.name)?.data;
  if (!data) throw new Error(`tenant ${local.name} is gone`);
  const orgsByName = new Map([...tables.organizations(data).values()].map((org) => [org.name, org]));
  const connectionsByName = new Map(
    [...tables.connections(data).values()].map((connection) => [connection.name, connection]),
  );
  const callbacksOf = new Map(
    [...appIds].map(([name, id]) => {
      const urls: unknown = tables.clients(data).get(id)?.['callbacks'];
      const list = Array.isArray(urls) ? urls.filter((url): url is string => typeof url === 'string') : [];
      return [name, new Set(list)] as const;
    }),
  );
  const incomplete = orgs.filter(({ name, app }) => {
    const org = orgsByName.get(name);
    const connection = connectionsByName.get(databaseConnectionName(name));
    if (!org || !connection) return true;
    const onOrg = tables.orgConnections(data, org.id).has(connection.id);
    const forApp = tables.connectionClients(data, connection.id).has(appIds.get(app) ?? '');
    return !onOrg || !forApp;
  });
  return {
    calls: calls.length,
    http429: calls.length - admitted.length,
    listCalls: listGets + appGets + appPatches,
    listBreakdown: { listGets, appGets, appPatches },
    callsByGroup,
    rejectedByGroup,
    firstWriteAt: firstWrite ? Date.parse(firstWrite.time) : undefined,
    buckets,
    bound: buckets[0]?.orgsPerMinute ?? Number.POSITIVE_INFINITY,
    incomplete: incomplete.map((org) => org.name),
    missingUrls: orgs.filter((org) => !callbacksOf.get(org.app)?.has(org.url)).map((org) => org.name),
  };
}
